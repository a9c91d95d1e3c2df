import Foundation
import ScoringCore

/// One scoring run: which model scored which file, as of when.
public struct RunInfo: Codable, Sendable, Equatable {
    /// The business date the scores describe (YYYY-MM-DD); one run per date.
    public var asOf: String
    /// The model's "sha256:…" checksum: two runs compare like with like only when it is equal.
    public var modelChecksum: String
    public var modelFile: String
    public var dataFile: String?
    /// The model's customer id column (`schema.id`).
    public var idColumn: String
    /// Input columns stored per customer: annual contract value and days late on invoices.
    public var revenueColumn: String?
    public var lateColumn: String?
    /// "probability" or "points".
    public var scale: String
    /// Band labels, best first (band_rank indexes it); empty when the model has no bands.
    public var bands: [String]
    /// When the run was written (ISO 8601 UTC).
    public var scoredAt: String
    public var rowCount: Int
    /// The model's metrics (column and display name), in the order of each score's `metrics`;
    /// empty for runs recorded before the history kept them (schema version 1).
    public var metrics: [MetricName] = []

    public init(asOf: String, modelChecksum: String, modelFile: String, dataFile: String? = nil, idColumn: String,
                revenueColumn: String? = nil, lateColumn: String? = nil, scale: String = "probability",
                bands: [String] = [], scoredAt: String = HistoryDate.timestamp(), rowCount: Int = 0) {
        self.asOf = asOf; self.modelChecksum = modelChecksum; self.modelFile = modelFile; self.dataFile = dataFile
        self.idColumn = idColumn; self.revenueColumn = revenueColumn; self.lateColumn = lateColumn
        self.scale = scale; self.bands = bands; self.scoredAt = scoredAt; self.rowCount = rowCount
    }

    /// The run of `model` (its id column, scale, bands and checksum).
    public init(asOf: String, model: ModelArtifact, modelFile: String, dataFile: String?,
                revenueColumn: String? = nil, lateColumn: String? = nil, idColumn: String? = nil) throws {
        guard let id = idColumn ?? model.schema.id else {
            throw HistoryError(path: modelFile, problem: "the model has no customer id column, and the score history keys every score by customer",
                               fix: "score with --id COLUMN naming the customer id column (or refit with --id)")
        }
        let checksum = try model.checksum ?? model.computedChecksum()
        self.init(asOf: asOf, modelChecksum: checksum, modelFile: modelFile, dataFile: dataFile, idColumn: id,
                  revenueColumn: revenueColumn, lateColumn: lateColumn,
                  scale: model.scoring?.scale.kind.rawValue ?? ScoreScale.Kind.probability.rawValue,
                  bands: model.scoring?.bands.map(\.label) ?? [])
        metrics = Self.metrics(of: model)
    }

    /// The model's metrics, with the levels a categorical one was fitted on.
    public static func metrics(of model: ModelArtifact) -> [MetricName] {
        model.schema.features.map { f in
            MetricName(metric: f.column, name: f.displayName ?? f.column,
                       kind: f.kind == .numeric ? "number" : f.kind == .categorical ? "level" : "group",
                       levels: f.kind == .categorical ? (f.levels ?? []) + (f.pooledLevels ?? []) : nil)
        }
    }
}

/// One metric of a run's model, and how its values are kept per customer.
public struct MetricName: Codable, Sendable, Equatable {
    public var metric: String
    public var name: String
    /// "number" (the value as a 32-bit float), "level" (an index into `levels`) or "group" (none).
    public var kind: String
    /// The level texts a "level" metric's values index, in the order first seen.
    public var levels: [String]?
    public init(metric: String, name: String, kind: String, levels: [String]? = nil) {
        self.metric = metric; self.name = name; self.kind = kind; self.levels = levels
    }
}

/// One metric of a customer's score in a run: the value scored (as text) and its part of the
/// log-odds of churn against the average customer (additive in η on every scale).
public struct MetricPart: Sendable, Equatable {
    public var value: String
    public var logOdds: Double
    public init(value: String, logOdds: Double) { self.value = value; self.logOdds = logOdds }
}

/// Every metric's log-odds part and value per customer, kept small (8 bytes a metric: a 32-bit float
/// of the part and one of the value or level index, NaN when missing), with the run's level texts.
/// Values show as "4.1 → 2.3" in a trend: seven significant digits are plenty there.
public struct MetricRecorder: Sendable {
    public private(set) var metrics: [MetricName]
    private var levelIndex: [[String: Int]]

