/// A problem with an input data file, located as precisely as we can and
/// paired with a concrete fix, so a CLI user can repair the file without
/// reading a stack trace.
public struct DataError: Error, CustomStringConvertible, Sendable {
    public var file: String
    /// 1-based data record number; the header is not a record.
    public var row: Int?
    /// 1-based physical line; differs from `row + 1` once quoted fields span lines.
    public var line: Int?
    public var column: String?
    public var problem: String
    public var fix: String

    public init(file: String, row: Int? = nil, line: Int? = nil, column: String? = nil,
                problem: String, fix: String) {
        self.file = file
        self.row = row
        self.line = line
        self.column = column
        self.problem = problem
        self.fix = fix
    }

    /// Always a single line, because it ends up in terminal output and logs.
    public var description: String {
        var place: [String] = []
        switch (row, line) {
        case let (r?, l?): place.append("row \(r) (line \(l))")
        case let (r?, nil): place.append("row \(r)")
        case let (nil, l?): place.append("line \(l)")
        case (nil, nil): break
        }
        if let column { place.append("column '\(DataError.excerpt(column))'") }
        var text = DataError.oneLine(file) + ": "
        if !place.isEmpty { text += place.joined(separator: ", ") + ": " }
        text += DataError.oneLine(problem) + ". Fix: " + DataError.oneLine(fix)
        return text
    }

    /// Shows a cell's text inside a message: control characters escaped and
    /// long values cut, so one bad cell cannot break the one-line format.
    static func excerpt(_ text: String, limit: Int = 40) -> String {
        var out = ""
        var count = 0
        for ch in text.unicodeScalars {
            if count == limit { out += "…"; break }
            switch ch {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 || ch.value == 0x7F {
                    out += "\\u{\(String(ch.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
            count += 1
        }
        return out
    }

    /// Same as `excerpt` for raw bytes that may not be UTF-8.
    static func excerpt(bytes: UnsafeBufferPointer<UInt8>, limit: Int = 40) -> String {
        excerpt(String(decoding: bytes, as: UTF8.self), limit: limit)
    }

    private static func oneLine(_ s: String) -> String {
        s.contains(where: { $0.isNewline }) ? excerpt(s, limit: Int.max) : s
    }
}
