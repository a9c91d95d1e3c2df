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

    /// Moments of the present values of `v`: two passes on x/2^e with 2^e ≥ max|x| — exact
    /// scaling (a power of two) that keeps sums finite even for values near the overflow limit.
    public init(_ v: UnsafeBufferPointer<Double>, thirdMoment: Bool = false) {
        guard let p = v.baseAddress else { return }
        var top = 0.0, lo = Double.infinity, hi = -Double.infinity, present = 0
        for i in 0..<v.count {
            let x = p[i]
            if x.isNaN { continue }
            present &+= 1
            top = Swift.max(top, abs(x)); lo = Swift.min(lo, x); hi = Swift.max(hi, x)
        }
        guard present > 0 else { return }
        let scale = top > 0 && top.isFinite ? Double(sign: .plus, exponent: top.exponent + 1, significand: 1) : 1
        let inverse = 1 / scale
        // Four accumulators: the sum is the hot loop of the design phase.
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= v.count {
            let a = p[i] * inverse, b = p[i + 1] * inverse, c = p[i + 2] * inverse, d = p[i + 3] * inverse
            s0 += a.isNaN ? 0 : a; s1 += b.isNaN ? 0 : b; s2 += c.isNaN ? 0 : c; s3 += d.isNaN ? 0 : d
            i += 4
        }
        while i < v.count { let a = p[i] * inverse; s0 += a.isNaN ? 0 : a; i += 1 }
        let scaledMean = ((s0 + s1) + (s2 + s3)) / Double(present)
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
