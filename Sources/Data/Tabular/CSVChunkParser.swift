#if canImport(Glibc)
import Glibc
#endif
import ScoringCore
import Support

/// Settings shared read-only by every chunk parser of one file.
final class ParsePlan: @unchecked Sendable {
    let tokenizer: Tokenizer
    let forcedText: [Bool]
    let skipped: [Bool]
    let hashed: [Bool]
    let na: NAMatcher
    /// Opt-in business number spellings (`1,234`, `$5`, `12%`) read as numbers.
    let numberFormat: NumberFormat
    let allowsEmptyColumns: Bool
    /// The bytes are a page-aligned file mapping whose parsed pages may be
    /// dropped (they are read back from the file if a re-scan needs them).
    let releasesPages: Bool

    init(tokenizer: Tokenizer, forcedText: [Bool], skipped: [Bool], hashed: [Bool], na: NAMatcher,
         numberFormat: NumberFormat = .plain, allowsEmptyColumns: Bool = false, releasesPages: Bool = false) {
        self.numberFormat = numberFormat
        self.allowsEmptyColumns = allowsEmptyColumns
        self.tokenizer = tokenizer
        self.forcedText = forcedText
        self.skipped = skipped
        self.hashed = hashed
        self.na = na
        self.releasesPages = releasesPages
    }

    var names: [String] { tokenizer.names }

    /// Lets the number fast path skip the NA check (and the format: with a decimal comma,
    /// `1.500` is not one and a half).
    var plainNumbersAreNeverNA: Bool { !na.hasNumericToken && readsPlainNumbers }

    /// Whether a plain-looking cell means what the plain parser reads.
    var readsPlainNumbers: Bool { numberFormat != .decimalComma }
}

/// Growable per-cell output, appended to through a pointer: mutating a
/// class's `var` array instead costs two exclusivity-check calls into the
/// runtime per cell, more than hashing or interning the cell.
struct CellBuffer<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    @inline(__always)
    mutating func append(_ x: Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: x)
        count &+= 1
    }

    @inline(never)
    private mutating func grow() {
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }

    var array: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }

    func free() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}

/// Owns a `CellBuffer` at a fixed address, so per-cell appends reach it through a `let`.
final class CellColumn<Element> {
    let cells: UnsafeMutablePointer<CellBuffer<Element>>

    init(capacity: Int) {
        cells = .allocate(capacity: 1)
        cells.initialize(to: CellBuffer(capacity: capacity))
    }

    deinit {
        cells.pointee.free()
        cells.deinitialize(count: 1)
        cells.deallocate()
    }

    var values: [Element] { cells.pointee.array }
}

final class HashBuilder {
    let hashes: CellColumn<UInt64>
    init(capacity: Int) { hashes = CellColumn(capacity: capacity) }
    var values: [UInt64] { hashes.values }
}

final class TextBuilder {
    let interner = ByteInterner()
    let column: CellColumn<Int32>
    init(capacity: Int) { column = CellColumn(capacity: capacity) }
    var codes: [Int32] { column.values }
}

/// First infinite cell of a column still typed numeric; only an error if
/// the column ends up numeric, since in a text column it is just a level.
struct InfSighting {
    var row: Int     // 0-based within the chunk
    var line: Int    // relative to the chunk's first line (1-based)
    var text: String
    var overflow: Bool
}

/// Parses the records that start in `start..<stopAt` into per-column
/// buffers. The whole file is one chunk in the single-threaded path; in the
/// parallel path `start` is a guess that the caller verifies afterwards.
/// Rows and lines in its errors and results are relative to the chunk.
final class ChunkParser: @unchecked Sendable {
    static let numericKind: UInt8 = 0
    static let textKind: UInt8 = 1
    static let skippedKind: UInt8 = 2
    /// Identity columns: one 64-bit hash of the cell's bytes per row, no level table.
    static let hashedKind: UInt8 = 3
    private static let blockRows = 256
    /// Padded so the columns' staging rows fall into different cache sets.
    private static let stride = blockRows + 8

    let plan: ParsePlan
    let start: Int
    let stopAt: Int
    let columnCount: Int
    private let expectedRows: Int

    private let kindStore: UnsafeMutablePointer<UInt8>
    private let missingStore: UnsafeMutablePointer<Int>
    /// The latest rows' numbers, column-major, before they are appended to
    /// `numeric` in one go.
    private let staging: UnsafeMutablePointer<Double>

