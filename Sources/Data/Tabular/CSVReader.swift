#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import ScoringCore
import Support

/// Module-level so the name resolves to the C call rather than `CSVReader.read`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int {
    read(fd, buffer, count)
}

public struct CSVOptions: Sendable {
    /// Compared with the field text after quote removal, ignoring ASCII case and surrounding spaces.
    public var naValues: Set<String> = Set(CSVOptions.defaultNAValues)
    /// The spellings of a missing value every export tool writes; `--na-values` adds to them.
    public static let defaultNAValues = InputSchema.defaultNAValues
    /// Business number spellings read as numbers (off by default).
    public var numberFormat: NumberFormat = .plain
    /// A column with no value at all is an error when fitting; a scoring file may have one (a
    /// single customer with a blank cell), which the model's missing policy then handles.
    public var allowsEmptyColumns = false
    /// Columns kept as text (ids, the label) even when every cell looks numeric.
    public var textColumns: Set<String> = []
    /// Columns the caller does not need: their cells are still tokenised (the record structure is
    /// checked) but not converted, and the table lists them in `skippedColumns` only.
    public var skipColumns: Set<String> = []
    /// When set, every other column is skipped as by `skipColumns` (scoring reads only the
    /// model's columns of a wide export).
    public var onlyColumns: Set<String>?
    /// Identity columns (customer ids) read as one 64-bit hash per cell instead of interned text:
    /// enough to tell rows of one customer apart at a fraction of the cost. Listed in
    /// `RawTable.hashedColumns`.
    public var hashColumns: Set<String> = []
    /// Parsing threads; 0 means one per core (at most 8). The result does not depend on it.
    public var threads: Int = 0
    /// Below this many bytes per chunk a file is not worth splitting; lowered by tests.
    var minChunkBytes: Int = 4 << 20
    /// Set by the reader for a file it mapped, whose parsed pages it may drop.
    var releasesPages = false

    public init() {}
}

public enum ColumnValues: Sendable {
    /// Missing cells are `.nan`; a NaN only ever comes from an NA token.
    case numeric([Double])
    /// Missing cells are -1; levels are in order of first appearance.
    case text(codes: [Int32], levels: [String])
}

public struct RawColumn: Sendable {
    public let name: String
    public let values: ColumnValues
    public let missingCount: Int

    public init(name: String, values: ColumnValues, missingCount: Int) {
        self.name = name
        self.values = values
        self.missingCount = missingCount
    }
}

public struct RawTable: Sendable {
    /// As given by the caller, so messages show the path the user typed.
    public let path: String
    /// In header order.
    public let columns: [RawColumn]
    /// Data records, header excluded.
    public let rowCount: Int
    /// 1-based physical line where each data record starts.
    public let recordLines: [Int32]
    /// Header names that were read past without conversion (`CSVOptions.skipColumns`).
    public let skippedColumns: [String]
    /// `CSVOptions.hashColumns`: per column, a hash of each cell's bytes (0 = missing).
    public let hashedColumns: [String: [UInt64]]
    private let index: [String: Int]

    public init(path: String, columns: [RawColumn], rowCount: Int, recordLines: [Int32], skippedColumns: [String] = [],
                hashedColumns: [String: [UInt64]] = [:]) {
        self.path = path
        self.columns = columns
        self.rowCount = rowCount
        self.recordLines = recordLines
        self.skippedColumns = skippedColumns
        self.hashedColumns = hashedColumns
        var index: [String: Int] = [:]
        for (i, column) in columns.enumerated() where index[column.name] == nil { index[column.name] = i }
        self.index = index
    }

    public func column(named name: String) -> RawColumn? {
        index[name].map { columns[$0] }
    }

    /// Whether the header has this column, read or skipped.
    public func hasColumn(_ name: String) -> Bool {
        index[name] != nil || skippedColumns.contains(name) || hashedColumns[name] != nil
    }

