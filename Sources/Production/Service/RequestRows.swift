import Foundation
import ScoringCore
import Support

/// The rows of a score request as the scoring plan reads them: one column per plan input, and
/// each row's `id` as the JSON text to echo.
struct RequestRows {
    var count: Int
    var inputs: [PlanColumn?]
    /// The row's id value as JSON (a string with its quotes, or a number), nil when it has none.
    var ids: [ArraySlice<UInt8>?]

    static let usage = "send {\"rows\": [{\"column\": value, ...}, ...]}"

    /// Decodes the body. The usual batch (one `rows` key, every row with the same keys in the same
    /// order, no escapes) goes straight from bytes to columns; anything else goes through the general
    /// parser, which also words every error. Both give the same rows (tested against each other).
    static func decode(_ body: [UInt8], model: LoadedModel, maxRows: Int, generalParserOnly: Bool = false) throws -> RequestRows {
        if !generalParserOnly, let rows = RowScanner.scan(body, model: model, maxRows: maxRows) { return rows }
        return try general(body, model: model, maxRows: maxRows)
    }

    // MARK: - The general path

    static func general(_ body: [UInt8], model: LoadedModel, maxRows: Int) throws -> RequestRows {
        let rows = try objects(body, maxRows: maxRows)
        var inputs = [PlanColumn?](repeating: nil, count: model.scorer.plan.inputs.count)
        for (c, column) in model.columnKinds.enumerated() {
            inputs[model.inputSlots[c]] = try planColumn(rows, column.name, numeric: column.numeric, model: model)
        }
        let idColumn = model.artifact.schema.id
        let ids: [ArraySlice<UInt8>?] = rows.map { row in
            var w = JSONWriter(capacity: 24)
            switch row["id"] ?? idColumn.flatMap({ row[$0] }) {
            case .string(let id)?: w.string(id)
            case .number(let id)?: w.raw(id)
            default: return nil
            }
            return w.bytes[...]
        }
        return RequestRows(count: rows.count, inputs: inputs, ids: ids)
    }

