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
        metrics = model.schema.features.map { MetricName(metric: $0.column, name: $0.displayName ?? $0.column) }
    }
}

public struct MetricName: Codable, Sendable, Equatable {
    public var metric: String
    public var name: String
    public init(metric: String, name: String) { self.metric = metric; self.name = name }
}

/// One metric of a customer's score in a run: the value scored and its points against the average
/// customer. Stored as a `[value, points]` pair, aligned with the run's `metrics`, to keep runs small.
public struct MetricPoints: Codable, Sendable, Equatable {
    public var value: String
    public var points: Double
    public init(value: String, points: Double) { self.value = value; self.points = points }

    public init(from decoder: Decoder) throws {
        var c = try decoder.unkeyedContainer()
        value = try c.decode(String.self)
        points = try c.decode(Double.self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(value)
        try c.encode(points)
    }
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
    /// Every metric's value and points, in the run's `metrics` order (empty when not stored).
    public var metrics: [MetricPoints] = []

    public init(customerID: String, churnProbability: Double, healthScore: Double, band: String? = nil, bandRank: Int? = nil,
                reasons: [Contribution] = [], revenue: Double? = nil, daysLate: Double? = nil, metrics: [MetricPoints] = []) {
        self.customerID = customerID; self.churnProbability = churnProbability; self.healthScore = healthScore
        self.band = band; self.bandRank = bandRank; self.reasons = reasons; self.revenue = revenue; self.daysLate = daysLate
        self.metrics = metrics
    }

    /// Records from the scorer's explanations, one per row in order; `bands` best first.
    public static func from(_ explanations: [Explanation], ids: [String], bands: [String],
                            revenue: [Double?]? = nil, daysLate: [Double?]? = nil) -> [ScoreRecord] {
        precondition(ids.count == explanations.count, "one id per explanation")
        var rank: [String: Int] = [:]
        for (i, b) in bands.enumerated() where rank[b] == nil { rank[b] = i }
        return explanations.enumerated().map { i, e in
            ScoreRecord(customerID: ids[i], churnProbability: e.score.churnProbability, healthScore: e.score.healthScore,
                        band: e.score.band, bandRank: e.score.band.flatMap { rank[$0] }, reasons: e.reasons,
                        revenue: revenue?[i], daysLate: daysLate?[i],
                        metrics: e.contributions.map { MetricPoints(value: $0.value, points: $0.points) })
        }
    }

    static func metricsJSON(_ metrics: [MetricPoints]) -> String {
        (try? JSONEncoder().encode(metrics)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func metrics(fromJSON text: String?) -> [MetricPoints] {
        guard let text, let data = text.data(using: .utf8) else { return [] }
        return (try? JSONDecoder().decode([MetricPoints].self, from: data)) ?? []
    }

    static func reasonsJSON(_ reasons: [Contribution]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(reasons)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func reasons(fromJSON text: String?) -> [Contribution] {
        guard let text, let data = text.data(using: .utf8) else { return [] }
        return (try? JSONDecoder().decode([Contribution].self, from: data)) ?? []
    }
}
