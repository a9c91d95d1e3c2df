import Foundation

/// Logistic recalibration of predicted probabilities (Cox 1958): how the log-odds of observed churn
/// relate to the predicted log-odds. A perfectly calibrated model has slope 1 and intercept 0.
public struct LogisticCalibration: Codable, Sendable, Equatable {
    /// Calibration-in-the-large: a in logit P(churn) = a + logit(p), i.e. with the slope *fixed at 1*
    /// and logit(p) as an offset. Positive means churn is under-predicted on average.
    public var intercept: Double
    /// Calibration slope: b in the joint fit logit P(churn) = a + b·logit(p). Below 1, predictions are
    /// too extreme (typical of overfitting); above 1, too timid.
    public var slope: Double
    /// The a of that joint fit (intercept when the slope is also estimated), reported for completeness.
    public var jointIntercept: Double
    /// Newton iterations used by the joint fit.
    public var iterations: Int
}

extension Calibration {
    /// Predictions are clipped to [1e-15, 1 − 1e-15] before taking logits, as in log loss.
    public static let logitClip = 1e-15

    /// Calibration intercept (in the large, slope fixed at 1) and calibration slope, both maximum
    /// likelihood logistic fits on logit(p) by Newton's method with step halving. Throws `degenerate`
    /// if all predictions are equal (no slope) and `didNotConverge` if logit(p) separates churners from
    /// non-churners perfectly (the slope is then infinite).
    public static func logisticRecalibration<L: ChurnLabel>(labels: [L], probabilities: [Double]) throws -> LogisticCalibration {
        let checked = try checkInputs(labels: labels, scores: probabilities, requirement: .probability, minimumPerClass: 1, metric: "logistic recalibration")
        return try logisticRecalibration(checked.churned, probabilities)
    }

    static func logisticRecalibration(_ churned: [Bool], _ probabilities: [Double]) throws -> LogisticCalibration {
        // log(q/(1−q)): absolute error about ε, which is what the linear predictor needs (1 − q is exact
        // for q ≥ ½, and for q < ½ both roundings are relative).
        let x = probabilities.map { p -> Double in
            let q = min(max(p, logitClip), 1 - logitClip)
            return log(q / (1 - q))
        }
        // Both fits start from the identity map η = logit(p): evaluate it once.
        let identity = logisticPass(churned, x, 0, 1)
        let (a, b, iterations) = try fitInterceptAndSlope(churned, x)
        let offsetIntercept = try fitInterceptWithOffset(churned, x, start: identity)
        return LogisticCalibration(intercept: offsetIntercept, slope: b, jointIntercept: a, iterations: iterations)
    }

    /// Log-likelihood Σ y·η − log(1 + e^η), gradient and Hessian in (a, b) of η = a + b·zᵢ, from one
    /// pass over the rows. log(1 + e^η) = max(η, 0) + log(1 + e^−|η|); the last terms are summed per block
    /// of 64 rows as the log of the product of the factors (each in [1, 2], so no overflow): one log per
    /// 64 rows instead of a log1p per row, each factor's rounding costing at most ε/2 absolute.
    struct LogisticPass {
        var logLikelihood = 0.0
        var g0 = 0.0, g1 = 0.0
        var h00 = 0.0, h01 = 0.0, h11 = 0.0
    }

    static func logisticPass(_ churned: [Bool], _ z: [Double], _ a: Double, _ b: Double) -> LogisticPass {
        // Plain sums within blocks of 64 rows, compensated sums across blocks.
        var linear = CompensatedSum(), logTerms = CompensatedSum(), g0 = CompensatedSum(), g1 = CompensatedSum()
        var out = LogisticPass()
        let n = churned.count
        var blockStart = 0
        while blockStart < n {
            let blockEnd = min(blockStart + 64, n)
            var blockLinear = 0.0, blockG0 = 0.0, blockG1 = 0.0, product = 1.0
            for i in blockStart..<blockEnd {
                let zi = z[i]
                let eta = a + b * zi
                let e = exp(-abs(eta))  // ≤ 1: no overflow
                let mu = eta >= 0 ? 1 / (1 + e) : e / (1 + e)
                let y: Double = churned[i] ? 1 : 0
                blockLinear += y * eta - max(eta, 0)
                product *= 1 + e
                let r = y - mu, w = mu * (1 - mu)
                blockG0 += r
                blockG1 += r * zi
                out.h00 += w
                out.h01 += w * zi
                out.h11 += w * zi * zi
            }
            linear.add(blockLinear)
            logTerms.add(log(product))
            g0.add(blockG0)
            g1.add(blockG1)
            blockStart = blockEnd
        }
        out.logLikelihood = linear.value - logTerms.value
        out.g0 = g0.value
        out.g1 = g1.value
        return out
    }

