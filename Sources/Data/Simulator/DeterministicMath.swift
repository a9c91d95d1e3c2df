import Foundation

/// Elementary functions built only from IEEE-754 +, −, ×, ÷ and sqrt.
///
/// Platform libm implementations (glibc, Apple, musl) may differ in the last ulp, and one ulp
/// is enough to flip a rounded CSV value or a Bernoulli draw. Using these instead keeps a seed's
/// output byte-identical on every machine. Accuracy is a few ulps, which is plenty for sampling.
enum DMath {
    static let ln2Hi = 0x1.62e42fee00000p-1
    static let ln2Lo = 0x1.a39ef35793c76p-33
    static let log2e = 0x1.71547652b82fep+0
    static let sqrt2 = 0x1.6a09e667f3bcdp+0
    static let halfLog2Pi = 0x1.d67f1c864beb4p-1

    static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.7 { return .infinity }
        if x < -745.0 { return 0 }
        let k = (x * log2e).rounded()
        // Two-part ln 2 keeps the reduced argument exact to well below one ulp.
        let r = (x - k * ln2Hi) - k * ln2Lo
        var p = 1.0 / 6_227_020_800.0
        p = p * r + 1.0 / 479_001_600.0
        p = p * r + 1.0 / 39_916_800.0
        p = p * r + 1.0 / 3_628_800.0
        p = p * r + 1.0 / 362_880.0
        p = p * r + 1.0 / 40_320.0
        p = p * r + 1.0 / 5_040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        return scaleByPowerOfTwo(p, Int(k))
    }

    static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x == .infinity { return x }
        var e = Double(Int(x.exponent))
        var m = x.significand
        if m > sqrt2 {
            m *= 0.5
            e += 1
        }
        // log m = 2·atanh(s) with |s| ≤ 0.172, so eleven odd terms reach double precision.
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var q = 1.0 / 21.0
        q = q * s2 + 1.0 / 19.0
        q = q * s2 + 1.0 / 17.0
        q = q * s2 + 1.0 / 15.0
        q = q * s2 + 1.0 / 13.0
        q = q * s2 + 1.0 / 11.0
        q = q * s2 + 1.0 / 9.0
        q = q * s2 + 1.0 / 7.0
        q = q * s2 + 1.0 / 5.0
        q = q * s2 + 1.0 / 3.0
        let series = 2 * s + 2 * s * s2 * q
        return e * ln2Hi + (e * ln2Lo + series)
    }

    static func tanh(_ x: Double) -> Double {
        let a = Swift.abs(x)
        if a > 20 { return x < 0 ? -1 : 1 }
        let t = exp(-2 * a)
        let y = (1 - t) / (1 + t)
        return x < 0 ? -y : y
    }

    static func sigmoid(_ x: Double) -> Double {
        if x >= 0 {
            return 1 / (1 + exp(-x))
        }
        let t = exp(x)
        return t / (1 + t)
    }

    /// log(k!) — a table for small k, a Stirling series (error < 1e-16 for k ≥ 128) above.
    static func logFactorial(_ k: Int) -> Double {
        if k < logFactorialTable.count { return logFactorialTable[k] }
        let n = Double(k)
        let inv = 1 / n
        let inv2 = inv * inv
        let correction = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0)))
        return (n + 0.5) * log(n) - n + halfLog2Pi + correction
    }

    private static let logFactorialTable: [Double] = {
        var table = [Double](repeating: 0, count: 128)
        for k in 2..<table.count {
            table[k] = table[k - 1] + log(Double(k))
        }
        return table
    }()

    private static func scaleByPowerOfTwo(_ value: Double, _ power: Int) -> Double {
        // Two steps so that results near the subnormal range are not lost to an out-of-range factor.
        if power < -1000 {
            return value * Double(sign: .plus, exponent: -1000, significand: 1)
                * Double(sign: .plus, exponent: power + 1000, significand: 1)
        }
        if power > 1000 {
            return value * Double(sign: .plus, exponent: 1000, significand: 1)
                * Double(sign: .plus, exponent: power - 1000, significand: 1)
        }
        return value * Double(sign: .plus, exponent: power, significand: 1)
    }
}
