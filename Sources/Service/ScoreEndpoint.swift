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

    /// Scores a batch. A row the model cannot score (a missing value under `drop`, an unseen level,
    /// a cell that is not a number, an infinite value) comes back with `"status": "unscored"` and a
    /// short `problem`, and the rest are scored, as `score` does with a file; `strict=true` refuses
    /// the whole batch instead (400 naming the first such row). Each score echoes the row's `id`
    /// (or the model's id column) when the row has one.
    public static func handle(body: [UInt8], reasons reasonsText: String?, strict strictText: String? = nil,
                              model: LoadedModel, maxRows: Int) -> Reply {
        do {
            let reasons = try parseReasons(reasonsText)
            let strict = try parseStrict(strictText)
            let rows = try parseRows(body, maxRows: maxRows)
            let inputs = model.scorer.planColumns(try scoringColumns(rows, model: model))
            let plan = model.scorer.plan
            let scored: ScoredRows
            do {
                scored = try plan.score(inputs, rowCount: rows.count, reasons: reasons)
            } catch let e as ScoringError {
                throw BadRequest(e.description)
            }
            if strict, let first = scored.problems.first {
                throw BadRequest(first.error(knownLevels: plan.levels(ofColumn: first.column)).description)
            }
            return Reply(status: 200, body: render(scored, rows: rows, inputs: inputs, model: model))
        } catch let e as BadRequest {
            return Reply(status: 400, body: JSONWriter.error(e.message))
        } catch {
            return Reply(status: 500, body: JSONWriter.error("internal error: \(error). Fix: report this with the request body"))
        }
    }

    static func parseStrict(_ text: String?) throws -> Bool {
        switch text?.lowercased() {
        case nil, "false", "0": return false
        case "true", "1", "": return true
        default:
            throw BadRequest("query parameter strict=\(text!.prefix(40)) is not true or false. Fix: pass strict=true to refuse a batch with any row the model cannot score, or leave it out")
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
        let longestMarker = model.naValues.map(\.utf8.count).max() ?? 0
        for (name, numeric) in model.columnKinds {
            if numeric, let numbers = try numbersIfAllNumeric(rows, name) {
                columns[name] = .numbers(numbers)
                continue
            }
            var strings: [String?] = []
            strings.reserveCapacity(rows.count)
            for i in rows.indices {
                strings.append(text(try cell(rows, i, name), naValues: model.naValues, longestMarker: longestMarker,
                                    numberFormat: numeric ? model.numberFormat : .plain))
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

    private static func text(_ v: JSONValue, naValues: Set<String>, longestMarker: Int, numberFormat: NumberFormat) -> String? {
        switch v {
        case .null: return nil
        case .number(let t): return t
        case .string(let s):
            // A cell longer than every marker is none (and is not folded for the test).
            let t = s.trimmedOfSpaces
            if t.utf8.count <= longestMarker, naValues.contains(t.lowercased()) { return nil }
            var copy = s
            return copy.withUTF8 { numberFormat.value(of: $0) }.map { String($0) } ?? s
        case .bool(let b): return b ? "true" : "false"
        case .array, .object: return nil  // refused before
        }
    }

    static func render(_ s: ScoredRows, rows: [[String: JSONValue]], inputs: [PlanColumn?], model: LoadedModel) -> String {
        let plan = model.scorer.plan
        let k = s.reasons
        var w = JSONWriter(capacity: 128 + rows.count * (120 + 112 * k))
        w.raw("{\"model\":{\"checksum\":")
        w.string(model.checksum)
        w.raw(",\"created_at\":")
        w.string(model.artifact.createdAt)
        w.raw("},\"scores\":[")
        var problem = 0
        for i in 0..<rows.count {
            if i > 0 { w.raw(",") }
            w.raw("{")
            switch rows[i]["id"] ?? model.artifact.schema.id.flatMap({ rows[i][$0] }) {
            case .string(let id)?: w.raw("\"id\":"); w.string(id); w.raw(",")
            case .number(let id)?: w.raw("\"id\":" + id + ",")
            default: break
            }
            while problem < s.problems.count && s.problems[problem].row < i { problem += 1 }
            guard s.isScored(i) else {
                w.raw("\"status\":\"unscored\",\"problem\":")
                w.string(problem < s.problems.count && s.problems[problem].row == i ? s.problems[problem].short : "not scored")
                w.raw(",\"churn_probability\":null,\"health_score\":null,\"band\":null,\"reasons\":[]}")
                continue
            }
            w.raw("\"status\":\"scored\",\"churn_probability\":")
            w.number(s.probability[i])
            w.raw(",\"health_score\":")
            w.number(s.score[i])
            w.raw(",\"band\":")
            w.optionalString(s.band[i] >= 0 ? plan.bandLabels[Int(s.band[i])] : nil)
            w.raw(",\"reasons\":[")
            var written = 0
            for r in 0..<k {
                let j = Int(s.reasonFeature[i * k + r])
                guard j >= 0 else { continue }
                if written > 0 { w.raw(",") }
                written += 1
                w.raw("{\"metric\":")
                w.string(plan.metrics[j])
                w.raw(",\"display_name\":")
                w.string(plan.displayNames[j])
                w.raw(",\"value\":")
                w.string(plan.valueText(feature: j, row: i, columns: inputs))
                w.raw(",\"points\":")
                w.number(s.reasonPoints[i * k + r])
                w.raw("}")
            }
            w.raw("]}")
        }
        w.raw("]}\n")
        return w.text
    }
}
