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

    /// Spreadsheet spellings of infinity (`Inf`, `-inf`, `+Infinity`, …), which
    /// look numeric to a user but must not silently become a value or a level.
    static func isInfinityToken(_ p: UnsafePointer<UInt8>, count n: Int) -> Bool {
        var i = 0
        var e = n
        while i < e, p[i] == 0x20 || p[i] == 0x09 { i += 1 }
        while e > i, p[e - 1] == 0x20 || p[e - 1] == 0x09 { e -= 1 }
        if i < e, p[i] == 0x2D || p[i] == 0x2B { i += 1 }
        let word = e - i
        guard word == 3 || word == 8 else { return false }
        let spelled: [UInt8] = Array("infinity".utf8)
        for k in 0..<word where p[i + k] | 0x20 != spelled[k] { return false }
        return true
    }
}