    var numeric: [[Double]]
    /// Per hashed column; 0 marks a missing cell.
    var hashed: [HashBuilder?]
    private let hashBuilders: UnsafeMutablePointer<Unmanaged<HashBuilder>?>
    var text: [TextBuilder?]
    /// Unretained views of `text` and of the plan's pieces for the per-cell text path.
    private let textBuilders: UnsafeMutablePointer<Unmanaged<TextBuilder>?>
    private let naMatcher: NAMatcher
    private let textBase: UnsafePointer<UInt8>
    var infinities: [InfSighting?]
    private(set) var recordStarts: [Int] = []
    private(set) var recordLines: [Int32] = []
    private(set) var rowCount = 0
    private(set) var endPos = 0
    private(set) var newlineCount = 0

    init(plan: ParsePlan, start: Int, stopAt: Int, expectedRows: Int) {
        self.plan = plan
        self.start = start
        self.stopAt = stopAt
        self.columnCount = plan.names.count
        self.expectedRows = max(16, expectedRows)
        let n = columnCount
        kindStore = .allocate(capacity: n)
        missingStore = .allocate(capacity: n)
        missingStore.initialize(repeating: 0, count: n)
        staging = .allocate(capacity: n * ChunkParser.stride)
        textBuilders = .allocate(capacity: n)
        textBuilders.initialize(repeating: nil, count: n)
        naMatcher = plan.na
        textBase = plan.tokenizer.base
        numeric = Array(repeating: [], count: n)
        hashed = Array(repeating: nil, count: n)
        hashBuilders = .allocate(capacity: n)
        hashBuilders.initialize(repeating: nil, count: n)
        text = Array(repeating: nil, count: n)
        infinities = Array(repeating: nil, count: n)
        for c in 0..<n {
            if plan.hashed[c] {
                kindStore[c] = ChunkParser.hashedKind
                let builder = HashBuilder(capacity: self.expectedRows)
                hashed[c] = builder
                hashBuilders[c] = Unmanaged.passUnretained(builder)
            } else if plan.skipped[c] {
                kindStore[c] = ChunkParser.skippedKind
            } else if plan.forcedText[c] {
                kindStore[c] = ChunkParser.textKind
                let builder = TextBuilder(capacity: self.expectedRows)
                text[c] = builder
                textBuilders[c] = Unmanaged.passUnretained(builder)
            } else {
                kindStore[c] = ChunkParser.numericKind
                numeric[c].reserveCapacity(self.expectedRows)
                adviseHugePages(&numeric[c])
            }
        }
    }

