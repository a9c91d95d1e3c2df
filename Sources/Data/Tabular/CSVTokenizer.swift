#if canImport(Glibc)
import Glibc
#endif
import ScoringCore
import Support

/// Test for NA tokens, ignoring ASCII case and surrounding spaces (`null`, `NA `, `n/a` are the
/// NA, NULL and N/A of another export). Most cells are numbers that cannot be NA, so a length
/// bitmap and a first-byte table reject them before any byte comparison.
struct NAMatcher: Sendable {
    private let tokens: [[UInt8]]
    private let lengths: UInt64
    private let hasLongToken: Bool
    private let firstBytes: [Bool]
    private let matchesEmpty: Bool
    /// Some token reads as a number (say "-999"), so numbers must be checked for NA.
    let hasNumericToken: Bool

    init(_ values: Set<String>) {
        let tokens = Set(values.map(NAMatcher.normalised)).sorted().map { Array($0.utf8) }.filter { !$0.isEmpty }
        self.tokens = tokens
        var lengths: UInt64 = 0
        var first = [Bool](repeating: false, count: 256)
        for t in tokens {
            if t.count < 64 { lengths |= 1 << UInt64(t.count) }
            first[Int(t[0])] = true
            first[Int(NAMatcher.upper(t[0]))] = true
        }
        self.lengths = lengths
        self.hasLongToken = tokens.contains { $0.count >= 64 }
        self.firstBytes = first
        self.matchesEmpty = values.contains { NAMatcher.normalised($0).isEmpty }
        self.hasNumericToken = tokens.contains { t in
            t.withUnsafeBufferPointer { FastFloat.parse($0.baseAddress!, count: t.count) != nil }
        }
    }

    /// The form tokens are compared in: spaces and tabs trimmed, ASCII lower case.
    static func normalised(_ token: String) -> String {
        String(decoding: Array(token.utf8).trimmingSpaces().map(lower), as: UTF8.self)
    }

    @inline(__always) private static func lower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }
    @inline(__always) private static func upper(_ b: UInt8) -> UInt8 { b &- 0x61 < 26 ? b & ~0x20 : b }
    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    @inline(__always)
    func matches(_ p: UnsafePointer<UInt8>, count n: Int) -> Bool {
        if n == 0 { return matchesEmpty }
        if NAMatcher.isSpace(p[0]) || NAMatcher.isSpace(p[n - 1]) { return trimmedMatch(p, count: n) }
        if n < 64 {
            if lengths & (1 << UInt64(n)) == 0 { return false }
        } else if !hasLongToken {
            return false
        }
        if !firstBytes[Int(p[0])] { return false }
        return slowMatch(p, count: n)
    }

    @inline(never)
    private func trimmedMatch(_ p: UnsafePointer<UInt8>, count n: Int) -> Bool {
        var s = 0, e = n
        while s < e && NAMatcher.isSpace(p[s]) { s += 1 }
        while e > s && NAMatcher.isSpace(p[e - 1]) { e -= 1 }
        return s == e ? matchesEmpty : matches(p + s, count: e - s)
    }

    private func slowMatch(_ p: UnsafePointer<UInt8>, count n: Int) -> Bool {
        outer: for t in tokens where t.count == n {
            for i in 0..<n where t[i] != NAMatcher.lower(p[i]) { continue outer }
            return true
        }
        return false
    }
}

extension Array where Element == UInt8 {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> ArraySlice<UInt8> {
        guard let s = firstIndex(where: { !NAMatcher.isSpace($0) }) else { return [] }
        let e = lastIndex(where: { !NAMatcher.isSpace($0) })!
        return self[s...e]
    }
}

enum Terminator: UInt8 {
    case comma, lineEnd, fileEnd
}

/// One field as located in the file: `start..<end` is the content without
/// the surrounding quotes; `escaped` means it still contains `""` pairs.
struct FieldToken {
    var start: Int
    var end: Int
    var next: Int
    var newlines: Int
    var terminator: Terminator
    var quoted: Bool
    var escaped: Bool
}

/// Finds the next byte below '-' (0x2D). The four bytes that end or quote a
/// field are all in that range, along with few others (space, '+',
/// controls), so callers check each candidate. A bitmap covers 64 bytes at
/// a time: stepping from one field to the next is then a shift and a
/// bit scan, instead of a byte loop whose length depends on the field.
struct CandidateScanner {
    private var blockStart = Int.min / 2
    private var mask: UInt64 = 0