    /// Physical line of a 1-based data record, for error messages.
    public func line(ofRecord record: Int) -> Int {
        Int(recordLines[record - 1])
    }
}

/// Strict RFC 4180 reader producing typed columns. Every defect in the
/// input is reported as a `Diagnostic` naming row, line and column.
public enum CSVReader {
    public static func read(path: String, options: CSVOptions = CSVOptions()) throws -> RawTable {
        let file = try load(path: path)
        defer { file.release() }
        var options = options
        options.releasesPages = file.mapped
        return try parse(file.bytes, path: path, options: options)
    }

    public static func read(data: [UInt8], path: String, options: CSVOptions = CSVOptions()) throws -> RawTable {
        try data.withUnsafeBufferPointer { try parse($0, path: path, options: options) }
    }

    public static func read(bytes: UnsafeBufferPointer<UInt8>, path: String,
                            options: CSVOptions = CSVOptions()) throws -> RawTable {
        try parse(bytes, path: path, options: options)
    }

    // MARK: - Loading

    /// The whole file in memory. Large regular files are mapped, which saves
    /// copying them and zeroing fresh pages (read-ahead is requested, but the
    /// pages are not pre-faulted, so that parsed ones can be dropped before
    /// the rest are touched); pipes and small files are read into a buffer
    /// that grows as needed.
    private struct LoadedFile {
        let bytes: UnsafeBufferPointer<UInt8>
        let mapped: Bool

        func release() {
            guard let base = bytes.baseAddress else { return }
            if mapped {
                munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
            } else {
                base.deallocate()
            }
        }
    }

    private static let mapThreshold = 1 << 20

    private static func load(path: String) throws -> LoadedFile {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw openFailure(path: path, code: errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw openFailure(path: path, code: errno) }
        if info.st_mode & S_IFMT == S_IFDIR { throw openFailure(path: path, code: EISDIR) }

        let size = Int(info.st_size)
        if info.st_mode & S_IFMT == S_IFREG && size >= mapThreshold {
            if let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != UnsafeMutableRawPointer(bitPattern: -1) {
                _ = madvise(map, size, MADV_WILLNEED)
                let base = map.bindMemory(to: UInt8.self, capacity: size)
                return LoadedFile(bytes: UnsafeBufferPointer(start: base, count: size), mapped: true)
            }
        }

        // One spare byte lets a regular file finish with a single read plus the EOF read.
        var capacity = max(size + 1, 1 << 16)
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        var count = 0
        while true {
            if count == capacity {
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                bigger.update(from: buffer, count: count)
                buffer.deallocate()
                buffer = bigger
                capacity *= 2
            }
            let got = systemRead(fd, buffer + count, capacity - count)
            if got < 0 {
                let code = errno
                if code == EINTR { continue }
                buffer.deallocate()
                throw openFailure(path: path, code: code)
            }
            if got == 0 { break }
            count += got
        }
        return LoadedFile(bytes: UnsafeBufferPointer(start: buffer, count: count), mapped: false)
    }

    static func openFailure(path: String, code: Int32) -> Diagnostic {
        switch code {
        case ENOENT, ENOTDIR:
            return Diagnostic(.data, file: path, problem: "file not found",
                             fix: "check the path (relative paths start from the current directory)")
        case EACCES, EPERM:
            return Diagnostic(.data, file: path, problem: "permission denied",
                             fix: "make the file readable for this user (e.g. chmod +r)")
        case EISDIR:
            return Diagnostic(.data, file: path, problem: "the path is a directory, not a CSV file",
                             fix: "pass the path of the CSV file itself")
        default:
            return Diagnostic(.data, file: path, problem: "cannot read the file (\(String(cString: strerror(code))))",
                             fix: "check that the path names a readable regular file")
        }
    }

