import Foundation

/// Accuracy of predicted churn probabilities as probabilities (proper scoring rules), not just as a
/// ranking. Each accepts optional non-negative per-row `weights` (a weighted mean over rows).
public enum ProbabilityScores {
    /// Probabilities are clipped to [ε, 1 − ε] with ε = 1e-15 before taking logs, so a confident wrong
    /// prediction costs about 34.5 nats instead of infinity (scikit-learn's historical convention).
    public static let logLossClip = 1e-15

    /// Mean negative log-likelihood (cross-entropy, in nats): −mean[y·log p + (1−y)·log(1−p)].
    /// log(1−p) is evaluated as log1p(−p), accurate for small p. For an in-sample maximum-likelihood
    /// fit this equals −logLik/n.
    public static func logLoss<L: ChurnLabel>(labels: [L], probabilities: [Double], weights: [Double]? = nil) throws -> Double {
        let checked = try checkInputs(labels: labels, scores: probabilities, requirement: .probability, minimumPerClass: 0, metric: "")
        try checkWeights(weights, count: checked.count)
        return logLoss(checked.churned, probabilities, weights)
    }

    /// Brier score: mean squared difference between the predicted probability and the 0/1 outcome.
    /// 0 is perfect; a constant forecast of the base rate ȳ scores ȳ(1−ȳ).
    public static func brierScore<L: ChurnLabel>(labels: [L], probabilities: [Double], weights: [Double]? = nil) throws -> Double {
        let checked = try checkInputs(labels: labels, scores: probabilities, requirement: .probability, minimumPerClass: 0, metric: "")
        try checkWeights(weights, count: checked.count)
        return brier(checked.churned, probabilities, weights)
    }

    /// Brier skill score 1 − Brier/Brier_ref, where Brier_ref = ȳ(1−ȳ) is the Brier score of always
    /// predicting the (weighted) base rate: 1 is perfect, 0 is no better than the base rate, negative is
    /// worse. Needs both churners and non-churners (otherwise Brier_ref is 0).
    public static func brierSkillScore<L: ChurnLabel>(labels: [L], probabilities: [Double], weights: [Double]? = nil) throws -> Double {
        let checked = try checkInputs(labels: labels, scores: probabilities, requirement: .probability, minimumPerClass: 1, metric: "the Brier skill score")
        try checkWeights(weights, count: checked.count)
        var positive = CompensatedSum(), negative = CompensatedSum()
        for row in 0..<checked.count {
            let w = weights?[row] ?? 1
            if checked.churned[row] { positive.add(w) } else { negative.add(w) }
        }
        let w1 = positive.value, w0 = negative.value
        guard w1 > 0, w0 > 0 else {
            throw AccuracyError.degenerate("the Brier skill score needs positive total weight on both churners and non-churners")
        }
        let total = w1 + w0
        let reference = (w1 / total) * (w0 / total)  // ȳ(1−ȳ) without the 1 − ȳ cancellation
        return 1 - brier(checked.churned, probabilities, weights) / reference
    }

    // MARK: shared

    static func brier(_ churned: [Bool], _ probabilities: [Double], _ weights: [Double]?) -> Double {
        weightedMean(count: churned.count, weights: weights) { row in
            let r = probabilities[row] - (churned[row] ? 1 : 0)
            return r * r
        }
    }

    static func logLoss(_ churned: [Bool], _ probabilities: [Double], _ weights: [Double]?) -> Double {
        weightedMean(count: churned.count, weights: weights) { row in
            let p = min(max(probabilities[row], logLossClip), 1 - logLossClip)
            return churned[row] ? -log(p) : -log1p(-p)
        }
    }

    private static func weightedMean(count: Int, weights: [Double]?, _ value: (Int) -> Double) -> Double {
        var sum = CompensatedSum()
        guard let weights else {
            for row in 0..<count { sum.add(value(row)) }
            return sum.value / Double(count)
        }
        var total = CompensatedSum()
        for row in 0..<count where weights[row] > 0 {
            sum.add(weights[row] * value(row))
            total.add(weights[row])
        }
        return sum.value / total.value
    }
}