    /// The body's rows, each an object of column → value.
    static func objects(_ body: [UInt8], maxRows: Int) throws -> [[String: JSONValue]] {
        guard !body.isEmpty else { throw Diagnostic(.serve, problem: "the request body is empty. Fix: \(usage)") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch let e as JSONSyntaxError {
            throw Diagnostic(.serve, problem: "the body is not valid JSON (\(e.description)). Fix: \(usage) as UTF-8 JSON")
        }
        guard case .object(let top) = value else {
            throw Diagnostic(.serve, problem: "the body is \(value.kindName), not a JSON object. Fix: \(usage)")
        }
        guard let rowsValue = top["rows"] else {
            throw Diagnostic(.serve, problem: "the body has no \"rows\" key. Fix: \(usage)")
        }
        guard case .array(let elements) = rowsValue else {
            throw Diagnostic(.serve, problem: "\"rows\" is \(rowsValue.kindName), not an array. Fix: \(usage)")
        }
        guard elements.count <= maxRows else {
            throw Diagnostic(.serve, problem: "\(elements.count) rows is more than this service takes in one request (\(maxRows)). Fix: split the batch into requests of at most \(maxRows) rows, or start the service with a larger --max-rows")
        }
        return try elements.enumerated().map { i, element in
            guard case .object(let row) = element else {
                throw Diagnostic(.serve, problem: "row \(i + 1) is \(element.kindName), not an object. Fix: send each row as {\"column\": value, ...}")
            }
            return row
        }
    }

    /// A column the model needs, typed by the model's feature kinds. A numeric column whose cells are
    /// all numbers or null becomes numbers (null = missing); if any cell is a string it is handed to
    /// the core as text, which parses it exactly as it parses a CSV cell (and names the row and
    /// column of one that is not a number). The model's NA strings mean missing.
    private static func planColumn(_ rows: [[String: JSONValue]], _ name: String, numeric: Bool, model: LoadedModel) throws -> PlanColumn {
        let cells = try rows.indices.map { i -> JSONValue in
            guard let v = rows[i][name] else {
                throw Diagnostic(.serve, problem: "row \(i + 1), column '\(name)': the row has no \"\(name)\" key and the model needs it. Fix: add \"\(name)\" to every row (null for a missing value); GET /v1/model lists the required columns")
            }
            switch v {
            case .array, .object:
                throw Diagnostic(.serve, problem: "row \(i + 1), column '\(name)': the value is \(v.kindName). Fix: send a number, a string or null")
            default: return v
            }
        }
        if numeric, let numbers = numbers(cells) { return .numbers(numbers) }
        return .strings(cells.map { text($0, numeric: numeric, model: model) })
    }

    /// The cells as numbers when every one is a number or null (nil as soon as one is not).
    static func numbers(_ cells: [JSONValue]) -> [Double]? {
        var out: [Double] = []
        out.reserveCapacity(cells.count)
        for cell in cells {
            switch cell {
            case .number(let t): out.append(number(t))
            case .null: out.append(.nan)
            default: return nil
            }
        }
        return out
    }

    /// A JSON number's value; its grammar always parses (overflow gives ±inf).
    @inline(__always)
    static func number(_ text: String) -> Double { Double(text) ?? .nan }

    /// A cell as the text the core reads, nil for missing (null or one of the model's NA strings).
    static func text(_ v: JSONValue, numeric: Bool, model: LoadedModel) -> String? {
        switch v {
        case .null: return nil
        case .number(let t): return t
        case .string(let s):
            // A cell longer than every marker is none (and is not folded for the test).
            let t = s.trimmedOfSpaces
            if t.utf8.count <= model.longestNAValue, model.naValues.contains(t.lowercased()) { return nil }
            guard numeric else { return s }
            var copy = s
            return copy.withUTF8 { model.numberFormat.value(of: $0) }.map { String($0) } ?? s
        case .bool(let b): return b ? "true" : "false"
        case .array, .object: return nil  // refused before
        }
    }
}

/// The fast path of `RequestRows.decode`: one pass over the bytes that records where each value of
/// a needed column is, then builds the columns. It returns nil (and the general parser takes over)
/// at the first thing it does not handle, so it never has to word an error: a key order that
/// changes between rows, a nested value, an escape, any top-level key but `rows`, more rows than
/// allowed, or anything that is not JSON. What it accepts it validates as strictly as the parser.
struct RowScanner {
    private enum Token: UInt8 { case null, number, string, yes, no }

    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0

    private init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    static func scan(_ body: [UInt8], model: LoadedModel, maxRows: Int) -> RequestRows? {
        body.withUnsafeBufferPointer { buffer in
            var s = RowScanner(buffer)
            return s.rows(body, model: model, maxRows: maxRows)
        }
    }

