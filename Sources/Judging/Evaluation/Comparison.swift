import FitEngine
import Foundation
import Accuracy
import ScoringCore
import Tabular
import Training
import Support

/// One train/test split of a comparison: a CV fold of one repeat, or a time-backtest fold.
public struct EvaluationSplit: Sendable {
    public var label: String
    public var repetition: Int
    public var train: [Int]
    public var test: [Int]
    public init(label: String, repetition: Int = 0, train: [Int], test: [Int]) {
        self.label = label; self.repetition = repetition; self.train = train; self.test = test
    }
}

/// Fixed health bands on the 0–100 scale, for scores that carry none of their own (scorecards):
/// below `poor` unhealthy (red), below `good` at_risk (yellow), else healthy (green). A fitted model
/// bands with the cut points frozen into it.
public struct HealthBands: Codable, Sendable, Equatable {
    public var poor: Double
    public var good: Double
    public init(poor: Double = 50, good: Double = 75) { self.poor = poor; self.good = good }
    public func band(_ health: Double) -> String { health < poor ? "unhealthy" : (health < good ? "at_risk" : "healthy") }
    public static let order = ["healthy", "at_risk", "unhealthy"]
}

/// Per-split accuracy of one candidate: how it holds up fold by fold (and, in a backtest, over time).
public struct SplitMetrics: Codable, Sendable {
    public var split: String
    public var rows: Int
    public var churners: Int
    public var auc: Double?
    public var logLoss: Double
    public var brier: Double
    /// Mean predicted minus observed churn rate: calibration-in-the-large.
    public var calibrationInTheLarge: Double
    public var calibrationSlope: Double?
}

public struct CandidateResult: Codable, Sendable {
    public var name: String
    public var spec: String
    /// Every measure on the pooled out-of-fold predictions (of the first repetition).
    public var pooled: ScoreEvaluation
    public var splits: [SplitMetrics]
    /// Pooled AUC of each repetition (one entry without repeats).
    public var aucByRepetition: [Double]
    /// Paired DeLong test against the first candidate on the same pooled rows (nil for the first).
    public var versusFirst: DeLongTest?
}

public struct ComparisonReport: Codable, Sendable {
    public var design: String
    public var rows: Int
    public var excludedRows: [String: Int]
    public var bands: HealthBands
    public var candidates: [CandidateResult]
    public var verdict: String
}

public enum Comparison {
    /// Rows every candidate can be judged on: a label, and — when a candidate drops incomplete rows —
    /// no missing metric cell (otherwise the candidates would be scored on different customers).
    public static func usableRows(_ table: RawTable, roles: ColumnRoles, candidates: [Candidate]) throws -> (rows: [Int], excluded: [String: Int]) {
        let y = try DesignBuilder.label(table, roles: roles).values
        var excluded: [String: Int] = [:]
        var keep = y.map { !$0.isNaN }
        let unlabelled = keep.filter { !$0 }.count
        if unlabelled > 0 { excluded[roles.negatives.isEmpty ? "missing label" : "missing label, or neither --positive nor --negative"] = unlabelled }
        let recipes = candidates.filter { c in if case .recipe = c.kind { return roles.missing == .drop } else { return false } }
        let models = candidates.filter { c in if case .model(let m, _, _) = c.kind { return m.schema.missingPolicy == .drop } else { return false } }
        if !recipes.isEmpty || !models.isEmpty {
            // Which candidates fit complete cases, and what keeps the rows for each kind.
            var ways: [String] = []
            if !recipes.isEmpty { ways.append("--missing impute keeps them for \(recipes.map(\.name).joined(separator: ", "))") }
            if !models.isEmpty {
                ways.append("\(models.map(\.name).joined(separator: ", ")) \(models.count == 1 ? "is a model" : "are models") fitted with --missing drop: refit \(models.count == 1 ? "it" : "them") with --missing impute, or leave \(models.count == 1 ? "it" : "them") out")
            }
            let why = "fitted on complete cases; " + ways.joined(separator: "; ")
            let roleColumns = Set([roles.target] + [roles.id, roles.time, roles.weights, roles.cluster].compactMap { $0 } + roles.exclude)
            for c in table.columns where !roleColumns.contains(c.name) && c.missingCount > 0 {
                let mask = c.missingMask()
                var n = 0
                for i in 0..<table.rowCount where keep[i] && mask[i] { keep[i] = false; n += 1 }
                if n > 0 { excluded["missing \(c.name) (\(why))"] = n }
            }
        }
        return (keep.indices.filter { keep[$0] }, excluded)
    }

