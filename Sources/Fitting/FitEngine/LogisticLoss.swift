import Foundation

/// Per-row quantities of the Bernoulli log-likelihood in forms that stay finite for any η.
enum LogisticLoss {
    /// log(1 + e^η) without overflow: max(η, 0) + log1p(e^−|η|).
    @inline(__always)
    static func softplus(_ eta: Double) -> Double {
        max(eta, 0) + log1p(exp(-abs(eta)))
    }

    /// μ = σ(η) and 1 − μ, each computed directly so neither loses digits to cancellation.
    @inline(__always)
    static func probabilities(_ eta: Double) -> (mu: Double, oneMinusMu: Double) {
        let e = exp(-abs(eta))
        let s = 1 / (1 + e)
        return eta >= 0 ? (s, e * s) : (e * s, s)
    }

    /// `probabilities` and `softplus` from one exp (the kernel's per-row hot loop); the same
    /// expressions, so the results are identical to calling both.
    @inline(__always)
    static func probabilitiesAndSoftplus(_ eta: Double) -> (mu: Double, oneMinusMu: Double, softplus: Double) {
        let e = exp(-abs(eta))
        let s = 1 / (1 + e)
        let sp = max(eta, 0) + log1p(e)
        return eta >= 0 ? (s, e * s, sp) : (e * s, s, sp)
    }

    /// Σ vᵢ·2·(softplus(ηᵢ) − yᵢηᵢ), the binomial deviance, over rows.
    static func deviance(eta: UnsafePointer<Double>, y: UnsafePointer<Double>, weights: UnsafePointer<Double>?,
                         rows: Int) -> Double {
        2 * sumOverRows(rows, weights: weights) { i in softplus(eta[i]) - y[i] * eta[i] }
    }

    /// Deviance at η + t·u, for the line search, without materialising the trial η.
    static func deviance(eta: UnsafePointer<Double>, direction u: UnsafePointer<Double>, step t: Double,
                         y: UnsafePointer<Double>, weights: UnsafePointer<Double>?, rows: Int) -> Double {
        2 * sumOverRows(rows, weights: weights) { i in
            let e = eta[i] + t * u[i]
            return softplus(e) - y[i] * e
        }
    }

    /// Σ vᵢ·term(i), reduced per core in row chunks.
    @inline(__always)
    private static func sumOverRows(_ rows: Int, weights: UnsafePointer<Double>?, _ term: (Int) -> Double) -> Double {
        let ranges = Parallel.chunks(rows)
        var partial = [Double](repeating: 0, count: ranges.count)
        partial.withUnsafeMutableBufferPointer { p in
            Parallel.forEach(ranges) { k, r in
                var acc = 0.0
                if let w = weights {
                    for i in r { acc += w[i] * term(i) }
                } else {
                    for i in r { acc += term(i) }
                }
                p[k] = acc
            }
        }
        return partial.reduce(0, +)
    }

    /// Fills √w and the working residual v·(y − μ) for the gradient and the weighted Gram matrix.
    static func weightsAndResiduals(eta: UnsafePointer<Double>, y: UnsafePointer<Double>,
                                    weights: UnsafePointer<Double>?, rows: Int,
                                    sqrtW: UnsafeMutablePointer<Double>, residual: UnsafeMutablePointer<Double>) {
        Parallel.forEach(Parallel.chunks(rows)) { _, r in
            for i in r {
                let (mu, q) = probabilities(eta[i])
                let v = weights.map { $0[i] } ?? 1
                sqrtW[i] = (v * mu * q).squareRoot()
                residual[i] = v * (y[i] * q - (1 - y[i]) * mu)
            }
        }
    }
}
