import Foundation
import Support

/// xoshiro256** plus the samplers the simulator needs. Everything is spelled out here, rather
/// than taken from the standard library, because the stdlib's generators and distributions are
/// not guaranteed to produce the same sequence across platforms or releases.
struct SimRandom {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64
    private var spareNormal = 0.0
    private var hasSpareNormal = false

    init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// An independent stream per (seed, customer), so a customer's history does not change when
    /// the total number of customers does.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(seed: seed)
        let salt = mixer.next()
        self.init(seed: salt ^ (stream &* 0xd1b5_4a32_d192_ed03))
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x &<< k) | (x &>> (64 &- k))
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = SimRandom.rotl(s1 &* 5, 7) &* 9
        let t = s1 &<< 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = SimRandom.rotl(s3, 45)
        return result
    }

    /// Uniform on [0, 1).
    @inline(__always)
    mutating func uniform() -> Double {
        Double(next() &>> 11) * 0x1p-53
    }

    /// Uniform on (0, 1), safe to take the logarithm of.
    @inline(__always)
    mutating func uniformOpen() -> Double {
        (Double(next() &>> 11) + 0.5) * 0x1p-53
    }

    @inline(__always)
    mutating func bernoulli(_ p: Double) -> Bool {
        uniform() < p
    }

    /// Uniform integer in 0..<n, without modulo bias.
    mutating func integer(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        let threshold = (0 &- bound) % bound
        while true {
            let r = next()
            if r >= threshold { return Int(r % bound) }
        }
    }

    /// Standard normal by Marsaglia's polar method (needs only log and sqrt, no trig).
    mutating func normal() -> Double {
        if hasSpareNormal {
            hasSpareNormal = false
            return spareNormal
        }
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s >= 1 || s == 0 { continue }
            let f = (-2 * DMath.log(s) / s).squareRoot()
            spareNormal = v * f
            hasSpareNormal = true
            return u * f
        }
    }

    /// Gamma(shape, 1) by Marsaglia–Tsang; shapes below 1 are boosted by a U^(1/shape) factor.
    mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0)
        if shape < 1 {
            let boosted = gamma(shape: shape + 1)
            return boosted * DMath.exp(DMath.log(uniformOpen()) / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = normal()
            let t = 1 + c * x
            if t <= 0 { continue }
            let v = t * t * t
            let u = uniformOpen()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return d * v }
            if DMath.log(u) < 0.5 * x2 + d * (1 - v + DMath.log(v)) { return d * v }
        }
    }

    mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a)
        let y = gamma(shape: b)
        let total = x + y
        return total > 0 ? x / total : 0.5
    }

    /// Poisson: multiplication of uniforms for small means, Hörmann's transformed rejection
    /// (PTRS) above, which stays O(1) for the large login counts of big accounts.
    mutating func poisson(_ mean: Double) -> Int {
        if !(mean > 0) { return 0 }
        if mean < 10 {
            let limit = DMath.exp(-mean)
            var k = 0
            var product = uniform()
            while product > limit {
                k += 1
                product *= uniform()
            }
            return k
        }
        let rootMean = mean.squareRoot()
        let logMean = DMath.log(mean)
        let b = 0.931 + 2.53 * rootMean
        let a = -0.059 + 0.02483 * b
        let logInvAlpha = DMath.log(1.1239 + 1.1328 / (b - 3.4))
        let vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = uniform() - 0.5
            let v = uniform()
            let us = 0.5 - Swift.abs(u)
            if us <= 0 { continue }
            let kReal = ((2 * a / us + b) * u + mean + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return Int(kReal) }
            if kReal < 0 || (us < 0.013 && v > us) { continue }
            let k = Int(kReal)
            let lhs = DMath.log(v) + logInvAlpha - DMath.log(a / (us * us) + b)
            let rhs = -mean + Double(k) * logMean - DMath.logFactorial(k)
            if lhs <= rhs { return k }
        }
    }

    /// Binomial for the small trial counts used here (ticket counts).
    mutating func binomial(trials: Int, p: Double) -> Int {
        var hits = 0
        for _ in 0..<max(trials, 0) where uniform() < p {
            hits += 1
        }
        return hits
    }
}