    /// Column arrays are large and filled front to back (see the module's `adviseHugePages`).
    private func adviseHugePages(_ array: inout [Double]) {
        let bytes = array.capacity * MemoryLayout<Double>.stride
        array.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Tabular.adviseHugePages(UnsafeMutableRawPointer(base), bytes: bytes)
        }
    }

    deinit {
        kindStore.deallocate()
        missingStore.deallocate()
        staging.deallocate()
        textBuilders.deallocate()
        hashBuilders.deallocate()
    }

    func kind(_ c: Int) -> UInt8 { kindStore[c] }
    func missing(_ c: Int) -> Int { missingStore[c] }

    func run() throws {
        let tk = plan.tokenizer
        let na = plan.na
        let base = tk.base
        let kinds = kindStore
        let missing = missingStore
        let staging = self.staging
        let stride = ChunkParser.stride
        let last = columnCount - 1
        let end = tk.end
        let plainNumbersAreNeverNA = plan.plainNumbersAreNeverNA
        let fastNumbers = plainNumbersAreNeverNA
        let readsPlainNumbers = plan.readsPlainNumbers
        /// `parseLeading` reads up to 9 bytes and its end byte 1 more.
        let fastLimit = end &- 10
        var scanner = CandidateScanner()
        let releasesPages = plan.releasesPages
        var released = start
        var pos = start
        var line = 1
        var row = 0
        var pending = 0
        var starts: [Int] = []
        var lines: [Int32] = []
        starts.reserveCapacity(expectedRows)
        lines.reserveCapacity(expectedRows)
        while pos < stopAt {
            starts.append(pos)
            lines.append(Int32(truncatingIfNeeded: line))
            let recordLine = line
            var c = 0
            var cell = staging + pending    // this row's slot in column c's staging
            while true {
                // Short plain numbers end where their digits do: parsed straight
                // from the cell start, with no scan for the field's end first.
                if fastNumbers && kinds[c] == ChunkParser.numericKind && pos < fastLimit,
                   let (v, n) = FastFloat.parseLeading(base + pos),
                   base[pos &+ n] == (c == last ? 0x0A : 0x2C) {
                    cell.pointee = v
                    pos &+= n &+ 1
                    if c == last { line &+= 1; break }
                    c &+= 1
                    cell += stride
                    continue
                }
                // The common ends (comma, LF) are taken here, in the loop: the
                // compiler does not inline `Tokenizer.field`, and a call per cell
                // that returns the token through memory cost a fifth of the parse.
                let f: FieldToken
                let q = scanner.next(from: pos, base: base, end: end)
                if q < end && base[q] == 0x2C {
                    f = FieldToken(start: pos, end: q, next: q &+ 1, newlines: 0, terminator: .comma,
                                   quoted: false, escaped: false)
                } else if q < end && base[q] == 0x0A {
                    f = FieldToken(start: pos, end: q, next: q &+ 1, newlines: 1, terminator: .lineEnd,
                                   quoted: false, escaped: false)
                } else {
                    f = try tk.field(at: pos, scanner: &scanner, row: row &+ 1, line: line, column: c)
                }
                if f.terminator == .comma {
                    if c == last { throw tooManyFields(recordStart: starts[row], row: row + 1, line: recordLine) }
                } else if c != last {
                    throw tooFewFields(found: c + 1, row: row + 1, line: recordLine,
                                       emptyLine: c == 0 && f.start == f.end && !f.quoted)
                }
                if kinds[c] == ChunkParser.numericKind {
                    let s = f.start, e = f.end, escaped = f.escaped
                    if plainNumbersAreNeverNA && !escaped,
                       let v = FastFloat.parsePlainCell(base, start: s, end: e, limit: end) {
                        cell.pointee = v
                    } else if !escaped && na.matches(base + s, count: e &- s) {
                        cell.pointee = .nan
                        missing[c] &+= 1
                    } else if !escaped, readsPlainNumbers, let v = FastFloat.parse(base + s, count: e &- s), v.isFinite {
                        cell.pointee = v
                    } else {
                        try numericSlowPath(c, start: s, end: e, escaped: escaped, row: row,
                                            value: cell, starts: starts, lines: lines)
                    }
                } else if kinds[c] == ChunkParser.textKind {
                    try appendText(c, start: f.start, end: f.end, escaped: f.escaped, row: row, starts: starts, lines: lines)
                } else if kinds[c] == ChunkParser.hashedKind {
                    appendHash(c, start: f.start, end: f.end, escaped: f.escaped)
                }
                pos = f.next
                line &+= f.newlines
                if c == last { break }
                c &+= 1
                cell += stride
            }
            row &+= 1
            pending &+= 1
            if pending == ChunkParser.blockRows {
                flush(pending)
                pending = 0
                if releasesPages && pos &- released >= ChunkParser.releaseStep { released = release(from: released, to: pos) }
            }
        }
        flush(pending)
        recordStarts = starts
        recordLines = lines
        rowCount = row
        endPos = pos
        newlineCount = line - 1
    }

    /// Parsed input need not stay resident: without this a mapped file's
    /// pages add the whole file to the peak memory of ingest.
    private static let releaseStep = 8 << 20

    @inline(never)
    private func release(from: Int, to: Int) -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (from + page - 1) & ~(page - 1)
        let last = to & ~(page - 1)
        if last > first {
            _ = madvise(UnsafeMutableRawPointer(mutating: plan.tokenizer.base + first), last - first, MADV_DONTNEED)
        }
        return max(from, last)
    }

    @inline(never)
    private func appendText(_ c: Int, start: Int, end: Int, escaped: Bool, row: Int,
                            starts: [Int], lines: [Int32]) throws {
        // Borrow the builder and matcher: copying `plan.tokenizer` or `plan.na` per cell would retain
        // their arrays, which used to cost more than the parse itself on id columns.
        try textBuilders[c]!._withUnsafeGuaranteedRef { builder in
            var code: Int32 = -1
            if !escaped, case let p = textBase + start, !naMatcher.matches(p, count: end &- start) {
                if case .code(let k) = builder.interner.intern(UnsafeBufferPointer(start: p, count: end &- start)) {
                    code = k
                } else {
                    code = try textCode(start: start, end: end, escaped: escaped, interner: builder.interner,
                                        row: row, column: c, starts: starts, lines: lines)
                }
            } else if escaped {
                code = try textCode(start: start, end: end, escaped: escaped, interner: builder.interner,
                                    row: row, column: c, starts: starts, lines: lines)
            }
            if code < 0 { missingStore[c] += 1 }
            builder.column.cells.pointee.append(code)
        }
    }

    private func appendHash(_ c: Int, start: Int, end: Int, escaped: Bool) {
        let h: UInt64
        if !escaped {
            let p = textBase + start, n = end &- start
            h = naMatcher.matches(p, count: n) ? 0 : max(1, ByteInterner.hash(p, n))
        } else {
            h = plan.tokenizer.withBytes(start: start, end: end, escaped: true) { b in
                naMatcher.matches(b.baseAddress ?? textBase, count: b.count) ? 0 : max(1, ByteInterner.hash(b.baseAddress, b.count))
            }
        }
        if h == 0 { missingStore[c] += 1 }
        hashBuilders[c]!._withUnsafeGuaranteedRef { $0.hashes.cells.pointee.append(h) }
    }

    private func flush(_ rows: Int) {
        guard rows > 0 else { return }
        for c in 0..<columnCount where kindStore[c] == ChunkParser.numericKind {
            numeric[c].append(contentsOf: UnsafeBufferPointer(start: staging + c * ChunkParser.stride, count: rows))
        }
    }

    /// Physical line where a cell starts; only needed for messages, so it is
    /// worked out again from the record start rather than stored per cell.
    private func line(ofRow row: Int, column c: Int, starts: [Int], lines: [Int32]) -> Int {
        let tk = plan.tokenizer
        var line = Int(lines[row])
        var pos = starts[row]
        for k in 0..<c {
            guard let f = try? tk.field(at: pos, row: row + 1, line: line, column: k) else { break }
            line += f.newlines
            pos = f.next
        }
        return line
    }

    /// Cells the fast path did not settle: escaped text, NA tokens that look
    /// numeric, infinities, and the first non-number, which turns the column
    /// into text.
    @inline(never)
    private func numericSlowPath(_ c: Int, start: Int, end: Int, escaped: Bool, row: Int,
                                 value: UnsafeMutablePointer<Double>, starts: [Int], lines: [Int32]) throws {
        let tk = plan.tokenizer
        enum Verdict { case missing, value(Double), infinite(String, overflow: Bool), text }
        let verdict: Verdict = tk.withBytes(start: start, end: end, escaped: escaped) { b in
            let p = b.baseAddress ?? tk.base
            if plan.na.matches(p, count: b.count) { return .missing }
            if plan.readsPlainNumbers, let v = FastFloat.parse(p, count: b.count) {
                return v.isFinite ? .value(v) : .infinite(String(decoding: b, as: UTF8.self), overflow: true)
            }
            if FastFloat.isInfinityToken(p, count: b.count) {
                return .infinite(String(decoding: b, as: UTF8.self), overflow: false)
            }
            // Business spellings (`1,234`, `$5`, `12%`) only when the analyst declared them.
            if let v = plan.numberFormat.value(of: b) {
                return v.isFinite ? .value(v) : .infinite(String(decoding: b, as: UTF8.self), overflow: true)
            }
            return .text
        }
        switch verdict {
        case .missing:
            value.pointee = .nan
            missingStore[c] += 1
        case .value(let v):
            value.pointee = v
        case .infinite(let shown, let overflow):
            value.pointee = 0
            if infinities[c] == nil {
                let line = line(ofRow: row, column: c, starts: starts, lines: lines)
                infinities[c] = InfSighting(row: row, line: line, text: shown, overflow: overflow)
            }
        case .text:
            try convertToText(c, rows: row, starts: starts, lines: lines)
            try appendText(c, start: start, end: end, escaped: escaped, row: row, starts: starts, lines: lines)
        }
    }

    /// The column held only numbers so far; re-read those rows as text,
    /// because a text column keeps every cell's exact spelling as a level.
    private func convertToText(_ c: Int, rows: Int, starts: [Int], lines: [Int32]) throws {
        let builder = TextBuilder(capacity: expectedRows)
        var codes: [Int32] = []
        let missingCount = try rescan(column: c, rows: 0..<rows, starts: starts, lines: lines,
                                      interner: builder.interner, codes: &codes)
        for code in codes { builder.column.cells.pointee.append(code) }
        kindStore[c] = ChunkParser.textKind
        missingStore[c] = missingCount
        numeric[c] = []
        infinities[c] = nil
        text[c] = builder
        textBuilders[c] = Unmanaged.passUnretained(builder)
    }

    /// Re-reads one column of this chunk's rows into `interner`/`codes`
    /// (also used when merging a numeric chunk into a text column).
    func rescanAsText(column c: Int, interner: ByteInterner, codes: inout [Int32]) throws -> Int {
        try rescan(column: c, rows: 0..<rowCount, starts: recordStarts, lines: recordLines,
                   interner: interner, codes: &codes)
    }

    private func rescan(column c: Int, rows: Range<Int>, starts: [Int], lines: [Int32],
                        interner: ByteInterner, codes: inout [Int32]) throws -> Int {
        let tk = plan.tokenizer
        var missingCount = 0
        for r in rows {
            var pos = starts[r]
            var line = Int(lines[r])
            var f = try tk.field(at: pos, row: r + 1, line: line, column: 0)
            for k in 0..<c {
                pos = f.next
                line += f.newlines
                f = try tk.field(at: pos, row: r + 1, line: line, column: k + 1)
            }
            let code = try textCode(start: f.start, end: f.end, escaped: f.escaped, interner: interner,
                                    row: r, column: c, starts: starts, lines: lines)
            if code < 0 { missingCount += 1 }
            codes.append(code)
        }
        return missingCount
    }

    /// Level code of a text cell, or -1 for an NA token.
    private func textCode(start: Int, end: Int, escaped: Bool, interner: ByteInterner,
                          row: Int, column: Int, starts: [Int], lines: [Int32]) throws -> Int32 {
        let tk = plan.tokenizer
        let na = plan.na
        return try tk.withBytes(start: start, end: end, escaped: escaped) { b -> Int32 in
            if na.matches(b.baseAddress ?? tk.base, count: b.count) { return -1 }
            switch interner.intern(b) {
            case .code(let code):
                return code
            case .invalidUTF8(let offset):
                let byte = String(b[offset], radix: 16, uppercase: true)
                let line = line(ofRow: row, column: column, starts: starts, lines: lines)
                throw tk.error(row: row + 1, line: line, column: column,
                               problem: "text '\(Diagnostic.excerpt(bytes: b))' is not valid UTF-8 (byte 0x\(byte) at position \(offset + 1) of the cell)",
                               fix: "re-save the file with UTF-8 encoding (in Excel: 'CSV UTF-8')")
            case .controlByte(let offset):
                let byte = (b[offset] < 0x10 ? "0" : "") + String(b[offset], radix: 16, uppercase: true)
                let line = line(ofRow: row, column: column, starts: starts, lines: lines)
                throw tk.error(row: row + 1, line: line, column: column,
                               problem: "the cell '\(Diagnostic.excerpt(bytes: b))' holds a control byte (0x\(byte) at position \(offset + 1)), which no metric, label or id contains: the export is damaged there",
                               fix: "export the file again, or remove the control bytes (e.g. tr -d '\\000' < in.csv > clean.csv for NUL bytes)")
            }
        }
    }

    private func tooManyFields(recordStart: Int, row: Int, line: Int) -> Diagnostic {
        let found = plan.tokenizer.fieldCount(recordStart: recordStart, line: line)
        return Diagnostic(.data, file: plan.tokenizer.path, row: row, line: line,
                         problem: "expected \(columnCount) fields (as in the header) but found \(found)",
                         fix: "make every row have exactly \(columnCount) comma-separated fields, and quote cells that contain commas")
    }

    private func tooFewFields(found: Int, row: Int, line: Int, emptyLine: Bool) -> Diagnostic {
        if emptyLine {
            return Diagnostic(.data, file: plan.tokenizer.path, row: row, line: line,
                             problem: "empty line in the middle of the data (expected \(columnCount) fields)",
                             fix: "delete the empty line")
        }
        return Diagnostic(.data, file: plan.tokenizer.path, row: row, line: line,
                         problem: "expected \(columnCount) fields (as in the header) but found \(found)",
                         fix: "add the missing cells (leave a cell empty for a missing value), and quote cells that contain line breaks")
    }
}
