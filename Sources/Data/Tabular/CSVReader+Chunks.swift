#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Support

extension CSVReader {
    /// The header's column names, reading no more of the file than the header.
    public static func headerNames(path: String) throws -> [String] {
        let file = try PieceFile(path: path)
        defer { file.close() }
        var buffer = PieceBuffer(capacity: 64 << 10)
        defer { buffer.free() }
        return try file.header(into: &buffer).names
    }

    /// Reads a CSV file piece by piece, so a file larger than memory can be
    /// streamed: about `chunkBytes` of input plus that piece's parsed columns
    /// are held at a time (more only when a single record is longer).
    ///
    /// `body` gets each piece as a `RawTable` with the file's header (same
    /// columns, same order) and `firstRecord`, the number of data records
    /// before the piece, so its rows are records `firstRecord + 1 …` of the
    /// file. `recordLines` and every error carry absolute row and line
    /// numbers. Concatenated, the pieces hold exactly the cells `read` gives.
    ///
    /// Each piece is typed on its own cells: a column whose cells in one piece
    /// are all numbers comes back `.numeric` there and `.text` in a piece with a
    /// word (list it in `options.textColumns` to get text everywhere), and
    /// text level codes are local to the piece. An infinite value is an error
    /// in a piece where its column is numeric. The "column entirely missing"
    /// check of `read` needs the whole file and is left to the caller.
    ///
    /// `range` (byte offsets into the file) selects the records that *start*
    /// inside it, so ranges that tile `0..<fileSize` visit every record once
    /// (one per MPI rank, say). The header always comes from the top of the
    /// file; finding the first record of a range scans the bytes before it
    /// for quotes and line breaks, which is cheap next to parsing them.
    ///
    /// - Requires: a regular file (the reader seeks).
    public static func readChunks(path: String, options: CSVOptions = CSVOptions(), chunkBytes: Int,
                                  range: Range<Int>? = nil,
                                  _ body: (RawTable, _ firstRecord: Int) throws -> Void) throws {
        let file = try PieceFile(path: path)
        defer { file.close() }
        var buffer = PieceBuffer(capacity: max(chunkBytes, 1))
        defer { buffer.free() }

        let header = try file.header(into: &buffer)
        let stopAt = min(range?.upperBound ?? file.end, file.end)
        var position = header.dataStart
        var state = RecordCount(records: 0, lines: header.firstLine)
        if let lower = range?.lowerBound, lower > position {
            guard let start = try file.firstRecordStart(atOrAfter: lower, from: position, counting: &state,
                                                        buffer: &buffer) else { return }
            position = start
        }

        buffer.count = 0
        while position < stopAt {
            // Top up the buffer, which always begins at a record start.
            let wanted = min(buffer.capacity - buffer.count, file.end - position - buffer.count)
            if wanted > 0 {
                buffer.count += try file.read(into: buffer.base + buffer.count, count: wanted,
                                              at: position + buffer.count)
            }
            let atEnd = position + buffer.count == file.end
            var cut: Int?
            var last = false
            if stopAt - position <= buffer.count, stopAt < file.end,
               let lineEnd = RecordScan.firstNewline(buffer.base, count: buffer.count, atOrAfter: stopAt - position - 1) {
                // The first record starting at or after the range's end ends this range.
                cut = lineEnd + 1
                last = true
            } else if atEnd {
                cut = buffer.count
                last = true
            } else if let lineEnd = RecordScan.lastNewline(buffer.base, count: buffer.count) {
                cut = lineEnd + 1
            }
            guard let cut, cut > 0 else {
                // One record longer than the buffer.
                buffer.grow()
                continue
            }

            let table: RawTable
            do {
                table = try parseRecords(base: UnsafePointer(buffer.base), from: 0, to: cut, names: header.names,
                                         firstLine: state.lines, path: path, options: options, wholeFile: false)
            } catch var error as Diagnostic {
                error.row = error.row.map { $0 + state.records }
                throw error
            }
            try body(table, state.records)
            state.records += table.rowCount
            state.lines += RecordScan.newlineCount(buffer.base, count: cut)
            if last { break }
            buffer.dropFirst(cut)
            position += cut
        }
    }
}

/// Data records and physical lines passed so far; `lines` is the line the
/// next record starts on.
struct RecordCount {
    var records: Int
    var lines: Int
}

/// Reusable input buffer of the chunk reader (no per-piece allocation, and
/// the file's pages are never mapped, so they do not stay resident).
struct PieceBuffer {
    var base: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    mutating func grow() {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }

    /// Moves the unparsed tail to the front.
    mutating func dropFirst(_ n: Int) {
        if count > n { memmove(base, base + n, count - n) }
        count -= n
    }

    func free() { base.deallocate() }
}

/// Quote-aware record boundaries in a buffer that starts at a record start:
/// a line feed ends a record unless it is inside quotes, and since `""`
/// inside a quoted field toggles twice, the parity of the quotes before a
/// byte says whether it is quoted.
enum RecordScan {
    static func lastNewline(_ p: UnsafePointer<UInt8>, count n: Int) -> Int? {
        if memchr(p, 0x22, n) == nil {
            var i = n - 1
            while i >= 0 && p[i] != 0x0A { i -= 1 }
            return i >= 0 ? i : nil
        }
        var quoted = false
        var found: Int?
        for i in 0..<n {
            let b = p[i]
            if b == 0x22 { quoted.toggle() } else if b == 0x0A && !quoted { found = i }
        }
        return found
    }