    // MARK: - Parsing

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, path: String, options: CSVOptions) throws -> RawTable {
        let emptyFile = Diagnostic(.data, file: path, problem: "the file is empty (no header row)",
                                  fix: "export the data again with a header row naming the columns")
        guard let base = bytes.baseAddress, bytes.count > 0 else { throw emptyFile }
        var begin = 0
        if bytes.count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { begin = 3 }
        // Blank lines after the last record are an editor artefact, not data.
        var end = bytes.count
        while end > begin && (base[end - 1] == 0x0A || base[end - 1] == 0x0D) { end -= 1 }
        if end == begin { throw emptyFile }

        let (names, dataStart, dataFirstLine) = try readHeader(base: base, begin: begin, end: end, path: path)
        if dataStart >= end { throw noDataRows(path: path) }
        return try parseRecords(base: base, from: dataStart, to: end, names: names, firstLine: dataFirstLine,
                                path: path, options: options, wholeFile: true)
    }

    static func noDataRows(path: String) -> Diagnostic {
        Diagnostic(.data, file: path, line: 1, problem: "the file has a header but no data rows",
                  fix: "check that the export included the data, not just the column names")
    }

    /// Parses the records in `dataStart..<end`, the first of which starts on
    /// physical line `firstLine`. `wholeFile` turns on the checks that only
    /// make sense for a complete file (a column that is entirely missing).
    static func parseRecords(base: UnsafePointer<UInt8>, from dataStart: Int, to end: Int, names: [String],
                             firstLine dataFirstLine: Int, path: String, options: CSVOptions,
                             wholeFile: Bool) throws -> RawTable {
        let tokenizer = Tokenizer(base: base, end: end, path: path, names: names)
        let plan = ParsePlan(tokenizer: tokenizer,
                             forcedText: names.map { options.textColumns.contains($0) },
                             skipped: names.map { name in options.skipColumns.contains(name) || options.onlyColumns.map { !$0.contains(name) } ?? false },
                             hashed: names.map { options.hashColumns.contains($0) },
                             na: NAMatcher(options.naValues), numberFormat: options.numberFormat,
                             allowsEmptyColumns: options.allowsEmptyColumns,
                             releasesPages: options.releasesPages)

        let (chunks, rowBases, lineBases) = try parseChunks(plan: plan, dataStart: dataStart,
                                                            firstLine: dataFirstLine, options: options)
        return try assemble(chunks: chunks, rowBases: rowBases, lineBases: lineBases, plan: plan,
                            wholeFile: wholeFile)
    }

    static func readHeader(base: UnsafePointer<UInt8>, begin: Int, end: Int,
                                   path: String) throws -> (names: [String], dataStart: Int, firstLine: Int) {
        let tokenizer = Tokenizer(base: base, end: end, path: path, names: [])
        var pos = begin
        var line = 1
        var names: [String] = []
        var seen: [String: Int] = [:]
        while true {
            let column = names.count
            let f = try tokenizer.field(at: pos, row: nil, line: line, column: column)
            let decoded: String? = tokenizer.withBytes(of: f) { String(validating: $0, as: UTF8.self) }
            guard let decoded else {
                throw Diagnostic(.data, file: path, line: line,
                                problem: "header column \(column + 1) is not valid UTF-8",
                                fix: "re-save the file with UTF-8 encoding (in Excel: 'CSV UTF-8')")
            }
            let name = trimSpaces(decoded)
            if name.isEmpty {
                throw Diagnostic(.data, file: path, line: line, problem: "header column \(column + 1) has an empty name",
                                fix: column == 0
                                    ? "name the first column, or export without it (pandas writes its row index there: to_csv(..., index=False))"
                                    : "give every column a name, or remove the trailing comma from the header")
            }
            if let earlier = seen[name] {
                throw Diagnostic(.data, file: path, line: line, column: name,
                                problem: "the name appears twice in the header (columns \(earlier + 1) and \(column + 1))",
                                fix: "rename or remove one of the two columns")
            }
            seen[name] = column
            names.append(name)
            pos = f.next
            line += f.newlines
            if f.terminator != .comma { break }
        }
        if names.count == 1 { try refuseOtherSeparators(names[0], path: path) }
        return (names, pos, line)
    }

    /// A header of one column holding `;` or tabs is a file separated by them (Excel in many locales),
    /// and `sep=;` is Excel's hint line; both are refused with a conversion that works.
    static func refuseOtherSeparators(_ header: String, path: String) throws {
        let hint = header.lowercased().hasPrefix("sep=") ? header.dropFirst(4).first : nil
        let separator = hint ?? (header.contains(";") ? ";" : header.contains("\t") ? "\t" : nil)
        guard let separator else { return }
        let shown = separator == "\t" ? "tab" : "'\(separator)'"
        let python = separator == "\t" ? "'\\t'" : "'\(separator)'"
        let skip = hint != nil ? " next(r);" : ""
        throw Diagnostic(.data, file: path, line: 1,
                        problem: hint != nil
                            ? "the file opens with Excel's 'sep=\(separator)' hint: it is separated by \(shown), and healthscore reads comma-separated files"
                            : "the header is one column '\(Diagnostic.excerpt(header))': the file looks separated by \(shown), and healthscore reads comma-separated files",
                        fix: "export it as 'CSV UTF-8 (Comma delimited)', or convert it: python3 -c \"import csv,sys; r=csv.reader(open(sys.argv[1],newline='',encoding='utf-8-sig'),delimiter=\(python));\(skip) csv.writer(sys.stdout).writerows(r)\" \(path.split(separator: "/").last.map(String.init) ?? path) > comma.csv (with decimal commas, then fit with --number-format decimal-comma)")
    }

    private static func trimSpaces(_ s: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = s.firstIndex(where: { !isSpace($0) }),
              let last = s.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(s[first...last])
    }

    private static var processorCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Splits the data at guessed record boundaries (the line end after each
    /// even split point) and parses the chunks concurrently. A guess is only
    /// trusted when the previous chunk, itself verified, ended exactly there;
    /// a guess that fell inside a quoted line break is repaired by parsing
    /// on from where the previous chunk really ended. Errors are reported in
    /// file order, so the outcome never depends on the thread count.
    private static func parseChunks(plan: ParsePlan, dataStart: Int, firstLine: Int,
                                    options: CSVOptions) throws -> ([ChunkParser], [Int], [Int]) {
        let base = plan.tokenizer.base
        let end = plan.tokenizer.end
        let dataBytes = end - dataStart
        let bytesPerRecord = sampleBytesPerRecord(base: base, from: dataStart, to: end)
        func expectedRows(_ bytes: Int) -> Int { Int(Double(bytes) / bytesPerRecord * 1.05) + 16 }

        let threads = options.threads > 0 ? options.threads : min(processorCount, 8)
        let wanted = max(1, min(threads, dataBytes / max(1, options.minChunkBytes)))
        var bounds = [dataStart]
        for k in 1..<max(1, wanted) {
            let target = dataStart + dataBytes / wanted * k
            guard target > bounds[bounds.count - 1], target < end,
                  let hit = memchr(base + target, 0x0A, end - target) else { continue }
            let split = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
            if split < end && split > bounds[bounds.count - 1] { bounds.append(split) }
        }
        bounds.append(end)
        let count = bounds.count - 1

        // The first chunk reserves room for the whole file so that merging
        // appends the later chunks in place instead of copying everything.
        let parsers = (0..<count).map { k in
            ChunkParser(plan: plan, start: bounds[k], stopAt: bounds[k + 1],
                        expectedRows: expectedRows(k == 0 ? dataBytes : bounds[k + 1] - bounds[k]))
        }
        var failures = [Diagnostic?](repeating: nil, count: count)
        if count == 1 {
            do { try parsers[0].run() } catch { failures[0] = asDataError(error, path: plan.tokenizer.path) }
        } else {
            failures.withUnsafeMutableBufferPointer { slots in
                let slots = DisjointWrites(slots)
                DispatchQueue.concurrentPerform(iterations: count) { k in
                    do { try parsers[k].run() } catch { slots[k] = asDataError(error, path: plan.tokenizer.path) }
                }
            }
        }

        var accepted: [ChunkParser] = []
        var rowBases: [Int] = []
        var lineBases: [Int] = []
        var rowsBefore = 0
        var linesBefore = firstLine - 1
        for k in 0..<count {
            let parser = parsers[k]
            if let failure = failures[k] { throw shifted(failure, rows: rowsBefore, lines: linesBefore) }
            accepted.append(parser)
            rowBases.append(rowsBefore)
            lineBases.append(linesBefore)
            rowsBefore += parser.rowCount
            linesBefore += parser.newlineCount
            if k + 1 < count && parser.endPos != bounds[k + 1] {
                if parser.endPos < end {
                    let rest = ChunkParser(plan: plan, start: parser.endPos, stopAt: end,
                                           expectedRows: expectedRows(end - parser.endPos))
                    do { try rest.run() } catch {
                        throw shifted(asDataError(error, path: plan.tokenizer.path), rows: rowsBefore, lines: linesBefore)
                    }
                    accepted.append(rest)
                    rowBases.append(rowsBefore)
                    lineBases.append(linesBefore)
                }
                break
            }
        }
        return (accepted, rowBases, lineBases)
    }

    private static func asDataError(_ error: Error, path: String) -> Diagnostic {
        if let error = error as? Diagnostic { return error }
        return Diagnostic(.data, file: path, problem: "\(error)", fix: "report this as a bug in healthscore")
    }

    private static func shifted(_ error: Diagnostic, rows: Int, lines: Int) -> Diagnostic {
        var e = error
        e.row = e.row.map { $0 + rows }
        e.line = e.line.map { $0 + lines }
        return e
    }

    /// Average record length over the first 256 KiB, to size column buffers once.
    private static func sampleBytesPerRecord(base: UnsafePointer<UInt8>, from: Int, to: Int) -> Double {
        let stop = min(to, from + (1 << 18))
        var newlines = 0
        for i in from..<stop where base[i] == 0x0A { newlines += 1 }
        return Double(stop - from) / Double(max(1, newlines))
    }

    /// Concatenates each all-numeric column's chunk arrays (nil for columns
    /// that became text). The first chunk's arrays already have room for the
    /// whole file, so only later chunks are copied, one column per task.
    private static func mergeNumericColumns(_ chunks: [ChunkParser]) -> [[Double]?] {
        let width = chunks[0].columnCount
        // Moved out of the chunks first, so each array stays uniquely referenced
        // and appending to the first one does not copy it.
        var parts: [[[Double]]?] = (0..<width).map { c in
            guard chunks.allSatisfy({ $0.kind(c) == ChunkParser.numericKind }) else { return nil }
            return chunks.map { chunk in
                var taken: [Double] = []
                swap(&taken, &chunk.numeric[c])
                return taken
            }
        }
        if chunks.count == 1 { return parts.map { $0?[0] } }
        var merged = [[Double]?](repeating: nil, count: width)
        parts.withUnsafeMutableBufferPointer { partSlots in
            merged.withUnsafeMutableBufferPointer { mergedSlots in
                let partSlots = DisjointWrites(partSlots), mergedSlots = DisjointWrites(mergedSlots)
                DispatchQueue.concurrentPerform(iterations: width) { c in
                    guard var list = partSlots[c] else { return }
                    partSlots[c] = nil
                    var column = list.removeFirst()
                    for part in list { column.append(contentsOf: part) }
                    list.removeAll()
                    mergedSlots[c] = column
                }
            }
        }
        return merged
    }

    /// Joins the chunks column by column and applies the whole-column checks.
    private static func assemble(chunks: [ChunkParser], rowBases: [Int], lineBases: [Int],
                                 plan: ParsePlan, wholeFile: Bool) throws -> RawTable {
        let names = plan.names
        let path = plan.tokenizer.path
        let rowCount = chunks.reduce(0) { $0 + $1.rowCount }

        var recordLines: [Int32] = []
        recordLines.reserveCapacity(rowCount)
        for (k, chunk) in chunks.enumerated() {
            let offset = Int32(truncatingIfNeeded: lineBases[k])
            recordLines.append(contentsOf: chunk.recordLines.lazy.map { $0 &+ offset })
        }

        var merged = mergeNumericColumns(chunks)
        var columns: [RawColumn] = []
        columns.reserveCapacity(names.count)
        var firstInfinity: (row: Int, line: Int, column: Int, sighting: InfSighting)?
        var skipped: [String] = []
        var hashed: [String: [UInt64]] = [:]
        for c in 0..<names.count {
            if plan.hashed[c] {
                var all: [UInt64] = []
                all.reserveCapacity(rowCount)
                for chunk in chunks { all.append(contentsOf: chunk.hashed[c]?.values ?? []) }
                hashed[names[c]] = all
                continue
            }
            if plan.skipped[c] { skipped.append(names[c]); continue }
            let missing: Int
            let values: ColumnValues
            if let numbers = merged[c] {
                merged[c] = nil
                values = .numeric(numbers)
                missing = chunks.reduce(0) { $0 + $1.missing(c) }
                if let k = chunks.firstIndex(where: { $0.infinities[c] != nil }) {
                    let s = chunks[k].infinities[c]!
                    let row = rowBases[k] + s.row + 1
                    if firstInfinity == nil || row < firstInfinity!.row {
                        firstInfinity = (row, lineBases[k] + s.line, c, s)
                    }
                }
            } else if chunks.count == 1 {
                let builder = chunks[0].text[c]!
                values = .text(codes: builder.codes, levels: builder.interner.levels)
                missing = chunks[0].missing(c)
            } else {
                // The first text chunk's interner and codes carry over unchanged; later chunks are
                // remapped into it (an id column has as many levels as rows, so this halves the work).
                var interner = ByteInterner()
                var codes: [Int32] = []
                var missingSum = 0
                var rest = chunks[...]
                if let first = chunks.first, let builder = first.text[c], first.kind(c) == ChunkParser.textKind {
                    interner = builder.interner
                    codes = builder.codes
                    missingSum = first.missing(c)
                    rest = chunks.dropFirst()
                }
                codes.reserveCapacity(rowCount)
                for chunk in rest {
                    if let builder = chunk.text[c], chunk.kind(c) == ChunkParser.textKind {
                        let remap = builder.interner.levels.map { interner.intern($0) }
                        codes.append(contentsOf: builder.codes.lazy.map { $0 < 0 ? -1 : remap[Int($0)] })
                        missingSum += chunk.missing(c)
                    } else {
                        missingSum += try chunk.rescanAsText(column: c, interner: interner, codes: &codes)
                    }
                }
                values = .text(codes: codes, levels: interner.levels)
                missing = missingSum
            }
            columns.append(RawColumn(name: names[c], values: values, missingCount: missing))
        }

        if let inf = firstInfinity {
            let shown = Diagnostic.excerpt(inf.sighting.text)
            throw Diagnostic(.data, file: path, row: inf.row, line: inf.line, column: names[inf.column],
                            problem: inf.sighting.overflow
                                ? "value '\(shown)' is too large for a 64-bit float (it overflows to infinity)"
                                : "infinite value '\(shown)'",
                            fix: "replace it with an empty cell (missing) or a finite number")
        }
        if wholeFile && !plan.allowsEmptyColumns, let empty = columns.first(where: { $0.missingCount == rowCount }) {
            throw Diagnostic(.data, file: path, column: empty.name,
                            problem: "the column is entirely missing (all \(rowCount) cells are NA)",
                            fix: "drop it or pass --exclude")
        }
        return RawTable(path: path, columns: columns, rowCount: rowCount, recordLines: recordLines,
                        skippedColumns: skipped, hashedColumns: hashed)
    }
}
