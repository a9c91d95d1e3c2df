import Foundation

/// Count, mean, 1/n standard deviation and third central moment of the present (non-NaN) values of
/// a sample, mergeable across pieces of a file (Chan et al.'s pairwise update, Pébay's for the
/// third moment), so a streamed file and the same file in memory learn the same statistics.
public struct Moments: Sendable, Equatable {
    public var count = 0
    public var mean = 0.0
    /// Kept as a standard deviation rather than a sum of squares so values near the overflow limit
    /// stay finite.
    public var sd = 0.0
    /// Third central moment over count, for the skewness rule of `--auto-transform`.
    var m3 = 0.0
    public var minimum = Double.infinity
    public var maximum = -Double.infinity

    public init() {}

    /// Moments of the present values of `v`: two passes on x/2^e with 2^e ≤ max|x| < 2^(e+1) — exact
    /// scaling (a power of two) that keeps sums finite even for values near the overflow limit.
    public init(_ v: UnsafeBufferPointer<Double>, thirdMoment: Bool = false) {
        guard let p = v.baseAddress else { return }
        // One pass for the count, extremes and sum; NaN (missing) cells are skipped.
        var top = 0.0, lo = Double.infinity, hi = -Double.infinity, present = 0
        var s0 = 0.0, s1 = 0.0
        var i = 0
        while i + 2 <= v.count {
            let a = p[i], b = p[i + 1]
            if !a.isNaN { present &+= 1; lo = Swift.min(lo, a); hi = Swift.max(hi, a); s0 += a }
            if !b.isNaN { present &+= 1; lo = Swift.min(lo, b); hi = Swift.max(hi, b); s1 += b }
            i += 2
        }
        if i < v.count, !p[i].isNaN { let a = p[i]; present &+= 1; lo = Swift.min(lo, a); hi = Swift.max(hi, a); s0 += a }
        guard present > 0 else { return }
        top = Swift.max(abs(lo), abs(hi))
        let scale = top > 0 && top.isFinite ? Double(sign: .plus, exponent: top.exponent, significand: 1) : 1
        let inverse = 1 / scale
        if !inverse.isFinite {
            // Subnormal values: 2^-e overflows, so lift them in two exact power-of-two steps and
            // take the moments of the lifted copy (a rare path; the copy is fine).
            let first = Double(sign: .plus, exponent: 600, significand: 1)
            let second = Double(sign: .plus, exponent: -top.exponent - 600, significand: 1)
            let lifted = (0..<v.count).map { p[$0] * first * second }
            self = Moments(lifted, thirdMoment: thirdMoment)
            mean = mean * scale
            sd = sd * scale
            m3 = m3 * scale * scale * scale
            minimum = lo
            maximum = hi
            return
        }
        // Scaling by a power of two is exact, so the plain sum equals the scaled one unless it
        // overflowed; only then is it formed again on x/2^e.
        var sum = (s0 + s1) * inverse
        if !sum.isFinite {
            var t0 = 0.0
            for k in 0..<v.count where !p[k].isNaN { t0 += p[k] * inverse }
            sum = t0
        }
        let scaledMean = sum / Double(present)
        var q0 = 0.0, q1 = 0.0, c3 = 0.0
        if thirdMoment {
            for k in 0..<v.count where !p[k].isNaN {
                let d = p[k] * inverse - scaledMean
                q0 += d * d; c3 += d * d * d
            }
        } else {
            i = 0
            while i + 2 <= v.count {
                let a = p[i] * inverse - scaledMean, b = p[i + 1] * inverse - scaledMean
                q0 += a.isNaN ? 0 : a * a; q1 += b.isNaN ? 0 : b * b
                i += 2
            }
            if i < v.count { let a = p[i] * inverse - scaledMean; q0 += a.isNaN ? 0 : a * a }
        }
        let n = Double(present)
        count = present
        mean = scaledMean * scale
        sd = ((q0 + q1) / n).squareRoot() * scale
        m3 = c3 / n * scale * scale * scale
        minimum = lo
        maximum = hi
    }

    public init(_ values: [Double], thirdMoment: Bool = false) {
        self = values.withUnsafeBufferPointer { Moments($0, thirdMoment: thirdMoment) }
    }

    /// Adds another piece's moments (the pieces' order does not matter beyond rounding).
    public mutating func merge(_ other: Moments) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let na = Double(count), nb = Double(other.count), n = na + nb
        let delta = other.mean - mean
        m3 = Moments.mergedThird(na: na, nb: nb, meanDelta: delta, a: self, b: other)
        // Variance of the union: (na·sa² + nb·sb² + na·nb/n·δ²)/n, formed on values divided by the
        // largest of the three so none of the squares overflows.
        let top = Swift.max(sd, other.sd, abs(delta))
        if top > 0 {
            let a = sd / top, b = other.sd / top, d = delta / top
            sd = ((na * a * a + nb * b * b + na * nb / n * d * d) / n).squareRoot() * top
        }
        mean += delta * (nb / n)
        count += other.count
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
    }

    /// Pébay's update of the third central moment (as sums, then back over n).
    private static func mergedThird(na: Double, nb: Double, meanDelta d: Double, a: Moments, b: Moments) -> Double {
        let n = na + nb
        let m2a = na * a.sd * a.sd, m2b = nb * b.sd * b.sd
        let sum3 = na * a.m3 + nb * b.m3 + d * d * d * na * nb * (na - nb) / (n * n) + 3 * d * (na * m2b - nb * m2a) / n
        return sum3 / n
    }

    /// Sample skewness m3/m2^1.5 (0 for fewer than three values or no spread).
    public var skewness: Double {
        guard count > 2, sd > 0 else { return 0 }
        return m3 / (sd * sd * sd)
    }
}
