import Foundation
import Support

/// The number of churned customers when customer i churns with probability pᵢ, independently: the
/// Poisson-binomial distribution.
///
/// Up to `exactLimit` customers the distribution is exact, by dynamic programming over customers
/// (f₀ = δ₀; after customer j, f[k] ← f[k]·(1−pⱼ) + f[k−1]·pⱼ; O(n²) time, every term positive, so
/// no cancellation). Above it the refined normal approximation (Volkova 1996; Hong 2013) is used:
/// F(k) ≈ G((k + ½ − μ)/σ), G(x) = Φ(x) + γ(1 − x²)φ(x)/6, with μ = Σp, σ² = Σp(1−p) and
/// γ = Σp(1−p)(1−2p)/σ³ — accurate to a few 10⁻⁴ in the CDF once σ is large.
public struct PoissonBinomial: Sendable {
    public static let exactLimit = 10_000

    public enum Method: String, Codable, Sendable {
        case exact = "exact Poisson-binomial distribution (dynamic programming)"
        case refinedNormal = "refined normal approximation (Volkova): normal with a skewness correction"
    }

    public let count: Int
    public let mean: Double
    public let variance: Double
    /// Σp(1−p)(1−2p)/σ³ (0 when σ = 0).
    public let skewness: Double
    public let method: Method
    /// Exact method: P(X ≤ k) for k = 0…n.
    private let cumulative: [Double]?

    /// `exactLimit`: largest n computed exactly (tests lower it to check the approximation).
    public init(_ probabilities: [Double], exactLimit: Int = PoissonBinomial.exactLimit) {
        let p = probabilities.map { min(max($0, 0), 1) }
        count = p.count
        var mu = 0.0, v = 0.0, third = 0.0
        for x in p {
            mu += x
            v += x * (1 - x)
            third += x * (1 - x) * (1 - 2 * x)
        }
        mean = mu
        variance = v
        skewness = v > 0 ? third / pow(v, 1.5) : 0
        if v == 0 {
            // Every pᵢ is 0 or 1: all the mass sits on Σp.
            method = .exact
            let m = Int(mu.rounded())
            cumulative = (0...p.count).map { $0 >= m ? 1 : 0 }
        } else if p.count <= exactLimit {
            method = .exact
            var c = Self.pmf(p)
            var running = 0.0
            for k in c.indices {
                running += c[k]
                c[k] = min(running, 1)
            }
            cumulative = c
        } else {
            method = .refinedNormal
            cumulative = nil
        }
    }

    /// The exact probabilities P(X = k), k = 0…n, by dynamic programming.
    public static func pmf(_ probabilities: [Double]) -> [Double] {
        let n = probabilities.count
        var f = [Double](repeating: 0, count: n + 1)
        f[0] = 1
        f.withUnsafeMutableBufferPointer { f in
            for (j, raw) in probabilities.enumerated() {
                let p = min(max(raw, 0), 1), q = 1 - p
                var k = j + 1
                while k > 0 {
                    f[k] = f[k] * q + f[k - 1] * p
                    k -= 1
                }
                f[0] *= q
            }
        }
        return f
    }

    /// P(X ≤ k).
    public func cdf(_ k: Int) -> Double {
        if k < 0 { return 0 }
        if k >= count { return 1 }
        if let cumulative { return cumulative[k] }
        let sigma = variance.squareRoot()
        let x = (Double(k) + 0.5 - mean) / sigma
        let g = SpecialFunctions.normalUpperTail(-x) + skewness * (1 - x * x) * SpecialFunctions.normalDensity(x) / 6
        return min(max(g, 0), 1)
    }

    /// P(X = k).
    public func probability(_ k: Int) -> Double { max(cdf(k) - cdf(k - 1), 0) }

    /// The smallest k with P(X ≤ k) ≥ q.
    public func quantile(_ q: Double) -> Int {
        if let cumulative {
            // Binary search over the (non-decreasing) cumulative probabilities.
            var lo = 0, hi = count
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] >= q { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
        let sigma = variance.squareRoot()
        var k = max(0, Int((mean - 12 * sigma).rounded(.down)) - 1)
        while k < count && cdf(k) < q { k += 1 }
        return k
    }

    /// The equal-tailed interval [lower, upper] at `level`: lower is the smallest k with
    /// P(X ≤ k) ≥ (1−level)/2 and upper the smallest k with P(X ≤ k) ≥ (1+level)/2, so each tail
    /// outside holds at most (1−level)/2 and the interval covers at least `level` (the count is
    /// discrete: `coverage` says how much).
    public func interval(level: Double) -> CountInterval {
        let alpha = 1 - level
        let lower = quantile(alpha / 2)
        let upper = quantile(1 - alpha / 2)
        return CountInterval(level: level, lower: lower, upper: upper, coverage: cdf(upper) - cdf(lower - 1))
    }

}

/// An interval for a count of customers.
public struct CountInterval: Codable, Sendable, Equatable {
    public var level: Double
    public var lower: Int
    public var upper: Int
    /// P(lower ≤ X ≤ upper) under the distribution (at least `level`, up to rounding of the approximation).
    public var coverage: Double
    public init(level: Double, lower: Int, upper: Int, coverage: Double) {
        self.level = level; self.lower = lower; self.upper = upper; self.coverage = coverage
    }
}
