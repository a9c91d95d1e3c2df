import Foundation

/// Streaming SHA-256 (FIPS 180-4), written in plain Swift so that ScoringCore
/// can fingerprint training files and model artifacts without a crypto dependency.
public struct SHA256Hasher {
    private var state: [UInt32]
    /// Holds the tail of the input that does not yet fill a 64-byte block.
    private var pending: [UInt8]
    private var pendingCount: Int
    private var totalBytes: UInt64

    public init() {
        state = SHA256Hasher.initialState
        pending = [UInt8](repeating: 0, count: 64)
        pendingCount = 0
        totalBytes = 0
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var source = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        totalBytes &+= UInt64(remaining)

        if pendingCount > 0 {
            let take = min(64 - pendingCount, remaining)
            let offset = pendingCount
            pending.withUnsafeMutableBytes { dst in
                dst.baseAddress!.advanced(by: offset).copyMemory(from: source, byteCount: take)
            }
            pendingCount += take
            source = source.advanced(by: take)
            remaining -= take
            guard pendingCount == 64 else { return }
            pending.withUnsafeBytes { block in
                SHA256Hasher.compress(&state, blocks: block.baseAddress!, count: 1)
            }
            pendingCount = 0
        }

        // Whole blocks go straight from the caller's memory, so large inputs are never copied.
        let wholeBlocks = remaining / 64
        if wholeBlocks > 0 {
            SHA256Hasher.compress(&state, blocks: source, count: wholeBlocks)
            source = source.advanced(by: wholeBlocks * 64)
            remaining -= wholeBlocks * 64
        }

        if remaining > 0 {
            let tail = remaining
            pending.withUnsafeMutableBytes { dst in
                dst.baseAddress!.copyMemory(from: source, byteCount: tail)
            }
            pendingCount = tail
        }
    }

    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    /// Returns the 32-byte digest and resets the hasher, so one value can hash several inputs in turn.
    public mutating func finalize() -> [UInt8] {
        let bitLength = totalBytes &* 8
        var padding = [UInt8](repeating: 0, count: pendingCount < 56 ? 64 : 128)
        padding[0] = 0x80
        let lengthOffset = padding.count - pendingCount - 8
        for i in 0..<8 {
            padding[lengthOffset + i] = UInt8(truncatingIfNeeded: bitLength >> (56 - 8 * UInt64(i)))
        }
        padding.removeLast(pendingCount)
        padding.withUnsafeBytes { update($0) }

        var digest = [UInt8](repeating: 0, count: 32)
        for (i, word) in state.enumerated() {
            digest[4 * i] = UInt8(truncatingIfNeeded: word >> 24)
            digest[4 * i + 1] = UInt8(truncatingIfNeeded: word >> 16)
            digest[4 * i + 2] = UInt8(truncatingIfNeeded: word >> 8)
            digest[4 * i + 3] = UInt8(truncatingIfNeeded: word)
        }
        self = SHA256Hasher()
        return digest
    }

    private static let initialState: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
        0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]

    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    /// Masking shifts: Swift's plain `<<`/`>>` test for oversized shift counts, which costs ~30% here.
    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
        (x &>> n) | (x &<< (32 &- n))
    }

    /// Runs the compression function over `count` consecutive 64-byte blocks.
    /// State lives in locals and the schedule in a stack buffer, so the hot loop has no
    /// bounds checks or heap traffic.
    private static func compress(_ state: inout [UInt32], blocks: UnsafeRawPointer, count: Int) {
        var h0 = state[0], h1 = state[1], h2 = state[2], h3 = state[3]
        var h4 = state[4], h5 = state[5], h6 = state[6], h7 = state[7]

        roundConstants.withUnsafeBufferPointer { kBuffer in
            let k = kBuffer.baseAddress!
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { wBuffer in
                let w = wBuffer.baseAddress!
                for block in 0..<count {
                    let base = blocks.advanced(by: block &* 64)
                    for t in 0..<16 {
                        w[t] = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: t &* 4, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let x = w[t &- 15], y = w[t &- 2]
                        let s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3)
                        let s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >> 10)
                        w[t] = w[t &- 16] &+ s0 &+ w[t &- 7] &+ s1
                    }

                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
                    for t in 0..<64 {
                        let bigS1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                        let choose = (e & f) ^ (~e & g)
                        let t1 = h &+ bigS1 &+ choose &+ k[t] &+ w[t]
                        let bigS0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                        let majority = (a & b) ^ (a & c) ^ (b & c)
                        let t2 = bigS0 &+ majority
                        h = g
                        g = f
                        f = e
                        e = d &+ t1
                        d = c
                        c = b
                        b = a
                        a = t1 &+ t2
                    }
                    h0 = h0 &+ a; h1 = h1 &+ b; h2 = h2 &+ c; h3 = h3 &+ d
                    h4 = h4 &+ e; h5 = h5 &+ f; h6 = h6 &+ g; h7 = h7 &+ h
                }
            }
        }

        state[0] = h0; state[1] = h1; state[2] = h2; state[3] = h3
        state[4] = h4; state[5] = h5; state[6] = h6; state[7] = h7
    }
}

public enum SHA256 {
    public static func hex(of data: Data) -> String {
        var hasher = SHA256Hasher()
        hasher.update(data)
        return hexString(hasher.finalize())
    }

    /// Reads in 1 MiB chunks so fingerprinting a multi-gigabyte training file needs constant memory.
    public static func hex(ofFileAt path: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return hexString(hasher.finalize())
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