    @inline(__always)
    mutating func next(from pos: Int, base: UnsafePointer<UInt8>, end: Int) -> Int {
        var p = pos
        while true {
            let offset = p &- blockStart
            if offset >= 0 && offset < 64 {
                let rest = mask >> UInt64(offset)
                if rest != 0 { return p &+ rest.trailingZeroBitCount }
                p = blockStart &+ 64
            }
            if p &+ 64 > end {
                while p < end && base[p] >= 0x2D { p += 1 }
                return p
            }
            blockStart = p
            mask = CandidateScanner.candidates(UnsafeRawPointer(base + p))
        }
    }

    /// Bit i is set when byte i of the 64 is below 0x2D (and ASCII).
    @inline(__always)
    private static func candidates(_ p: UnsafeRawPointer) -> UInt64 {
        var bits: UInt64 = 0
        for k in 0..<8 {
            let word = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self))
            // Per byte: high bit of (b & 0x7F) + 0x53 is set iff b & 0x7F >= 0x2D; no carries cross bytes.
            let below = ~(((word & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x5353_5353_5353_5353) | word) & 0x8080_8080_8080_8080
            // Gather the eight high bits into one byte.
            let packed = ((below >> 7) &* 0x0102_0408_1020_4080) >> 56
            bits |= packed << UInt64(8 * k)
        }
        return bits
    }
}

/// RFC 4180 field splitting over the whole file buffer. Stateless, so the
/// chunk parsers, the header reader and the re-scans all share it.
struct Tokenizer: @unchecked Sendable {
    /// No metric, label or id needs more; a longer field is almost always an unbalanced quote that
    /// swallowed the lines after it, and refusing it keeps memory bounded whatever the file holds.
    static let maxFieldBytes = 1 << 20

    let base: UnsafePointer<UInt8>
    /// Trailing blank lines are already cut off, so `end` is the last record's end.
    let end: Int
    let path: String
    let names: [String]

    /// For occasional use (header, re-scans); the hot loop keeps its scanner.
    func field(at pos: Int, row: Int?, line: Int, column: Int) throws -> FieldToken {
        var scanner = CandidateScanner()
        return try field(at: pos, scanner: &scanner, row: row, line: line, column: column)
    }

    @inline(__always)
    func field(at pos: Int, scanner: inout CandidateScanner, row: Int?, line: Int, column: Int) throws -> FieldToken {
        var q = scanner.next(from: pos, base: base, end: end)
        while true {
            if q == end {
                if q - pos > Self.maxFieldBytes { throw overlongField(bytes: q - pos, row: row, line: line, column: column) }
                return FieldToken(start: pos, end: q, next: q, newlines: 0, terminator: .fileEnd,
                                  quoted: false, escaped: false)
            }
            let b = base[q]
            if b == 0x2C || b == 0x0A || b == 0x0D || b == 0x22 { break }
            q = scanner.next(from: q + 1, base: base, end: end)
        }
        if q - pos > Self.maxFieldBytes { throw overlongField(bytes: q - pos, row: row, line: line, column: column) }
        // A branch chain, not a switch: commas dominate and predict well,
        // where a jump table costs an indirect branch per field.
        let b = base[q]
        if b == 0x2C {
            return FieldToken(start: pos, end: q, next: q + 1, newlines: 0, terminator: .comma,
                              quoted: false, escaped: false)
        }
        if b == 0x0A {
            return FieldToken(start: pos, end: q, next: q + 1, newlines: 1, terminator: .lineEnd,
                              quoted: false, escaped: false)
        }
        return try unusualEnd(at: q, fieldStart: pos, row: row, line: line, column: column)
    }

    /// CRLF, or a quote: opening a quoted field, or misplaced.
    @inline(never)
    private func unusualEnd(at q: Int, fieldStart pos: Int, row: Int?, line: Int, column: Int) throws -> FieldToken {
        if base[q] == 0x0D {
            if q + 1 < end && base[q + 1] == 0x0A {
                return FieldToken(start: pos, end: q, next: q + 2, newlines: 1, terminator: .lineEnd,
                                  quoted: false, escaped: false)
            }
            throw bareCarriageReturn(row: row, line: line, column: column)
        }
        if q == pos { return try quotedField(at: pos, row: row, line: line, column: column) }
        throw strayQuote(fieldStart: pos, row: row, line: line, column: column)
    }

