import FitEngine
import Foundation
import Accuracy
import ScoringCore
import Support

/// Turns a score that only ranks (a scorecard's 0–100) into churn probabilities: the logistic fit
/// P(churn) = σ(a + b·score) on training rows, so log loss and Brier can judge it beside fitted models.
struct ScoreCalibration {
    var intercept: Double
    var slope: Double

    static func fit(score: [Double], labels: [Double]) throws -> ScoreCalibration {
        let rows = score.indices.filter { !labels[$0].isNaN }
        guard !rows.isEmpty else { throw Diagnostic(.candidate, problem: "no labelled training rows to calibrate the scorecard on") }
        let y = rows.map { labels[$0] }
        let rate = y.reduce(0, +) / Double(y.count)
        let s = rows.map { score[$0] }
        // A constant score, or one class only: the base rate is all there is to learn.
        guard let lo = s.min(), let hi = s.max(), hi > lo, rate > 0, rate < 1 else {
            let p = min(max(rate, 1e-12), 1 - 1e-12)
            return ScoreCalibration(intercept: log(p / (1 - p)), slope: 0)
        }
        let design = Matrix(rows: rows.count, cols: 2, columnMajor: [Double](repeating: 1, count: rows.count) + s)
        let fit = LogisticRegression.fit(LogisticProblem(design: design, response: y, termNames: ["(Intercept)", "score"]))
        return ScoreCalibration(intercept: fit.coefficients[0] ?? 0, slope: fit.coefficients[1] ?? 0)
    }

    func probability(_ score: Double) -> Double {
        Scorer.score(eta: intercept + slope * score).churnProbability
    }
}

extension ScoreEvaluation {
    /// Replaces the ranking measures (ROC, DeLong, KS, average precision, lift) with those of `risk`,
    /// for a score that ranks by itself (a scorecard): its calibrated probabilities need not keep
    /// its order across folds, and ranking needs no calibration.
    mutating func rank(by risk: [Double], labels: [Double]) throws {
        roc = try ROC.delong(labels: labels, scores: risk, confidenceLevel: options.confidenceLevel)
        let curve = try ROC.curve(labels: labels, scores: risk)
        rocCurve = options.maxCurvePoints.map { curve.thinned(maxPoints: $0) } ?? curve
        ks = try ROC.ks(labels: labels, scores: risk)
        averagePrecision = try PrecisionRecall.averagePrecision(labels: labels, scores: risk)
        lift = try? Lift.table(labels: labels, scores: risk, groups: options.liftGroups)
    }
}
