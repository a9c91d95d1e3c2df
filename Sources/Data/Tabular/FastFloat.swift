import ScoringCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decimal text → Double, correctly rounded (bit-identical to `strtod`).
///
/// Nearly every cell in a churn export has few digits, so Clinger's fast path
/// (an exact integer mantissa scaled by one exact power of ten, i.e. a single
/// correctly rounded IEEE operation) settles almost all of them; anything
/// else goes to the C library, which is slow but exact.
enum FastFloat {
    /// 10^0 … 10^22 are the powers of ten a Double holds exactly.
    private static let exactPowers: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    private static let maxExactMantissa: UInt64 = 1 << 53

    /// The shape of nearly every numeric cell, `[-]digits[.digits]`, when
    /// it fills exactly `start..<end`. Nil means "ask the general parser"
    /// (other syntax, or not settled exactly here). `limit` is the end of
    /// readable memory: cells of up to 8 bytes are read as one word.
    @inline(__always)
    static func parsePlainCell(_ p: UnsafePointer<UInt8>, start: Int, end: Int, limit: Int) -> Double? {
        let n = end &- start
        if n <= 8 && start &+ 8 <= limit {
            return parseWord(UInt64(littleEndian: UnsafeRawPointer(p + start).loadUnaligned(as: UInt64.self)), count: n)
        }
        guard let (value, stop) = parsePlain(p, from: start, end: limit), stop == end else { return nil }
        return value
    }