    private mutating func rows(_ body: [UInt8], model: LoadedModel, maxRows: Int) -> RequestRows? {
        guard expect(0x7B), let top = key(), top.count == 4, memcmp(b.baseAddress! + top.lowerBound, "rows", 4) == 0,
              expect(0x5B), peek() != 0x5D else { return nil }
        let needed = model.columnKinds
        var keys: [Range<Int>] = []   // the first row's, in its order
        var slotOfKey: [Int] = []     // a needed column's index, or -1
        var idKey = -1
        var kinds: [UInt8] = []       // per row, per needed column
        var spans: [Range<Int>] = []
        var ids: [ArraySlice<UInt8>?] = []
        var count = 0
        while true {
            guard count < maxRows, expect(0x7B), peek() != 0x7D else { return nil }
            let base = kinds.count
            kinds.append(contentsOf: repeatElement(0, count: needed.count))
            spans.append(contentsOf: repeatElement(0..<0, count: needed.count))
            var id: ArraySlice<UInt8>?
            if count == 0 {
                // The first row fixes the keys and their order.
                var names: [String: Int] = [:]
                var values: [(Token, Range<Int>)] = []
                while true {
                    guard let k = key(), let name = String(validating: UnsafeBufferPointer(rebasing: b[k]), as: UTF8.self),
                          names.updateValue(keys.count, forKey: name) == nil, let v = scalar() else { return nil }
                    keys.append(k)
                    values.append(v)
                    guard let more = next(0x7D) else { return nil }
                    if !more { break }
                }
                slotOfKey = [Int](repeating: -1, count: keys.count)
                for (c, column) in needed.enumerated() {
                    guard let at = names[column.name] else { return nil }
                    slotOfKey[at] = c
                }
                idKey = names["id"] ?? model.artifact.schema.id.flatMap { names[$0] } ?? -1
                for (at, (kind, span)) in values.enumerated() {
                    if slotOfKey[at] >= 0 { kinds[base + slotOfKey[at]] = kind.rawValue; spans[base + slotOfKey[at]] = span }
                    if at == idKey { id = idToken(kind, span, body) }
                }
            } else {
                var at = 0
                while true {
                    guard at < keys.count, sameKey(keys[at]), let (kind, span) = scalar() else { return nil }
                    if slotOfKey[at] >= 0 { kinds[base + slotOfKey[at]] = kind.rawValue; spans[base + slotOfKey[at]] = span }
                    if at == idKey { id = idToken(kind, span, body) }
                    at += 1
                    guard let more = next(0x7D) else { return nil }
                    if !more { break }
                }
                guard at == keys.count else { return nil }
            }
            ids.append(id)
            count += 1
            guard let more = next(0x5D) else { return nil }
            if !more { break }
        }
        guard expect(0x7D) else { return nil }
        skipWhitespace()
        guard i == b.count else { return nil }

        var inputs = [PlanColumn?](repeating: nil, count: model.scorer.plan.inputs.count)
        for (c, column) in needed.enumerated() {
            inputs[model.inputSlots[c]] = self.column(c, numeric: column.numeric, rows: count, width: needed.count,
                                                      kinds: kinds, spans: spans, model: model)
        }
        return RequestRows(count: count, inputs: inputs, ids: ids)
    }

    /// An id as JSON text: a string with its quotes, or a number; nil for anything else.
    private func idToken(_ kind: Token, _ span: Range<Int>, _ body: [UInt8]) -> ArraySlice<UInt8>? {
        switch kind {
        case .string: return body[(span.lowerBound - 1)..<(span.upperBound + 1)]
        case .number: return body[span]
        default: return nil
        }
    }

    private func column(_ c: Int, numeric: Bool, rows: Int, width: Int, kinds: [UInt8], spans: [Range<Int>], model: LoadedModel) -> PlanColumn {
        if numeric, (0..<rows).allSatisfy({ kinds[$0 * width + c] <= Token.number.rawValue }) {
            return .numbers((0..<rows).map { r in
                kinds[r * width + c] == Token.null.rawValue ? .nan : RequestRows.number(text(spans[r * width + c]))
            })
        }
        if numeric {
            return .strings((0..<rows).map { r in
                RequestRows.text(jsonValue(kinds[r * width + c], spans[r * width + c]), numeric: true, model: model)
            })
        }
        // A category: each distinct token is read once.
        var levels: [String] = []
        var codeOfToken: [Int32] = []      // per distinct token: its level, -1 when it means missing
        var table = TokenTable(capacity: rows)
        var codes = [Int32](repeating: -1, count: rows)
        for r in 0..<rows {
            let kind = kinds[r * width + c], span = spans[r * width + c]
            guard kind != Token.null.rawValue else { continue }
            let token = kind == Token.string.rawValue ? (span.lowerBound - 1)..<(span.upperBound + 1) : span
            let (index, isNew) = table.intern(token, in: b)
            if isNew {
                if let t = RequestRows.text(jsonValue(kind, span), numeric: false, model: model) {
                    codeOfToken.append(Int32(levels.count)); levels.append(t)
                } else {
                    codeOfToken.append(-1)
                }
            }
            codes[r] = codeOfToken[index]
        }
        return .coded(codes: codes, levels: levels)
    }