    /// Newton's stopping rule: half the Newton decrement gᵀH⁻¹g — the log-likelihood gain the step
    /// predicts — below the rounding of the log-likelihood itself.
    private static func converged(decrement: Double, logLikelihood: Double) -> Bool {
        decrement / 2 <= 1e-15 * (abs(logLikelihood) + 1)
    }

    /// Joint fit of a + b·x. Works with x centred (better conditioned) and starts from the identity map
    /// a = 0, b = 1; steps are halved until the log-likelihood does not fall. The final, converged step
    /// is taken too.
    private static func fitInterceptAndSlope(_ churned: [Bool], _ x: [Double]) throws -> (Double, Double, Int) {
        let n = churned.count
        var meanSum = CompensatedSum()
        for v in x { meanSum.add(v) }
        let center = meanSum.value / Double(n)
        let z = x.map { $0 - center }
        guard z.contains(where: { $0 != 0 }) else {
            throw AccuracyError.degenerate("all predictions are equal, so the calibration slope is undefined")
        }
        // In one dimension (quasi-)separation is an ordering: then the likelihood has no maximum.
        var minChurner = Double.infinity, maxChurner = -Double.infinity
        var minOther = Double.infinity, maxOther = -Double.infinity
        for i in 0..<n {
            if churned[i] {
                minChurner = min(minChurner, x[i]); maxChurner = max(maxChurner, x[i])
            } else {
                minOther = min(minOther, x[i]); maxOther = max(maxOther, x[i])
            }
        }
        guard maxOther > minChurner, maxChurner > minOther else {
            throw AccuracyError.degenerate(
                "logit(p) separates churners from non-churners (no overlap), so the calibration slope is infinite")
        }

        var alpha = center, beta = 1.0  // η = alpha + beta·z  ≡  (alpha − beta·center) + beta·x
        var current = logisticPass(churned, z, alpha, beta)
        for iteration in 1...200 {
            let c = current
            let det = c.h00 * c.h11 - c.h01 * c.h01
            guard det > 0, det.isFinite else { break }
            let step0 = (c.h11 * c.g0 - c.h01 * c.g1) / det
            let step1 = (c.h00 * c.g1 - c.h01 * c.g0) / det
            if converged(decrement: c.g0 * step0 + c.g1 * step1, logLikelihood: c.logLikelihood) {
                alpha += step0
                beta += step1
                return (alpha - beta * center, beta, iteration)
            }
            var t = 1.0, accepted = false
            for _ in 0..<40 {
                let candidate = logisticPass(churned, z, alpha + t * step0, beta + t * step1)
                if candidate.logLikelihood >= c.logLikelihood - 1e-12 * (abs(c.logLikelihood) + 1) {
                    alpha += t * step0
                    beta += t * step1
                    current = candidate
                    accepted = true
                    break
                }
                t *= 0.5
            }
            guard accepted else { break }
        }
        throw AccuracyError.didNotConverge("the calibration slope fit did not converge")
    }

    /// Solves Σ (y − σ(a + xᵢ)) = 0 for a: the intercept with logit(p) as an offset (slope fixed at 1).
    private static func fitInterceptWithOffset(_ churned: [Bool], _ x: [Double], start: LogisticPass) throws -> Double {
        var a = 0.0
        var current = start
        for _ in 0..<200 {
            let c = current
            guard c.h00 > 0, c.h00.isFinite else { break }
            let step = c.g0 / c.h00
            if converged(decrement: step * c.g0, logLikelihood: c.logLikelihood) { return a + step }
            var t = 1.0, accepted = false
            for _ in 0..<40 {
                let candidate = logisticPass(churned, x, a + t * step, 1)
                if candidate.logLikelihood >= c.logLikelihood - 1e-12 * (abs(c.logLikelihood) + 1) {
                    a += t * step
                    current = candidate
                    accepted = true
                    break
                }
                t *= 0.5
            }
            guard accepted else { break }
        }
        throw AccuracyError.didNotConverge("the calibration-in-the-large intercept did not converge")
    }
}
