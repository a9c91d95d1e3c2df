/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, well-mixed generator. It expands a seed into a
/// bigger generator's state (it never yields the all-zero state xoshiro must avoid), shuffles folds,
/// derives per-repeat seeds, and its final avalanche hashes row indices. Spelled out here because
/// the standard library's generators are not guaranteed to give the same sequence across releases.
public struct SplitMix64: Sendable {
    public static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mix(state)
    }

    /// The final avalanche: every output bit depends on every input bit.
    @inline(__always)
    public static func mix(_ h: UInt64) -> UInt64 {
        var z = h
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }
}
