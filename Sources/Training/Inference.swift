import Foundation

/// Wald inference and likelihood-ratio statistics from a fitted log-likelihood.
public enum Inference {
    /// Φ⁻¹(0.975): the 95% two-sided normal quantile.
    public static let z95 = 1.959963984540054

    /// Two-sided normal p-value 2·Φ(−|z|) = erfc(|z|/√2), accurate far into the tail.
    public static func twoSidedP(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

    /// Upper tail of χ²_k at x: the regularised incomplete gamma Q(k/2, x/2).
    public static func chiSquaredUpperTail(_ x: Double, degreesOfFreedom k: Int) -> Double {
        guard x > 0, k > 0 else { return 1 }
        return regularizedGammaQ(Double(k) / 2, x / 2)
    }

    /// Q(a, x) by the series for x < a + 1 and Lentz's continued fraction otherwise (Numerical
    /// Recipes' split), both to relative 1e-15.
    static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a, sum = term, ap = a
            for _ in 0..<10_000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b; if abs(d) < tiny { d = tiny }
            c = b + an / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(logPrefix) * h
    }
}
