/// Maps the raw bytes of text cells to dense level codes in order of first
/// appearance. Lookups hash the bytes in place, so a repeated level costs no
/// allocation; a String is built (and UTF-8 checked) only for a new level.
struct ByteInterner {
    private(set) var levels: [String] = []
    private var arena: [UInt8] = []
    private var spans: [(start: Int, count: Int)] = []
    /// Open addressing; each slot holds code + 1, 0 marks an empty slot.
    private var slots: [Int32] = Array(repeating: 0, count: 64)
    private var hashes: [UInt64] = []

    enum Outcome {
        case code(Int32)
        /// Offset of the first byte that breaks UTF-8.
        case invalidUTF8(at: Int)
    }

    var count: Int { levels.count }

    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        let h = ByteInterner.hash(bytes)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 {
            let code = Int(slots[slot] - 1)
            if hashes[code] == h && matches(code, bytes) { return .code(Int32(code)) }
            slot = (slot + 1) & mask
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .invalidUTF8(at: ByteInterner.firstInvalidUTF8(bytes))
        }
        let code = levels.count
        levels.append(text)
        hashes.append(h)
        spans.append((arena.count, bytes.count))
        arena.append(contentsOf: bytes)
        slots[slot] = Int32(code + 1)
        if levels.count * 2 > slots.count { grow() }
        return .code(Int32(code))
    }

    /// For levels that are already Strings (merging chunk results).
    mutating func intern(_ level: String) -> Int32 {
        var copy = level
        return copy.withUTF8 { buf in
            if case .code(let c) = intern(buf) { return c }
            preconditionFailure("a String is always valid UTF-8")
        }
    }

    private func matches(_ code: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = spans[code]
        guard span.count == bytes.count else { return false }
        return arena.withUnsafeBufferPointer { a in
            span.count == 0 || memcmpEqual(a.baseAddress! + span.start, bytes.baseAddress!, span.count)
        }
    }

    private mutating func grow() {
        var bigger = [Int32](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        for code in 0..<levels.count {
            var slot = Int(truncatingIfNeeded: hashes[code]) & mask
            while bigger[slot] != 0 { slot = (slot + 1) & mask }
            bigger[slot] = Int32(code + 1)
        }
        slots = bigger
    }

    /// FNV-1a with a final avalanche, so the low bits used for slots are mixed.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return h
    }

    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): offset += UTF8.width(s)
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}
