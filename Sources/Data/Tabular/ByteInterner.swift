/// Maps the raw bytes of text cells to dense level codes in order of first
/// appearance. Lookups hash the bytes in place, so a repeated level costs no
/// allocation; a String is built (and UTF-8 checked) only for a new level.
///
/// A final class over manually managed buffers: it is hit once per text cell
/// (millions of times for an id column), and array storage reached through a
/// class costs a retain/release pair per access.
final class ByteInterner {
    private(set) var levels: [String] = []
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCount = 0
    private var arenaCapacity = 4096
    /// Per level: where its bytes start in the arena, their count, and their hash.
    private var spanStart: UnsafeMutablePointer<Int>
    private var spanCount: UnsafeMutablePointer<Int>
    private var hashes: UnsafeMutablePointer<UInt64>
    private var levelCapacity = 64
    /// Open addressing; each slot holds code + 1, 0 marks an empty slot.
    private var slots: UnsafeMutablePointer<Int32>
    private var slotCount = 128

    enum Outcome {
        case code(Int32)
        /// Offset of the first byte that breaks UTF-8.
        case invalidUTF8(at: Int)
        /// Offset of a control byte (NUL and the like; tab and line breaks are text): such a cell
        /// comes from a broken export or a binary field, never from a metric.
        case controlByte(at: Int)
    }

    init() {
        arena = .allocate(capacity: arenaCapacity)
        spanStart = .allocate(capacity: levelCapacity)
        spanCount = .allocate(capacity: levelCapacity)
        hashes = .allocate(capacity: levelCapacity)
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
    }

    deinit {
        arena.deallocate()
        spanStart.deallocate()
        spanCount.deallocate()
        hashes.deallocate()
        slots.deallocate()
    }

    var count: Int { levels.count }

    func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        let n = bytes.count
        let p = bytes.baseAddress
        let h = ByteInterner.hash(p, n)
        let mask = slotCount - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 {
            let code = Int(slots[slot] - 1)
            if hashes[code] == h && spanCount[code] == n
                && (n == 0 || memcmpEqual(arena + spanStart[code], p!, n)) {
                return .code(Int32(code))
            }
            slot = (slot + 1) & mask
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .invalidUTF8(at: ByteInterner.firstInvalidUTF8(bytes))
        }
        if let k = bytes.firstIndex(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D || $0 == 0x7F }) {
            return .controlByte(at: k)
        }
        let code = levels.count
        if code == levelCapacity { growLevels() }
        if arenaCount + n > arenaCapacity { growArena(atLeast: arenaCount + n) }
        levels.append(text)
        hashes[code] = h
        spanStart[code] = arenaCount
        spanCount[code] = n
        if n > 0 { (arena + arenaCount).update(from: p!, count: n) }
        arenaCount += n
        slots[slot] = Int32(code + 1)
        if levels.count * 2 > slotCount { growSlots() }
        return .code(Int32(code))
    }

    /// For levels that are already Strings (merging chunk results).
    func intern(_ level: String) -> Int32 {
        var copy = level
        return copy.withUTF8 { buf in
            if case .code(let c) = intern(buf) { return c }
            preconditionFailure("a String is always valid UTF-8")
        }
    }

    private func growLevels() {
        let bigger = levelCapacity * 2
        func moved<T>(_ old: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let new = UnsafeMutablePointer<T>.allocate(capacity: bigger)
            new.moveInitialize(from: old, count: levelCapacity)
            old.deallocate()
            return new
        }
        spanStart = moved(spanStart)
        spanCount = moved(spanCount)
        hashes = moved(hashes)
        levelCapacity = bigger
    }

    private func growArena(atLeast needed: Int) {
        var bigger = arenaCapacity * 2
        while bigger < needed { bigger *= 2 }
        let new = UnsafeMutablePointer<UInt8>.allocate(capacity: bigger)
        new.update(from: arena, count: arenaCount)
        arena.deallocate()
        arena = new
        arenaCapacity = bigger
    }

    private func growSlots() {
        let bigger = slotCount * 2
        let new = UnsafeMutablePointer<Int32>.allocate(capacity: bigger)
        new.initialize(repeating: 0, count: bigger)
        let mask = bigger - 1
        for code in 0..<levels.count {
            var slot = Int(truncatingIfNeeded: hashes[code]) & mask
            while new[slot] != 0 { slot = (slot + 1) & mask }
            new[slot] = Int32(code + 1)
        }
        slots.deallocate()
        slots = new
        slotCount = bigger
    }

    /// FNV-1a with a final avalanche, so the low bits used for slots are mixed.
    static func hash(_ p: UnsafePointer<UInt8>?, _ n: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        if let p { for i in 0..<n { h = (h ^ UInt64(p[i])) &* 0x100_0000_01b3 } }
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