    /// Fits and scores every candidate on every split; pools the out-of-fold predictions.
    /// `rows` index the table; splits index `rows`.
    public static func run(table: RawTable, rows: [Int], excluded: [String: Int], roles: ColumnRoles, naValues: [String],
                           candidates: [Candidate], splits: [EvaluationSplit], design: String,
                           bands: HealthBands = HealthBands(), options: EvaluationOptions = EvaluationOptions(), seed: UInt64 = 1,
                           progress: (String) -> Void = { _ in }) throws -> ComparisonReport {
        precondition(!candidates.isEmpty && !splits.isEmpty, "a comparison needs candidates and splits")
        let labels = try DesignBuilder.label(table, roles: roles).values
        let y = rows.map { labels[$0] }
        let repetitions = (splits.map(\.repetition).max() ?? 0) + 1
        // Out-of-fold outputs per candidate and repetition, NaN where a row was not tested.
        var probability = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: .nan, count: rows.count), count: repetitions), count: candidates.count)
        var risk = probability, health = probability
        var band = [[[String?]]](repeating: [[String?]](repeating: [String?](repeating: nil, count: rows.count), count: repetitions), count: candidates.count)
        var splitMetrics = [[SplitMetrics]](repeating: [], count: candidates.count)
        let total = splits.count * candidates.count
        var done = 0
        for split in splits {
            let train = table.subset(rows: split.train.map { rows[$0] })
            let test = table.subset(rows: split.test.map { rows[$0] })
            for (c, candidate) in candidates.enumerated() {
                done += 1
                progress("[\(done)/\(total)] \(split.label): \(candidate.name)")
                let out: FoldPrediction
                do {
                    out = try candidate.predict(train: train, test: test, base: FitSpec(roles: roles, naValues: naValues), seed: seed)
                } catch {
                    throw Diagnostic(.candidate, problem: "\(candidate.name) on \(split.label): \(error)")
                }
                for (k, i) in split.test.enumerated() {
                    probability[c][split.repetition][i] = out.probability[k]
                    risk[c][split.repetition][i] = out.risk[k]
                    health[c][split.repetition][i] = out.health[k]
                    band[c][split.repetition][i] = out.band[k]
                }
                splitMetrics[c].append(metrics(split: split.label, labels: split.test.map { y[$0] }, probability: out.probability, risk: out.risk))
            }
        }
        // Pooled over the rows tested in the first repetition (all rows in CV, the test windows in a backtest).
        let tested = rows.indices.filter { !probability[0][0][$0].isNaN }
        let pooledLabels = tested.map { y[$0] }
        var results: [CandidateResult] = []
        for (c, candidate) in candidates.enumerated() {
            let p = tested.map { probability[c][0][$0] }
            let bandsOfRows = tested.map { band[c][0][$0] ?? bands.band(health[c][0][$0]) }
            var pooled = try Accuracy.evaluate(labels: pooledLabels, scores: p, bands: bandsOfRows, options: options)
            // A scorecard ranks by its own score; its calibrated probability is monotone in it within a
            // fold but not across folds, so the ranking measures use the score itself.
            if case .scorecard = candidate.kind {
                try pooled.rank(by: tested.map { risk[c][0][$0] }, labels: pooledLabels)
            }
            let aucs = try (0..<repetitions).map { r -> Double in
                let rowsR = rows.indices.filter { !risk[c][r][$0].isNaN }
                return try ROC.auc(labels: rowsR.map { y[$0] }, scores: rowsR.map { risk[c][r][$0] })
            }
            var versus: DeLongTest? = nil
            if c > 0 {
                versus = try? ROC.delongTest(labels: pooledLabels, scores1: tested.map { risk[c][0][$0] },
                                             scores2: tested.map { risk[0][0][$0] }, confidenceLevel: options.confidenceLevel)
            }
            results.append(CandidateResult(name: candidate.name, spec: candidate.specDescription, pooled: pooled,
                                           splits: splitMetrics[c], aucByRepetition: aucs, versusFirst: versus))
        }
        return ComparisonReport(design: design, rows: tested.count, excludedRows: excluded, bands: bands,
                                candidates: results, verdict: verdict(results))
    }

    static func metrics(split: String, labels: [Double], probability: [Double], risk: [Double]) -> SplitMetrics {
        let n = labels.count
        let churners = Int(labels.reduce(0, +))
        let meanP = probability.reduce(0, +) / Double(max(n, 1))
        return SplitMetrics(
            split: split, rows: n, churners: churners,
            auc: try? ROC.auc(labels: labels, scores: risk),
            logLoss: (try? ProbabilityScores.logLoss(labels: labels, probabilities: probability)) ?? .nan,
            brier: (try? ProbabilityScores.brierScore(labels: labels, probabilities: probability)) ?? .nan,
            calibrationInTheLarge: meanP - Double(churners) / Double(max(n, 1)),
            calibrationSlope: (try? Calibration.logisticRecalibration(labels: labels, probabilities: probability))?.slope)
    }

    /// One plain sentence per challenger against the first candidate.
    static func verdict(_ results: [CandidateResult]) -> String {
        ([ranking(results)] + results.compactMap(calibrationNote)).filter { !$0.isEmpty }.joined(separator: "\n")
    }

    /// A candidate whose out-of-fold probabilities are too flat or too extreme, said in words: the
    /// table's ECE is small for both when churn is rare, so the slope alone shows it.
    static func calibrationNote(_ r: CandidateResult) -> String? {
        guard let slope = r.pooled.calibration?.slope, slope.isFinite else { return nil }
        let s = String(format: "%.2f", slope)
        if slope > 1.25 {
            return "\(r.name): probabilities under-confident out of sample (calibration slope \(s); 1 is ideal): they sit too close to the average churn rate, as a strong penalty makes them; its ranking and bands hold, its probabilities understate the risky and overstate the safe"
        }
        if slope < 0.8 {
            return "\(r.name): probabilities over-confident out of sample (calibration slope \(s); 1 is ideal): too extreme, as an overfitted model's are; fewer metrics or a penalty would temper them"
        }
        return nil
    }

    static func ranking(_ results: [CandidateResult]) -> String {
        guard let first = results.first, results.count > 1 else {
            return results.first.map { "\($0.name): AUC \(fmt($0.pooled.roc.auc)) out of sample" } ?? ""
        }
        return results.dropFirst().map { r in
            guard let t = r.versusFirst else { return "\(r.name) vs \(first.name): no paired test (identical rankings)" }
            let better = r.pooled.roc.auc > first.pooled.roc.auc
            let (winner, loser) = better ? (r, first) : (first, r)
            let p = t.pValue < 0.001 ? "p < 0.001" : "p = \(String(format: "%.3f", t.pValue))"
            let verb = t.pValue < 0.05 ? "ranks churners better than" : "is not significantly better at ranking churners than"
            return "\(winner.name) \(verb) \(loser.name): AUC \(fmt(winner.pooled.roc.auc)) vs \(fmt(loser.pooled.roc.auc)), \(p) (paired DeLong)"
        }.joined(separator: "\n")
    }

    static func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
}
