import Foundation
import ScoringCore

/// A request the service refuses, with the one-line message (row, column and fix) it answers with.
struct BadRequest: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
    init(_ message: String) { self.message = message }
}

/// `POST /v1/score`, free of HTTP: body bytes in, status and JSON out. Never traps on any input:
/// every problem becomes a 400 whose message names the row and column and says how to fix it.
public enum ScoreEndpoint {
    public static let defaultReasons = 3
    public static let maximumReasons = 20

    public struct Reply: Sendable {
        public var status: Int
        public var body: String
    }

    public static func handle(body: [UInt8], reasons reasonsText: String?, model: LoadedModel, maxRows: Int) -> Reply {
        do {
            let reasons = try parseReasons(reasonsText)
            let rows = try parseRows(body, maxRows: maxRows)
            let columns = try scoringColumns(rows, model: model)
            let explained: [Explanation]
            do {
                explained = try model.scorer.explain(rowCount: rows.count, columns: columns, reasons: reasons)
            } catch let e as ScoringError {
                throw BadRequest(e.description)
            }
            return Reply(status: 200, body: render(explained, model: model))
        } catch let e as BadRequest {
            return Reply(status: 400, body: JSONWriter.error(e.message))
        } catch {
            return Reply(status: 500, body: JSONWriter.error("internal error: \(error). Fix: report this with the request body"))
        }
    }

    static func parseReasons(_ text: String?) throws -> Int {
        guard let text else { return defaultReasons }
        guard let k = Int(text), (0...maximumReasons).contains(k) else {
            throw BadRequest("query parameter reasons=\(text.prefix(40)) is not a whole number from 0 to \(maximumReasons). Fix: pass e.g. ?reasons=3, or leave it out for \(defaultReasons)")
        }
        return k
    }

    /// The body's rows, each an object of column → value.
    static func parseRows(_ body: [UInt8], maxRows: Int) throws -> [[String: JSONValue]] {
        let usage = "send {\"rows\": [{\"column\": value, ...}, ...]}"
        guard !body.isEmpty else { throw BadRequest("the request body is empty. Fix: \(usage)") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch let e as JSONSyntaxError {
            throw BadRequest("the body is not valid JSON (\(e.description)). Fix: \(usage) as UTF-8 JSON")
        }
        guard case .object(let top) = value else {
            throw BadRequest("the body is \(value.kindName), not a JSON object. Fix: \(usage)")
        }
        guard let rowsValue = top["rows"] else {
            throw BadRequest("the body has no \"rows\" key. Fix: \(usage)")
        }
        guard case .array(let elements) = rowsValue else {
            throw BadRequest("\"rows\" is \(rowsValue.kindName), not an array. Fix: \(usage)")
        }
        guard elements.count <= maxRows else {
            throw BadRequest("\(elements.count) rows is more than this service takes in one request (\(maxRows)). Fix: split the batch into requests of at most \(maxRows) rows, or start the service with a larger --max-rows")
        }
        var rows: [[String: JSONValue]] = []
        rows.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            guard case .object(let row) = element else {
                throw BadRequest("row \(i + 1) is \(element.kindName), not an object. Fix: send each row as {\"column\": value, ...}")
            }
            rows.append(row)
        }
        return rows
    }

    /// The scorer's input: one column per needed name, typed by the model's feature kinds. A numeric
    /// column whose cells are all numbers or null becomes numbers (null = missing); if any cell is a
    /// string it is handed to the core as text, which parses it exactly as it parses a CSV cell (and
    /// names the row and column of one that is not a number). The model's NA strings mean missing.
    static func scoringColumns(_ rows: [[String: JSONValue]], model: LoadedModel) throws -> [String: ScoringColumn] {
        var columns: [String: ScoringColumn] = [:]
        columns.reserveCapacity(model.columnKinds.count)
        for (name, numeric) in model.columnKinds {
            if numeric, let numbers = try numbersIfAllNumeric(rows, name) {
                columns[name] = .numbers(numbers)
                continue
            }
            var strings: [String?] = []
            strings.reserveCapacity(rows.count)
            for i in rows.indices {
                strings.append(text(try cell(rows, i, name), naValues: model.naValues, numberFormat: numeric ? model.numberFormat : .plain))
            }
            columns[name] = .strings(strings)
        }
        return columns
    }

    /// Row `i`'s value of a column the model needs; an absent key or a nested value is refused.
    private static func cell(_ rows: [[String: JSONValue]], _ i: Int, _ name: String) throws -> JSONValue {
        guard let v = rows[i][name] else {
            throw BadRequest("row \(i + 1), column '\(name)': the row has no \"\(name)\" key and the model needs it. Fix: add \"\(name)\" to every row (null for a missing value); GET /v1/model lists the required columns")
        }
        switch v {
        case .array, .object:
            throw BadRequest("row \(i + 1), column '\(name)': the value is \(v.kindName). Fix: send a number, a string or null")
        default: return v
        }
    }

    /// The column as numbers when every cell is a number or null (nil as soon as one is not).
    private static func numbersIfAllNumeric(_ rows: [[String: JSONValue]], _ name: String) throws -> [Double]? {
        var out: [Double] = []
        out.reserveCapacity(rows.count)
        for i in rows.indices {
            switch try cell(rows, i, name) {
            case .number(let t): out.append(Double(t) ?? .nan)  // a JSON number always parses (overflow: ±inf)
            case .null: out.append(.nan)
            default: return nil
            }
        }
        return out
    }

    private static func text(_ v: JSONValue, naValues: Set<String>, numberFormat: NumberFormat) -> String? {
        switch v {
        case .null: return nil
        case .number(let t): return t
        case .string(let s):
            if naValues.contains(s.trimmingCharacters(in: .whitespaces).lowercased()) { return nil }
            var copy = s
            return copy.withUTF8 { numberFormat.value(of: $0) }.map { String($0) } ?? s
        case .bool(let b): return b ? "true" : "false"
        case .array, .object: return nil  // refused before
        }
    }

    static func render(_ explained: [Explanation], model: LoadedModel) -> String {
        var w = JSONWriter(capacity: 128 + explained.count * (96 + 112 * (explained.first?.reasons.count ?? 0)))
        w.raw("{\"model\":{\"checksum\":")
        w.string(model.checksum)
        w.raw(",\"created_at\":")
        w.string(model.artifact.createdAt)
        w.raw("},\"scores\":[")
        for (i, e) in explained.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"churn_probability\":")
            w.number(e.score.churnProbability)
            w.raw(",\"health_score\":")
            w.number(e.score.healthScore)
            w.raw(",\"band\":")
            w.optionalString(e.score.band)
            w.raw(",\"reasons\":[")
            for (j, r) in e.reasons.enumerated() {
                if j > 0 { w.raw(",") }
                w.raw("{\"metric\":")
                w.string(r.metric)
                w.raw(",\"display_name\":")
                w.string(r.displayName)
                w.raw(",\"value\":")
                w.string(r.value)
                w.raw(",\"points\":")
                w.number(r.points)
                w.raw("}")
            }
            w.raw("]}")
        }
        w.raw("]}\n")
        return w.text
    }
}