    static func firstNewline(_ p: UnsafePointer<UInt8>, count n: Int, atOrAfter from: Int) -> Int? {
        var quoted = false
        var i = 0
        if memchr(p, 0x22, n) == nil { i = max(0, from) }
        while i < n {
            let b = p[i]
            if b == 0x22 { quoted.toggle() } else if b == 0x0A && !quoted && i >= from { return i }
            i += 1
        }
        return nil
    }

    static func newlineCount(_ p: UnsafePointer<UInt8>, count n: Int) -> Int {
        // memchr hops from line to line with vector loads; a byte loop was a serial tenth of scoring.
        var lines = 0
        var at = p
        let end = p + n
        while at < end, let hit = memchr(at, 0x0A, end - at) {
            lines &+= 1
            at = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) + 1
        }
        return lines
    }
}

/// The open file behind `readChunks`, read with `pread`.
struct PieceFile {
    let path: String
    let fd: Int32
    /// File size without the trailing blank lines, which `read` ignores too.
    let end: Int

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY)
        if fd < 0 { throw CSVReader.openFailure(path: path, code: errno) }
        var info = stat()
        var code: Int32 = 0
        if fstat(fd, &info) != 0 { code = errno }
        else if info.st_mode & S_IFMT == S_IFDIR { code = EISDIR }
        else if info.st_mode & S_IFMT != S_IFREG { code = ESPIPE }
        if code != 0 {
            Glibc.close(fd)
            throw CSVReader.openFailure(path: path, code: code)
        }
        var end = Int(info.st_size)
        var tail = [UInt8](repeating: 0, count: 4096)
        trimming: while end > 0 {
            let n = min(end, tail.count)
            let fd = self.fd
            let got = tail.withUnsafeMutableBufferPointer { pread(fd, $0.baseAddress, n, off_t(end - n)) }
            if got != n { break }
            for i in stride(from: n - 1, through: 0, by: -1) {
                if tail[i] != 0x0A && tail[i] != 0x0D { end -= n - 1 - i; break trimming }
            }
            end -= n
        }
        self.end = end
    }

    func close() { _ = Glibc.close(fd) }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(into p: UnsafeMutablePointer<UInt8>, count: Int, at offset: Int) throws -> Int {
        var done = 0
        while done < count {
            let got = pread(fd, p + done, count - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw CSVReader.openFailure(path: path, code: errno)
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    struct Header {
        var names: [String]
        var dataStart: Int
        var firstLine: Int
    }

    func header(into buffer: inout PieceBuffer) throws -> Header {
        let emptyFile = Diagnostic(.data, file: path, problem: "the file is empty (no header row)",
                                  fix: "export the data again with a header row naming the columns")
        buffer.count = 0
        var headerEnd: Int
        while true {
            let wanted = min(buffer.capacity - buffer.count, end - buffer.count)
            buffer.count += try read(into: buffer.base + buffer.count, count: wanted, at: buffer.count)
            if let lineEnd = RecordScan.firstNewline(buffer.base, count: buffer.count, atOrAfter: 0) {
                headerEnd = lineEnd + 1
                break
            }
            if buffer.count == end { headerEnd = end; break }
            if buffer.count == buffer.capacity { buffer.grow() }
        }
        let p = buffer.base
        var begin = 0
        if buffer.count >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { begin = 3 }
        if end <= begin { throw emptyFile }
        let (names, dataStart, firstLine) = try CSVReader.readHeader(base: UnsafePointer(p), begin: begin,
                                                                     end: headerEnd, path: path)
        if dataStart >= end { throw CSVReader.noDataRows(path: path) }
        return Header(names: names, dataStart: dataStart, firstLine: firstLine)
    }

    /// Start of the first record at or after `offset`, counting the records
    /// and lines from `from` (a record start) up to it; nil if none starts
    /// before the end of the file.
    func firstRecordStart(atOrAfter offset: Int, from: Int, counting count: inout RecordCount,
                          buffer: inout PieceBuffer) throws -> Int? {
        var quoted = false
        var position = from
        var previous: UInt8 = 0x0A
        while position < end {
            let n = try read(into: buffer.base, count: min(buffer.capacity, end - position), at: position)
            let p = buffer.base
            var i = 0
            while i < n {
                if position + i >= offset && previous == 0x0A && !quoted { return position + i }
                if !quoted {
                    // A stretch without quotes before `offset`: every LF in it ends a record.
                    let limit = min(n, max(offset - position, i))
                    let stretchEnd = memchr(p + i, 0x22, limit - i).map { $0.assumingMemoryBound(to: UInt8.self) - p } ?? limit
                    if stretchEnd > i + 1 {
                        let lineEnds = RecordScan.newlineCount(p + i, count: stretchEnd - i)
                        count.lines += lineEnds
                        count.records += lineEnds
                        previous = p[stretchEnd - 1]
                        i = stretchEnd
                        continue
                    }
                }
                let b = p[i]
                if b == 0x22 { quoted.toggle() } else if b == 0x0A {
                    count.lines += 1
                    if !quoted { count.records += 1 }
                }
                previous = quoted ? 0 : b
                i += 1
            }
            position += n
        }
        return nil
    }
}