    @inline(never)
    private func quotedField(at pos: Int, row: Int?, line: Int, column: Int) throws -> FieldToken {
        var q = pos + 1
        var newlines = 0
        var escaped = false
        while true {
            guard q < end else {
                throw error(row: row, line: line, column: column,
                            problem: "quoted field opened here is never closed",
                            fix: "add the closing quote (write a quote inside a quoted field as \"\")")
            }
            if q - pos > Self.maxFieldBytes { throw overlongField(bytes: nil, row: row, line: line, column: column) }
            let b = base[q]
            if b == 0x22 {
                if q + 1 < end && base[q + 1] == 0x22 {
                    escaped = true
                    q += 2
                    continue
                }
                break
            }
            if b == 0x0A { newlines += 1 }
            q += 1
        }
        let contentEnd = q
        q += 1
        var token = FieldToken(start: pos + 1, end: contentEnd, next: q, newlines: newlines,
                               terminator: .fileEnd, quoted: true, escaped: escaped)
        if q == end { return token }
        switch base[q] {
        case 0x2C:
            token.terminator = .comma
            token.next = q + 1
        case 0x0A:
            token.terminator = .lineEnd
            token.next = q + 1
            token.newlines += 1
        case 0x0D where q + 1 < end && base[q + 1] == 0x0A:
            token.terminator = .lineEnd
            token.next = q + 2
            token.newlines += 1
        default:
            let shown = Diagnostic.excerpt(bytes: UnsafeBufferPointer(start: base + q, count: 1))
            throw error(row: row, line: line + newlines, column: column,
                        problem: "unexpected character '\(shown)' after the closing quote of a quoted field",
                        fix: "put the comma right after the closing quote, or double the quote (\"\") if it belongs to the text")
        }
        return token
    }

    /// Decoded content of a field: a view into the file unless `""` pairs must be collapsed.
    func withBytes<R>(of f: FieldToken, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withBytes(start: f.start, end: f.end, escaped: f.escaped, body)
    }

    func withBytes<R>(start: Int, end: Int, escaped: Bool, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if !escaped {
            return try body(UnsafeBufferPointer(start: base + start, count: end - start))
        }
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            out.append(base[i])
            i += base[i] == 0x22 ? 2 : 1
        }
        return try out.withUnsafeBufferPointer(body)
    }

    /// Counts the fields of a record, for the "found N" of a ragged-row error.
    func fieldCount(recordStart: Int, line: Int) -> Int {
        var pos = recordStart
        var count = 0
        while true {
            guard let f = try? field(at: pos, row: nil, line: line, column: count) else { return count + 1 }
            count += 1
            if f.terminator != .comma { return count }
            pos = f.next
        }
    }

    func error(row: Int?, line: Int, column: Int, problem: String, fix: String) -> Diagnostic {
        if row == nil {
            return Diagnostic(.data, file: path, line: line, problem: "in the header (field \(column + 1)): " + problem, fix: fix)
        }
        return Diagnostic(.data, file: path, row: row, line: line, column: column < names.count ? names[column] : nil,
                         problem: problem, fix: fix)
    }

    private func overlongField(bytes: Int?, row: Int?, line: Int, column: Int) -> Diagnostic {
        let size = bytes.map { "\($0) bytes, " } ?? ""
        return error(row: row, line: line, column: column,
                     problem: "a field longer than \(Self.maxFieldBytes >> 20) MiB (\(size)more than any metric, label or id needs)",
                     fix: "check for an unbalanced quote that swallowed the lines after it, or remove the free-text column from the export")
    }

    private func bareCarriageReturn(row: Int?, line: Int, column: Int) -> Diagnostic {
        error(row: row, line: line, column: column,
              problem: "line break is a bare carriage return (CR) without a line feed",
              fix: "save the file with LF or CRLF line endings")
    }

    private func strayQuote(fieldStart: Int, row: Int?, line: Int, column: Int) -> Diagnostic {
        var e = fieldStart
        while e < end, base[e] != 0x2C, base[e] != 0x0A, base[e] != 0x0D { e += 1 }
        let raw = UnsafeBufferPointer(start: base + fieldStart, count: e - fieldStart)
        let shown = Diagnostic.excerpt(bytes: raw)
        let leadingSpaces = raw.prefix(while: { $0 == 0x20 || $0 == 0x09 })
        let fix = leadingSpaces.count > 0 && raw[leadingSpaces.count] == 0x22
            ? "remove the spaces between the comma and the opening quote"
            : "quote the whole field and double the quotes inside it, e.g. \"ab\"\"c\""
        return error(row: row, line: line, column: column,
                     problem: "quote character inside an unquoted field '\(shown)'", fix: fix)
    }
}