    private func text(_ span: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[span]), as: UTF8.self)
    }

    private func jsonValue(_ kind: UInt8, _ span: Range<Int>) -> JSONValue {
        switch Token(rawValue: kind)! {
        case .null: return .null
        case .number: return .number(text(span))
        case .string: return .string(text(span))
        case .yes: return .bool(true)
        case .no: return .bool(false)
        }
    }

    // MARK: - Bytes

    private mutating func skipWhitespace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func peek() -> UInt8? {
        skipWhitespace()
        return i < b.count ? b[i] : nil
    }

    /// Skips whitespace and the byte `c`; false when the next byte is another.
    private mutating func expect(_ c: UInt8) -> Bool {
        guard peek() == c else { return false }
        i += 1
        return true
    }

    /// After a member or element: true at ',' (another follows), false at `close`, nil at anything else.
    private mutating func next(_ close: UInt8) -> Bool? {
        guard let c = peek() else { return nil }
        i += 1
        if c == 0x2C { return true }
        return c == close ? false : nil
    }

    /// A key and its colon; the span of its text, without escapes.
    private mutating func key() -> Range<Int>? {
        guard peek() == 0x22, let span = string(), expect(0x3A) else { return nil }
        return span
    }

    /// Whether the next key is the same bytes as `template`, consuming it and its colon when it is.
    private mutating func sameKey(_ template: Range<Int>) -> Bool {
        guard peek() == 0x22 else { return false }
        let n = template.count
        guard b.count - i >= n + 2, b[i + n + 1] == 0x22,
              memcmp(b.baseAddress! + i + 1, b.baseAddress! + template.lowerBound, n) == 0 else { return false }
        i += n + 2
        return expect(0x3A)
    }

    /// A string's content span (the opening quote at `i`); nil at an escape, a control character,
    /// invalid UTF-8 or no closing quote.
    private mutating func string() -> Range<Int>? {
        i += 1
        let start = i
        var ascii = true
        while i < b.count {
            let c = b[i]
            if c == 0x22 {
                let span = start..<i
                i += 1
                if !ascii, String(validating: UnsafeBufferPointer(rebasing: b[span]), as: UTF8.self) == nil { return nil }
                return span
            }
            if c == 0x5C || c < 0x20 { return nil }
            if c >= 0x80 { ascii = false }
            i += 1
        }
        return nil
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func number() -> Range<Int>? {
        let start = i
        func digits() -> Int {
            let s = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            return i - s
        }
        if b[i] == 0x2D { i += 1 }
        guard i < b.count, b[i] >= 0x30, b[i] <= 0x39 else { return nil }
        if b[i] == 0x30 {
            i += 1
            if i < b.count, b[i] >= 0x30, b[i] <= 0x39 { return nil }
        } else {
            _ = digits()
        }
        if i < b.count, b[i] == 0x2E {
            i += 1
            guard digits() > 0 else { return nil }
        }
        if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
            i += 1
            if i < b.count, b[i] == 0x2B || b[i] == 0x2D { i += 1 }
            guard digits() > 0 else { return nil }
        }
        return start..<i
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard b.count - i >= n, memcmp(b.baseAddress! + i, word.utf8Start, n) == 0 else { return false }
        i += n
        return true
    }

    /// A scalar value and its span (a string's without the quotes); nil at anything else.
    private mutating func scalar() -> (Token, Range<Int>)? {
        switch peek() {
        case 0x22?: return string().map { (.string, $0) }
        case 0x2D?, (0x30...0x39)?: return number().map { (.number, $0) }
        case 0x6E?: return literal("null") ? (.null, i..<i) : nil
        case 0x74?: return literal("true") ? (.yes, i..<i) : nil
        case 0x66?: return literal("false") ? (.no, i..<i) : nil
        default: return nil
        }
    }
}

/// Distinct byte strings of one column, by open addressing on an FNV-1a hash.
private struct TokenTable {
    private var slots: [Int32]
    private var tokens: [Range<Int>] = []
    private let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    /// The token's index among the distinct ones, and whether it is new.
    mutating func intern(_ token: Range<Int>, in b: UnsafeBufferPointer<UInt8>) -> (Int, Bool) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for k in token { h = (h ^ UInt64(b[k])) &* 0x100_0000_01b3 }
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let t = slots[s]
            if t < 0 {
                slots[s] = Int32(tokens.count)
                tokens.append(token)
                return (tokens.count - 1, true)
            }
            let other = tokens[Int(t)]
            if other.count == token.count,
               memcmp(b.baseAddress! + other.lowerBound, b.baseAddress! + token.lowerBound, token.count) == 0 {
                return (Int(t), false)
            }
            s = (s + 1) & mask
        }
    }
}
