import BatchScoring
import Foundation
import ScoringCore
import Tabular
import Support

/// A labelled file scored by a model, streamed: per judged row only its label, churn probability,
/// score and band are kept (about 20 bytes), so a file of any length fits. Rows without a label the
/// model codes, and under `--missing drop` rows missing a metric, are left out and counted; any
/// other row the model cannot score is an error naming it.
public struct ScoredSample: Sendable {
    public var labels: [Double] = []
    public var probabilities: [Double] = []
    public var scores: [Double] = []
    /// Index into `bandLabels`, -1 when the model has no bands.
    public var bands: [Int8] = []
    public var bandLabels: [String] = []
    public var excluded: [String: Int] = [:]
    /// Data rows read.
    public var rowsRead = 0
    public var count: Int { labels.count }

    /// `each` sees every piece with its labels (1, 0, NaN without one the model codes) and which
    /// rows were judged (labelled and scored), before it is dropped; `keyColumns` (id, snapshot
    /// time) are read as text for it.
    public static func load(model: ModelArtifact, dataPath: String, reasons: Int = 0, unknownLevels: UnknownLevelPolicy? = nil,
                            keyColumns: [String] = [],
                            each: ((ScoreFile.Piece, _ labels: [Double], _ judged: [Bool]) throws -> Void)? = nil) throws -> ScoredSample {
        let target = model.schema.target
        let names = try CSVReader.headerNames(path: dataPath)
        guard names.contains(target.column) else {
            throw Diagnostic(.data, file: dataPath, row: nil, line: nil, column: target.column,
                            problem: "no label column '\(target.column)' (the model's target)",
                            fix: "evaluate on a file with the outcome; to score customers without one use 'healthscore score'")
        }
        let plan = ScoringPlan(model: model, unknownLevels: unknownLevels)
        var options = ScoreFile.Options()
        options.reasons = reasons
        // Only the label besides the model's inputs: interning a million customer ids costs a fifth of the run.
        options.textColumns = [target.column] + keyColumns.filter { $0 != target.column }
        var out = ScoredSample()
        out.bandLabels = plan.bandLabels
        let negatives = Set(target.negative)
        let unlabelled = "missing label, or a label value the model does not code"
        try ScoreFile.run(path: dataPath, model: model, plan: plan, options: options) { piece in
            let s = piece.scored
            let column = piece.table.column(named: target.column)!
            // The model's own coding: its churn value, and the values it counted as stayed.
            var y = [Double](repeating: .nan, count: piece.rowCount)
            if case .text(let codes, let levels) = column.values {
                let coded = levels.map { $0 == target.positive ? 1.0 : (negatives.isEmpty || negatives.contains($0) ? 0.0 : .nan) }
                for i in 0..<piece.rowCount where codes[i] >= 0 { y[i] = coded[Int(codes[i])] }
            }
            var judged = [Bool](repeating: false, count: piece.rowCount)
            var k = 0
            for i in 0..<piece.rowCount {
                while k < s.problems.count && s.problems[k].row < i { k += 1 }
                if y[i].isNaN { out.excluded[unlabelled, default: 0] += 1; continue }
                if k < s.problems.count && s.problems[k].row == i {
                    let p = s.problems[k]
                    guard p.kind == .missing, model.schema.missingPolicy == .drop else {
                        let e = p.error(knownLevels: plan.levels(ofColumn: p.column))
                        throw Diagnostic(.data, file: dataPath, row: piece.firstRecord + i + 1, line: piece.line(ofRow: i),
                                        column: e.column, problem: e.problem, fix: e.fix)
                    }
                    out.excluded["missing \(p.column) (the model was fitted on complete cases)", default: 0] += 1
                    continue
                }
                judged[i] = true
                out.labels.append(y[i])
                out.probabilities.append(s.probability[i])
                out.scores.append(s.score[i])
                out.bands.append(Int8(s.band[i]))
            }
            out.rowsRead += piece.rowCount
            try each?(piece, y, judged)
        }
        return out
    }

    /// Each judged row's band label: the model's own, else `fallback` of its 0–100 score.
    public func bandNames(fallback: (Double) -> String) -> [String] {
        bands.indices.map { bands[$0] >= 0 ? bandLabels[Int(bands[$0])] : fallback(scores[$0]) }
    }
}