    public init(metrics: [MetricName]) {
        self.metrics = metrics
        levelIndex = metrics.map { m in Dictionary((m.levels ?? []).enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }) }
    }

    /// The value slot of metric `j`: a number, or the index of a level text (added when new).
    public mutating func cell(_ j: Int, number: Double?, level: String?) -> Float {
        if let number { return Float(number) }
        guard let level, metrics[j].kind == "level" else { return .nan }
        if let k = levelIndex[j][level] { return Float(k) }
        let k = metrics[j].levels?.count ?? 0
        metrics[j].levels = metrics[j].levels ?? []
        metrics[j].levels!.append(level)
        levelIndex[j][level] = k
        return Float(k)
    }

    /// The cells of one customer as text values and log-odds parts, for a run's `metrics`.
    public static func parts(_ cells: [Float], metrics: [MetricName]) -> [MetricPart] {
        guard cells.count == 2 * metrics.count else { return [] }
        return metrics.indices.map { j in
            let v = cells[2 * j + 1]
            var text = ""
            if !v.isNaN {
                switch metrics[j].kind {
                case "number": text = v == v.rounded() && abs(v) < 1e7 ? String(Int(v)) : "\(v)"
                case "level": text = metrics[j].levels.flatMap { Int(v) < $0.count ? $0[Int(v)] : nil } ?? ""
                default: break
                }
            }
            return MetricPart(value: text, logOdds: Double(cells[2 * j]))
        }
    }

    /// Cells as stored: little-endian 32-bit floats.
    static func blob(_ cells: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(cells.count * 4)
        for c in cells { withUnsafeBytes(of: c.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    static func cells(_ blob: [UInt8]) -> [Float] {
        stride(from: 0, to: blob.count - blob.count % 4, by: 4).map { k in
            Float(bitPattern: UInt32(blob[k]) | UInt32(blob[k + 1]) << 8 | UInt32(blob[k + 2]) << 16 | UInt32(blob[k + 3]) << 24)
        }
    }
}

/// A customer of a run the model could not score, and why ("csat missing").
public struct UnscoredRecord: Codable, Sendable, Equatable {
    public var customerID: String
    public var problem: String
    public init(customerID: String, problem: String) { self.customerID = customerID; self.problem = problem }
}

/// One customer's score in one run.
public struct ScoreRecord: Codable, Sendable, Equatable {
    public var customerID: String
    public var churnProbability: Double
    public var healthScore: Double
    public var band: String?
    /// 0 = the best band; nil when the model has no bands.
    public var bandRank: Int?
    /// The metrics costing the most points, worst first.
    public var reasons: [Contribution]
    /// Annual contract value, when the run stored a revenue column.
    public var revenue: Double?
    /// Days late on invoices, when the run stored a late column.
    public var daysLate: Double?
    /// Per metric of the run, its log-odds part and value (`MetricRecorder`); empty when not stored.
    public var metricCells: [Float] = []

    /// Equal field by field, the cells by bit pattern (a missing value is NaN).
    public static func == (a: ScoreRecord, b: ScoreRecord) -> Bool {
        a.customerID == b.customerID && a.churnProbability == b.churnProbability && a.healthScore == b.healthScore
            && a.band == b.band && a.bandRank == b.bandRank && a.reasons == b.reasons && a.revenue == b.revenue
            && a.daysLate == b.daysLate && a.metricCells.map(\.bitPattern) == b.metricCells.map(\.bitPattern)
    }

    public init(customerID: String, churnProbability: Double, healthScore: Double, band: String? = nil, bandRank: Int? = nil,
                reasons: [Contribution] = [], revenue: Double? = nil, daysLate: Double? = nil, metricCells: [Float] = []) {
        self.customerID = customerID; self.churnProbability = churnProbability; self.healthScore = healthScore
        self.band = band; self.bandRank = bandRank; self.reasons = reasons; self.revenue = revenue; self.daysLate = daysLate
        self.metricCells = metricCells
    }

    /// Records from the scorer's explanations, one per row in order; `bands` best first; with a
    /// recorder, every metric's points and value (values read back from the explanation's text).
    public static func from(_ explanations: [Explanation], ids: [String], bands: [String],
                            revenue: [Double?]? = nil, daysLate: [Double?]? = nil) -> [ScoreRecord] {
        var none: MetricRecorder? = nil
        return from(explanations, ids: ids, bands: bands, revenue: revenue, daysLate: daysLate, recorder: &none)
    }

    /// `logOdds`: per row, each metric's log-odds part (`ScoringPlan.score(contributionsInLogOdds:)`).
    public static func from(_ explanations: [Explanation], ids: [String], bands: [String],
                            revenue: [Double?]? = nil, daysLate: [Double?]? = nil, recorder: inout MetricRecorder?,
                            logOdds: [[Double]] = []) -> [ScoreRecord] {
        precondition(ids.count == explanations.count, "one id per explanation")
        var rank: [String: Int] = [:]
        for (i, b) in bands.enumerated() where rank[b] == nil { rank[b] = i }
        return explanations.enumerated().map { i, e in
            var cells: [Float] = []
            if recorder != nil, i < logOdds.count {
                for (j, c) in e.contributions.enumerated() {
                    let number = recorder!.metrics[j].kind == "number" ? Double(c.value) : nil
                    cells += [Float(logOdds[i][j]), recorder!.cell(j, number: number, level: c.value.isEmpty ? nil : c.value)]
                }
            }
            return ScoreRecord(customerID: ids[i], churnProbability: e.score.churnProbability, healthScore: e.score.healthScore,
                               band: e.score.band, bandRank: e.score.band.flatMap { rank[$0] }, reasons: e.reasons,
                               revenue: revenue?[i], daysLate: daysLate?[i], metricCells: cells)
        }
    }

    /// The reasons as `Contribution`'s JSON (keys sorted), written directly: a history of a million
    /// customers writes a million of these, and the generic encoder took a third of the run.
    static func reasonsJSON(_ reasons: [Contribution]) -> String {
        var w = JSONWriter(capacity: 2 + 96 * reasons.count)
        w.raw("[")
        for (i, r) in reasons.enumerated() {
            w.raw(i == 0 ? "{\"displayName\":" : ",{\"displayName\":")
            w.string(r.displayName)
            w.raw(",\"metric\":")
            w.string(r.metric)
            w.raw(",\"points\":")
            w.number(r.points)
            w.raw(",\"value\":")
            w.string(r.value)
            w.raw("}")
        }
        w.raw("]")
        return w.text
    }

    static func reasons(fromJSON text: String?) -> [Contribution] {
        guard let text, let data = text.data(using: .utf8) else { return [] }
        return (try? JSONDecoder().decode([Contribution].self, from: data)) ?? []
    }
}
