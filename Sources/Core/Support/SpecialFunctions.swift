import Foundation

/// The distribution functions the package needs, in one place: normal tails and quantiles (Wald and
/// DeLong p-values, Wilson intervals, forecast intervals) and the regularized incomplete gamma
/// function (chi-square p-values of likelihood-ratio and Hosmer–Lemeshow tests). An argument outside
/// the domain throws a `Diagnostic` (code `argument`) rather than returning NaN.
public enum SpecialFunctions {
    /// Upper tail of the standard normal, P(Z > z) = erfc(z/√2)/2, accurate in relative terms far into
    /// the tail (no 1 − Φ cancellation).
    public static func normalUpperTail(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }

    /// The standard normal density φ(z).
    public static func normalDensity(_ z: Double) -> Double {
        exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
    }

    /// Two-sided p-value of a standard normal statistic, P(|Z| > |z|) = erfc(|z|/√2).
    public static func normalTwoSidedPValue(_ z: Double) -> Double {
        erfc(abs(z) / 2.0.squareRoot())
    }

    /// The standard normal quantile Φ⁻¹(p) for 0 < p < 1: a rational starting value (Abramowitz & Stegun
    /// 26.2.23, error < 4.5e-4) refined by Halley steps on the erfc-based tail, which triple the correct
    /// digits each time; the result is accurate to a few ulps, including deep in the tails.
    public static func normalQuantile(_ p: Double) throws -> Double {
        guard p > 0, p < 1 else {
            throw Diagnostic(.argument, problem: "normal quantile needs 0 < p < 1, got \(p)")
        }
        if p == 0.5 { return 0 }
        // Solve Q(x) = q for x > 0 in the smaller tail, then restore the sign.
        let q = min(p, 1 - p)
        let t = (-2 * log(q)).squareRoot()
        var x = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308)))
        let inverseRootTwoPi = 0.398942280401432677939946059934
        for _ in 0..<4 {
            let density = inverseRootTwoPi * exp(-0.5 * x * x)
            let r = (normalUpperTail(x) - q) / density
            // Halley: f = Q − q, f' = −φ, f'' = xφ.
            let step = r / (1 - 0.5 * r * x)
            x += step
            if abs(step) <= 1e-17 * abs(x) { break }
        }
        return p < 0.5 ? -x : x
    }

    /// Upper tail of the chi-square distribution with `degreesOfFreedom`, Q(df/2, x/2).
    public static func chiSquareUpperTail(_ x: Double, degreesOfFreedom: Double) throws -> Double {
        try regularizedGammaQ(0.5 * degreesOfFreedom, 0.5 * x)
    }

    /// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a), for a > 0, x ≥ 0.
    ///
    /// Below x = a + 1 the power series of P converges fast and Q = 1 − P; above it Legendre's continued
    /// fraction for Q (modified Lentz) gives Q directly, with full relative accuracy for tiny tails. The
    /// common factor xᵃe⁻ˣ/Γ(a) is formed from Stirling's error term and the deviance a·log(a/x) + x − a
    /// evaluated without cancellation (Loader's form), so it stays accurate even for large a and x ≈ a.
    public static func regularizedGammaQ(_ a: Double, _ x: Double) throws -> Double {
        guard a > 0, a.isFinite else { throw Diagnostic(.argument, problem: "incomplete gamma needs a > 0, got a = \(a)") }
        guard x >= 0 else { throw Diagnostic(.argument, problem: "incomplete gamma needs x ≥ 0, got x = \(x)") }
        if x == 0 { return 1 }
        if x == .infinity { return 0 }
        if x < a + 1 { return 1 - (try lowerSeries(a, x)) }
        return try upperContinuedFraction(a, x)
    }

    /// The regularized lower incomplete gamma function P(a, x) = 1 − Q(a, x).
    public static func regularizedGammaP(_ a: Double, _ x: Double) throws -> Double {
        guard a > 0, a.isFinite else { throw Diagnostic(.argument, problem: "incomplete gamma needs a > 0, got a = \(a)") }
        guard x >= 0 else { throw Diagnostic(.argument, problem: "incomplete gamma needs x ≥ 0, got x = \(x)") }
        if x == 0 { return 0 }
        if x == .infinity { return 1 }
        if x < a + 1 { return try lowerSeries(a, x) }
        return 1 - (try upperContinuedFraction(a, x))
    }

    // MARK: pieces

    /// P(a, x) = xᵃe⁻ˣ/Γ(a+1) · Σₖ xᵏ / ((a+1)(a+2)…(a+k)).
    private static func lowerSeries(_ a: Double, _ x: Double) throws -> Double {
        var term = 1.0, sum = 1.0, denominator = a
        let limit = 1000 + Int(20 * a.squareRoot())
        for _ in 0..<limit {
            denominator += 1
            term *= x / denominator
            sum += term
            if term <= sum * 1e-17 { return prefactor(a, x) / a * sum }
        }
        throw Diagnostic(.argument, problem: "incomplete gamma series did not converge for a = \(a), x = \(x)")
    }

    /// Q(a, x) = xᵃe⁻ˣ/Γ(a) · 1/(x+1−a − 1·(1−a)/(x+3−a − 2·(2−a)/(x+5−a − …))).
    private static func upperContinuedFraction(_ a: Double, _ x: Double) throws -> Double {
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1...100_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) <= 1e-16 { return prefactor(a, x) * h }
        }
        throw Diagnostic(.argument, problem: "incomplete gamma continued fraction did not converge for a = \(a), x = \(x)")
    }

    /// xᵃe⁻ˣ/Γ(a) = √(a/2π) · exp(−stirlingError(a) − deviance(a, x)).
    static func prefactor(_ a: Double, _ x: Double) -> Double {
        (a / (2 * Double.pi)).squareRoot() * exp(-stirlingError(a) - poissonDeviance(a, x))
    }

    /// log Γ(a+1) − [(a + ½)·log a − a + ½·log 2π]: the error of Stirling's formula.
    static func stirlingError(_ a: Double) -> Double {
        if a <= 15 {
            return lgamma(a + 1) - (a + 0.5) * log(a) + a - 0.918938533204672741780329736406
        }
        // Asymptotic series; the first omitted term is below 2e-16 for a > 15.
        let inv = 1 / a, inv2 = inv * inv
        return inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680 - inv2 / 1188))))
    }

    /// a·log(a/x) + x − a ≥ 0. Near a = x it is a small difference of large terms, so there it is summed
    /// as (a−x)·v + Σⱼ 2a·v^(2j+1)/(2j+1) with v = (a−x)/(a+x), which follows from log(a/x) = 2·atanh(v).
    static func poissonDeviance(_ a: Double, _ x: Double) -> Double {
        if abs(a - x) < 0.1 * (a + x) {
            let v = (a - x) / (a + x)
            var sum = (a - x) * v
            var power = 2 * a * v
            let v2 = v * v
            var j = 1.0
            while true {
                power *= v2
                let next = sum + power / (2 * j + 1)
                if next == sum { return sum }
                sum = next
                j += 1
            }
        }
        let ratio = a / x
        let logRatio = ratio.isNormal ? log(ratio) : log(a) - log(x)  // a/x overflowed or underflowed
        return a * logRatio + x - a
    }
}
