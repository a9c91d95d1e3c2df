/// What went wrong, where, and the fix that works when followed: the one error every module throws
/// at a user. It prints as a single line (terminals, logs, HTTP bodies), so a bad cell cannot break
/// the format:
///
///     data.csv: row 7 (line 8), column 'logins': 'lots' is not a number. Fix: clean the value, …
///     config.yaml:12: unknown key 'wieght'. Fix: …
///     model.json: not valid JSON. Fix: …
///
/// `code` says which kind of input or step failed, for programs that branch on it; people read the
/// text. Messages that predate the split into problem and fix keep their whole text in `problem`
/// and an empty `fix`.
public struct Diagnostic: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure. Modules add their own with `extension Diagnostic.Code`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    public var code: Code
    /// The file (or other named input) at fault.
    public var file: String?
    /// 1-based line of a text file (YAML, JSON), written `file:line` as compilers do.
    public var fileLine: Int?
    /// 1-based data record of a table; the header is not a record.
    public var row: Int?
    /// 1-based physical line of a table; differs from `row + 1` once quoted fields span lines.
    public var line: Int?
    public var column: String?
    public var problem: String
    /// What to do; empty when `problem` already says it.
    public var fix: String

    public init(_ code: Code, file: String? = nil, fileLine: Int? = nil, row: Int? = nil, line: Int? = nil,
                column: String? = nil, problem: String, fix: String = "") {
        self.code = code
        self.file = file
        self.fileLine = fileLine
        self.row = row
        self.line = line
        self.column = column
        self.problem = problem
        self.fix = fix
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(Self.oneLine(file) + (fileLine.map { ":\($0)" } ?? "")) }
        var place: [String] = []
        switch (row, line) {
        case let (r?, l?): place.append("row \(r) (line \(l))")
        case let (r?, nil): place.append("row \(r)")
        case let (nil, l?): place.append("line \(l)")
        case (nil, nil): break
        }
        if let column { place.append("column '\(Self.excerpt(column))'") }
        if !place.isEmpty { parts.append(place.joined(separator: ", ")) }
        var text = parts.map { $0 + ": " }.joined() + Self.oneLine(problem)
        if !fix.isEmpty { text += ". Fix: " + Self.oneLine(fix) }
        return text
    }

    /// A cell's text inside a message: control characters escaped and long values cut, so one bad
    /// cell cannot break the one-line format.
    public static func excerpt(_ text: String, limit: Int = 40) -> String {
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

    /// `excerpt` of raw bytes that may not be UTF-8.
    public static func excerpt(bytes: UnsafeBufferPointer<UInt8>, limit: Int = 40) -> String {
        excerpt(String(decoding: bytes, as: UTF8.self), limit: limit)
    }

    static func oneLine(_ s: String) -> String {
        s.contains(where: { $0.isNewline }) ? excerpt(s, limit: Int.max) : s
    }
}

extension Diagnostic.Code {
    /// A data file (CSV): its bytes, header, cells or the columns a command names.
    public static let data = Self(rawValue: "data")
    /// A model file, or a model that cannot do what was asked.
    public static let model = Self(rawValue: "model")
    /// A row the model cannot score.
    public static let scoring = Self(rawValue: "scoring")
    /// A metric configuration (YAML).
    public static let config = Self(rawValue: "config")
    /// A hand-weighted scorecard, or a row it cannot score.
    public static let scorecard = Self(rawValue: "scorecard")
    /// Snapshot times, horizons and time-based folds.
    public static let time = Self(rawValue: "time")
    /// A fit that cannot be made as asked.
    public static let fit = Self(rawValue: "fit")
    /// A candidate of a comparison or backtest.
    public static let candidate = Self(rawValue: "candidate")
    /// An export to SQL, PMML or ONNX.
    public static let export = Self(rawValue: "export")
    /// The HTML report.
    public static let report = Self(rawValue: "report")
    /// The scoring service: its options, or a request it refuses.
    public static let serve = Self(rawValue: "serve")
    /// The simulator's options or output.
    public static let simulation = Self(rawValue: "simulation")
    /// An output that cannot be written, or that would overwrite an input.
    public static let output = Self(rawValue: "output")
    /// Options of a command that do not go together.
    public static let usage = Self(rawValue: "usage")
    /// A function called outside its domain, or a series that did not converge there.
    public static let argument = Self(rawValue: "argument")
    /// Another process runs a different build (distributed fits).
    public static let peer = Self(rawValue: "peer")
}
