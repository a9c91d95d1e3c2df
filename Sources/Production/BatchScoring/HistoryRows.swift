import Foundation
import History
import ScoringCore
import Tabular

/// The rows of a `score --db` run, handed to the history piece by piece: one record per scored row,
/// one unscored record (with its problem) per row the model could not score. Keeps only what the
/// whole run needs: each id's first line (a repeated id is reported with all its lines, and the
/// run is not recorded), the metric levels seen, and the snapshot values.
public struct HistoryRows {
    public let idColumn: String?
    public let plan: ScoringPlan
    public let revenue: String?
    public let late: String?
    public let time: String?
    private var firstLine: [String: Int32] = [:]
    /// Ids seen more than once, with every line, in the order the repeats were found.
    private var repeated: [String: [Int]] = [:]
    private var repeatedOrder: [String] = []
    public private(set) var unscoredCount = 0
    /// Every metric's points and value per customer, for trend's "what changed".
    public var metrics: MetricRecorder
    /// Distinct values of the snapshot column (for the repeated-id advice).
    public var snapshots: Set<String> = []

    public init(idColumn: String?, plan: ScoringPlan, model: ModelArtifact, revenue: String?, late: String?, time: String?) {
        self.idColumn = idColumn; self.plan = plan; self.revenue = revenue; self.late = late; self.time = time
        metrics = MetricRecorder(metrics: RunInfo.metrics(of: model))
    }

    /// The first id that occurs more than once, with its lines.
    public var firstRepeatedID: (String, [Int])? {
        repeatedOrder.first.map { ($0, repeated[$0]!.sorted()) }
    }

    /// Whether the id is new to the run; a repeat is noted (with its line), and nothing more is
    /// written, since the run will be refused.
    private mutating func isFirst(_ id: String, line: Int) -> Bool {
        guard let first = firstLine[id] else {
            firstLine[id] = Int32(clamping: line)
            return repeatedOrder.isEmpty
        }
        if repeated[id] == nil { repeated[id] = [Int(first)]; repeatedOrder.append(id) }
        repeated[id]!.append(line)
        return false
    }

    public mutating func add(_ piece: ScoreFile.Piece, path: String, to writer: RunWriter) throws {
        guard let idColumn, let ids = piece.table.column(named: idColumn) else {
            throw HistoryError(path: path, problem: "no column '\(idColumn ?? "")' (the customer id column)",
                               fix: "add the customer id column to the input, or name it with --id; the score history keys every score by it")
        }
        let revenueValues = try revenue.map { try numbers(piece, column: $0, flag: "--revenue", allowNegative: false, path: path) }
        let lateValues = try late.map { try numbers(piece, column: $0, flag: "--late", allowNegative: true, path: path) }
        if let time, let t = piece.table.column(named: time), case .text(_, let levels) = t.values { snapshots.formUnion(levels) }
        let s = piece.scored
        let k = s.reasons
        var problem = 0
        for i in 0..<piece.rowCount {
            guard let id = ids.text(at: i), !id.trimmingCharacters(in: .whitespaces).isEmpty else {
                if !s.isScored(i) { continue }
                throw HistoryError(path: path, problem: "line \(piece.line(ofRow: i)): the customer id ('\(idColumn)') is missing",
                                   fix: "fill in the id, or remove the row")
            }
            let line = piece.line(ofRow: i)
            guard s.isScored(i) else {
                while problem < s.problems.count && s.problems[problem].row < i { problem += 1 }
                unscoredCount += 1
                if isFirst(id, line: line) { try writer.add(UnscoredRecord(customerID: id, problem: s.problems[problem].short)) }
                continue
            }
            guard isFirst(id, line: line) else { continue }
            var reasons: [Contribution] = []
            for r in 0..<k where s.reasonFeature[i * k + r] >= 0 {
                let j = Int(s.reasonFeature[i * k + r])
                reasons.append(Contribution(metric: plan.metrics[j], displayName: plan.displayNames[j],
                                            value: plan.valueText(feature: j, row: i, columns: piece.columns),
                                            points: s.reasonPoints[i * k + r]))
            }
            let band = s.band[i] >= 0 ? Int(s.band[i]) : nil
            var record = ScoreRecord(customerID: id, churnProbability: s.probability[i], healthScore: s.score[i],
                                     band: band.map { plan.bandLabels[$0] }, bandRank: band, reasons: reasons,
                                     revenue: revenueValues?[i] ?? nil, daysLate: lateValues?[i] ?? nil)
            let p = plan.featureCount
            if s.contributions.count == piece.rowCount * p {
                var cells = [Float](repeating: .nan, count: 2 * p)
                for j in 0..<p {
                    let (number, level) = plan.metricValue(feature: j, row: i, columns: piece.columns)
                    cells[2 * j] = Float(s.contributions[i * p + j])
                    cells[2 * j + 1] = metrics.cell(j, number: number, level: level)
                }
                record.metricCells = cells
            }
            try writer.add(record, row: line)
        }
    }

    /// A column as numbers (nil for empty cells); text that is not a number is an error naming the line.
    private func numbers(_ piece: ScoreFile.Piece, column name: String, flag: String, allowNegative: Bool, path: String) throws -> [Double?] {
        guard let column = piece.table.column(named: name) else {
            throw HistoryError(path: path, problem: "no column '\(name)' for \(flag)", fix: "pass one of the header names to \(flag)")
        }
        var out: [Double?] = []
        out.reserveCapacity(piece.rowCount)
        for i in 0..<piece.rowCount {
            guard let text = column.text(at: i) else { out.append(nil); continue }
            guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite, allowNegative || v >= 0 else {
                throw HistoryError(path: path, problem: "line \(piece.line(ofRow: i)), column '\(name)': '\(text)' is not \(allowNegative ? "a number" : "a non-negative amount")",
                                   fix: "clean the value, or leave the cell empty")
            }
            out.append(v)
        }
        return out
    }
}
