/// How an export writes numbers beyond plain `1234.5`. Off (`plain`) unless the analyst declares
/// it, because `1,234` is a thousand in one locale and one point two in another; stored with the
/// model so that scoring reads each cell as the fit did.
public enum NumberFormat: String, Codable, Sendable, CaseIterable {
    /// Only what every parser reads: `1234.5`, `-1e3`.
    case plain
    /// Thousands separated by commas, decimal point: `1,234.5`, `$1,200.50`, `12%` (→ 0.12), `(300)` (→ −300).
    case grouped
    /// Decimal comma, thousands by dots or spaces: `1.234,5`, `1 200,50 €`, `12,5 %` (→ 0.125).
    /// A dot is never a decimal point here: `1.500` is fifteen hundred.
    case decimalComma = "decimal-comma"

    /// Spreadsheet spellings of infinity (`Inf`, `-inf`, `+Infinity`, …, blanks around allowed),
    /// which look numeric to a user but must not silently become a value or a level.
    public static func isInfinitySpelling(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        var e = p.count
        while i < e, p[i] == 0x20 || p[i] == 0x09 { i += 1 }
        while e > i, p[e - 1] == 0x20 || p[e - 1] == 0x09 { e -= 1 }
        if i < e, p[i] == 0x2D || p[i] == 0x2B { i += 1 }
        let word = e - i
        guard word == 3 || word == 8 else { return false }
        let spelled: StaticString = "infinity"
        for k in 0..<word where p[i + k] | 0x20 != spelled.utf8Start[k] { return false }
        return true
    }

    /// The value of a cell written in this format, correctly rounded; nil when the cell is not a
    /// number of this format (and always for `plain`, whose numbers the plain parser reads).
    public func value(of bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        guard self != .plain, let text = decimalText(bytes) else { return nil }
        return Double(text)
    }

    /// The cell rewritten as plain decimal text (`-1234.50e-2`), so that one correctly rounded
    /// conversion reads it; a percentage moves the point by an exponent instead of dividing.
    func decimalText(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        let groupMarks: [UInt8] = self == .grouped ? [0x2C] : [0x2E, 0x20]
        let decimalMark: UInt8 = self == .grouped ? 0x2E : 0x2C
        var i = 0, end = b.count
        func skipSpaces() { while i < end, let w = Self.spaceWidth(b, at: i) { i += w } }
        func skipCurrency() -> Bool {
            guard i < end else { return false }
            if b[i] == 0x24 { i += 1; skipSpaces(); return true }                                  // $
            if i + 1 < end, b[i] == 0xC2, b[i + 1] == 0xA3 || b[i + 1] == 0xA5 { i += 2; skipSpaces(); return true } // £ ¥
            if i + 2 < end, b[i] == 0xE2, b[i + 1] == 0x82, b[i + 2] == 0xAC { i += 3; skipSpaces(); return true } // €
            return false
        }
        while end > 0, let w = Self.spaceWidthBefore(b, end: end) { end -= w }
        skipSpaces()
        var negative = false
        var parenthesised = false
        if i < end, b[i] == 0x28 { parenthesised = true; i += 1; skipSpaces() }
        var sawSign = false
        if i < end, b[i] == 0x2D || b[i] == 0x2B { negative = b[i] == 0x2D; sawSign = true; i += 1 }
        let currencyFirst = skipCurrency()
        if !sawSign, i < end, b[i] == 0x2D || b[i] == 0x2B { negative = b[i] == 0x2D; sawSign = true; i += 1 }
        if sawSign && parenthesised { return nil }

        var digits: [UInt8] = []
        var run = 0, groups = 0
        while i < end {
            let c = b[i]
            if c >= 0x30 && c <= 0x39 { digits.append(c); run += 1; i += 1; continue }
            let width = groupMarks.contains(c) ? 1 : (self == .decimalComma ? Self.spaceWidth(b, at: i) ?? 0 : 0)
            guard width > 0, i + width < end, b[i + width] >= 0x30 && b[i + width] <= 0x39 else { break }
            // A group mark must follow 1–3 digits (first group) or exactly 3.
            guard run >= 1 && run <= 3 && (groups == 0 || run == 3) else { return nil }
            groups += 1; run = 0; i += width
        }
        if digits.isEmpty || (groups > 0 && run != 3) { return nil }
        var text = negative ? "-" : ""
        text += String(decoding: digits, as: UTF8.self)
        if i < end, b[i] == decimalMark {
            i += 1
            let start = i
            while i < end, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            if i == start { return nil }
            text += "." + String(decoding: b[start..<i], as: UTF8.self)
        }
        skipSpaces()
        if !currencyFirst { _ = skipCurrency() }
        var percent = false
        if i < end, b[i] == 0x25 { percent = true; i += 1; skipSpaces() }
        if parenthesised {
            guard i < end, b[i] == 0x29 else { return nil }
            i += 1; negative = true; text = "-" + text
        }
        guard i == end else { return nil }
        return percent ? text + "e-2" : text
    }

    /// Width of a space at `i`: ASCII space or tab, no-break space (C2 A0), narrow no-break space (E2 80 AF).
    static func spaceWidth(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        if b[i] == 0x20 || b[i] == 0x09 { return 1 }
        if i + 1 < b.count, b[i] == 0xC2, b[i + 1] == 0xA0 { return 2 }
        if i + 2 < b.count, b[i] == 0xE2, b[i + 1] == 0x80, b[i + 2] == 0xAF { return 3 }
        return nil
    }

    static func spaceWidthBefore(_ b: UnsafeBufferPointer<UInt8>, end: Int) -> Int? {
        if b[end - 1] == 0x20 || b[end - 1] == 0x09 { return 1 }
        if end >= 2, b[end - 2] == 0xC2, b[end - 1] == 0xA0 { return 2 }
        if end >= 3, b[end - 3] == 0xE2, b[end - 2] == 0x80, b[end - 1] == 0xAF { return 3 }
        return nil
    }
}