    /// `[-]digits[.digits]` in the first `count` (at most 8) bytes of a
    /// little-endian word, without a branch per digit: cell lengths vary
    /// from one cell to the next, so loops over digits mispredict a lot.
    @inline(__always)
    private static func parseWord(_ word: UInt64, count: Int) -> Double? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let negative = word & 0xFF == 0x2D
        let signBytes: UInt64 = negative ? 1 : 0
        let length = UInt64(truncatingIfNeeded: count) &- signBytes
        guard length &- 1 < 8 else { return nil }                // 1...8 bytes left
        let keep = ~0 as UInt64 &>> (64 &- 8 &* length)
        let w = (word &>> (8 &* signBytes)) & keep
        let dots = zeroBytes(w ^ (0x2E &* ones)) & keep
        guard dots & (dots &- 1) == 0 else { return nil }        // at most one '.'
        let dotAt = UInt64(truncatingIfNeeded: dots.trailingZeroBitCount) &>> 3   // 8 when there is none
        let hasDot: UInt64 = dots != 0 ? 1 : 0
        // Close the gap left by the dot: bytes after it move down one place.
        let below = dotAt == 8 ? ~0 as UInt64 : (1 &<< (8 &* dotAt)) &- 1
        let digits = (w & below) | ((w &>> 8) & ~below)
        let digitCount = length &- hasDot
        guard digitCount &- 1 < 8, leadingDigitCount(digits) >= digitCount else { return nil }
        // Move the digits to the top so the empty bytes below act as leading zeros.
        let mantissa = eightDigits((digits &- 0x30 &* ones) &<< (64 &- 8 &* digitCount))
        let scale = hasDot == 1 ? digitCount &- dotAt : 0
        // Dividing by 10^0 = 1 is exact, so no branch is needed for integers.
        let v = Double(mantissa) / wordPowers[Int(truncatingIfNeeded: scale & 7)]
        return negative ? -v : v
    }

    private static let wordPowers: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7]

    /// `[-]digits[.digits]` of at most 8 bytes after the sign, read from
    /// `p` without knowing where the cell ends: the number's own length is
    /// found from the bytes, so the parse loop needs no separate scan for
    /// the cell's end. Returns the value and the index of the first byte
    /// after the number (the caller checks that it ends the cell).
    /// Requires 9 readable bytes at `p`.
    @inline(__always)
    static func parseLeading(_ p: UnsafePointer<UInt8>) -> (value: Double, length: Int)? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let negative = p[0] == 0x2D
        let signBytes = negative ? 1 : 0
        let w = UInt64(littleEndian: UnsafeRawPointer(p + signBytes).loadUnaligned(as: UInt64.self))
        let dotBits = zeroBytes(w ^ (0x2E &* ones))
        // Digits become 0...9; the high bit of (x & 0x7F) + 0x76 is then set iff x >= 10.
        let x = w ^ (0x30 &* ones)
        let nonDigit = (((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7676_7676_7676_7676) | x) & highBits
        let stops = nonDigit & ~dotBits
        let length = UInt64(truncatingIfNeeded: stops.trailingZeroBitCount) &>> 3   // 8 when all are digits or dots
        // Bytes before the first stop (all of them when there is none).
        let keep = ((stops & (0 &- stops)) &>> 7) &- 1
        let dots = dotBits & keep
        guard dots & (dots &- 1) == 0 else { return nil }                // at most one '.'
        let hasDot: UInt64 = dots != 0 ? 1 : 0
        let dotAt = UInt64(truncatingIfNeeded: dots.trailingZeroBitCount) &>> 3   // 8 when there is none
        // Close the gap left by the dot: bytes after it move down one place.
        let below = (dots &>> 7) &- 1
        let digits = (x & below) | ((x &>> 8) & ~below)
        let digitCount = length &- hasDot
        guard digitCount != 0 else { return nil }
        // Move the digits to the top so the empty bytes below act as leading zeros.
        let mantissa = eightDigits(digits &<< (64 &- 8 &* digitCount))
        let scale = (digitCount &- dotAt) & (0 &- hasDot)
        // Dividing by 10^0 = 1 is exact, so no branch is needed for integers.
        let v = Double(mantissa) / wordPowers[Int(truncatingIfNeeded: scale & 7)]
        return (negative ? -v : v, signBytes &+ Int(truncatingIfNeeded: length))
    }

    /// `[-]digits[.digits]` starting at `start`, up to 19 digits. Returns the
    /// value and the index of the first byte after the number.
    static func parsePlain(_ p: UnsafePointer<UInt8>, from start: Int, end: Int) -> (value: Double, stop: Int)? {
        var i = start
        var negative = false
        if i < end && p[i] == 0x2D { negative = true; i += 1 }
        var mantissa: UInt64 = 0
        let integerStart = i
        while i < end {
            let d = p[i] &- 0x30
            if d > 9 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        var digits = i - integerStart
        var scale = 0
        if i < end && p[i] == 0x2E {
            i += 1
            let fractionStart = i
            while i < end {
                let d = p[i] &- 0x30
                if d > 9 { break }
                mantissa = mantissa &* 10 &+ UInt64(d)
                i += 1
            }
            scale = i - fractionStart
            digits += scale
        }
        // Beyond 19 digits the mantissa may have wrapped; the general parser takes those.
        if digits == 0 || digits > 19 || scale > 22 || mantissa > maxExactMantissa { return nil }
        let v = Double(mantissa) / exactPowers[scale]
        return (negative ? -v : v, i)
    }

    /// High bit set in each byte of `x` that is zero (exact, no false hits).
    @inline(__always)
    private static func zeroBytes(_ x: UInt64) -> UInt64 {
        ~(((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | x) & 0x8080_8080_8080_8080
    }

    /// How many of the word's bytes, from the first, are ASCII digits.
    @inline(__always)
    private static func leadingDigitCount(_ word: UInt64) -> UInt64 {
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let low7 = word & 0x7F7F_7F7F_7F7F_7F7F
        // Per byte, the high bit of low7 + k is set iff low7 >= 0x80 - k; no carries cross bytes.
        let atLeastZero = low7 &+ 0x5050_5050_5050_5050
        let aboveNine = low7 &+ 0x4646_4646_4646_4646
        let isDigit = atLeastZero & ~aboveNine & ~word & highBits
        return UInt64(truncatingIfNeeded: (~isDigit & highBits).trailingZeroBitCount) &>> 3
    }

    /// Value of eight digit bytes (0...9 each, first byte most significant).
    @inline(__always)
    private static func eightDigits(_ word: UInt64) -> UInt64 {
        var v = (word &* 10 &+ (word >> 8)) & 0x00FF_00FF_00FF_00FF   // pairs
        v = (v &* 100 &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF           // quadruples
        return (v & 0xFFFF) &* 10_000 &+ (v >> 32)
    }

    /// Parses `[spaces] [+-] digits [. digits] [(e|E) [+-] digits] [spaces]`
    /// covering all `count` bytes (a lone "." or an empty mantissa is rejected).
    /// Returns nil when the text is not such a number. Values beyond the
    /// Double range come back as ±infinity, as from `strtod`.
    @inline(__always)
    static func parse(_ p: UnsafePointer<UInt8>, count n: Int) -> Double? {
        var i = 0
        while i < n, p[i] == 0x20 || p[i] == 0x09 { i += 1 }
        let numberStart = i
        var negative = false
        if i < n, p[i] == 0x2D || p[i] == 0x2B { negative = p[i] == 0x2D; i += 1 }

        var mantissa: UInt64 = 0
        var digits = 0          // significant digits held in `mantissa`
        var truncated = false   // a nonzero digit did not fit in 19
        var exponent = 0
        var sawDigit = false

        while i < n {
            let d = p[i] &- 0x30
            if d > 9 { break }
            sawDigit = true
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                if mantissa != 0 { digits += 1 }
            } else {
                exponent += 1
                if d != 0 { truncated = true }
            }
            i += 1
        }
        if i < n, p[i] == 0x2E {
            i += 1
            while i < n {
                let d = p[i] &- 0x30
                if d > 9 { break }
                sawDigit = true
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                } else if d != 0 {
                    truncated = true
                }
                i += 1
            }
        }
        if !sawDigit { return nil }
        if i < n, p[i] | 0x20 == 0x65 {  // e or E
            i += 1
            var expNegative = false
            if i < n, p[i] == 0x2D || p[i] == 0x2B { expNegative = p[i] == 0x2D; i += 1 }
            var explicit = 0
            var sawExpDigit = false
            while i < n {
                let d = p[i] &- 0x30
                if d > 9 { break }
                sawExpDigit = true
                // Clamped: past this the value is 0 or ∞ anyway, and strtod decides.
                if explicit < 100_000 { explicit = explicit * 10 + Int(d) }
                i += 1
            }
            if !sawExpDigit { return nil }
            exponent += expNegative ? -explicit : explicit
        }
        let numberEnd = i
        while i < n, p[i] == 0x20 || p[i] == 0x09 { i += 1 }
        if i != n { return nil }

        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        if !truncated && mantissa <= maxExactMantissa {
            if exponent >= 0 && exponent <= 22 {
                let v = Double(mantissa) * exactPowers[exponent]
                return negative ? -v : v
            }
            if exponent < 0 && exponent >= -22 {
                let v = Double(mantissa) / exactPowers[-exponent]
                return negative ? -v : v
            }
            // "12e25": move spare powers into the integer while it stays exact.
            if exponent > 22 && exponent <= 22 + 15 {
                var m = mantissa
                var e = exponent
                while e > 22 && m <= maxExactMantissa / 10 { m *= 10; e -= 1 }
                if e == 22 {
                    let v = Double(m) * exactPowers[22]
                    return negative ? -v : v
                }
            }
        }
        return slowPath(p + numberStart, count: numberEnd - numberStart)
    }

    /// `strtod` on a NUL-terminated copy. If it stops early (a process that
    /// changed LC_NUMERIC so '.' is not the decimal point), the stdlib's
    /// locale-independent parser takes over.
    private static func slowPath(_ p: UnsafePointer<UInt8>, count n: Int) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf in
            let base = buf.baseAddress!
            UnsafeMutableRawPointer(base).copyMemory(from: p, byteCount: n)
            base[n] = 0
            var stop: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(base, &stop)
            if stop == base + n { return v }
            let text = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
            return Double(text) ?? .nan
        }
    }

    /// Spreadsheet spellings of infinity (`NumberFormat.isInfinitySpelling`).
    static func isInfinityToken(_ p: UnsafePointer<UInt8>, count n: Int) -> Bool {
        NumberFormat.isInfinitySpelling(UnsafeBufferPointer(start: p, count: n))
    }
}
