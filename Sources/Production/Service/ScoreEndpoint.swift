import Foundation
import ScoringCore
import Support


/// `POST /v1/score`, free of HTTP: body bytes in, status and JSON out. Never traps on any input:
/// every problem becomes a 400 whose message names the row and column and says how to fix it.
public enum ScoreEndpoint {
    public static let defaultReasons = 3
    public static let maximumReasons = 20

    public struct Reply: Sendable {
        public var status: Int
        /// The JSON body, UTF-8.
        public var bytes: [UInt8]
        public var body: String { String(decoding: bytes, as: UTF8.self) }

        init(status: Int, bytes: [UInt8]) { self.status = status; self.bytes = bytes }
        init(status: Int, body: String) { self.init(status: status, bytes: Array(body.utf8)) }
    }

    /// Scores a batch. A row the model cannot score (a missing value under `drop`, an unseen level,
    /// a cell that is not a number, an infinite value) comes back with `"status": "unscored"` and a
    /// short `problem`, and the rest are scored, as `score` does with a file; `strict=true` refuses
    /// the whole batch instead (400 naming the first such row). Each score echoes the row's `id`
    /// (or the model's id column) when the row has one.
    /// `generalParserOnly` skips the fast row decoder (to test the two against each other).
    public static func handle(body: [UInt8], reasons reasonsText: String?, strict strictText: String? = nil,
                              model: LoadedModel, maxRows: Int, generalParserOnly: Bool = false) -> Reply {
        do {
            let reasons = try parseReasons(reasonsText)
            let strict = try parseStrict(strictText)
            let rows = try RequestRows.decode(body, model: model, maxRows: maxRows, generalParserOnly: generalParserOnly)
            let plan = model.scorer.plan
            let scored: ScoredRows
            do {
                scored = try plan.score(rows.inputs, rowCount: rows.count, reasons: reasons)
            } catch let e as Diagnostic {
                throw Diagnostic(.serve, problem: e.description)
            }
            if strict, let first = scored.problems.first {
                throw Diagnostic(.serve, problem: first.error(knownLevels: plan.levels(ofColumn: first.column)).description)
            }
            return Reply(status: 200, bytes: render(scored, rows: rows, model: model))
        } catch let e as Diagnostic {
            return Reply(status: 400, body: JSONWriter.error(e.description))
        } catch {
            return Reply(status: 500, body: JSONWriter.error("internal error: \(error). Fix: report this with the request body"))
        }
    }

    /// The query parameters this endpoint takes; any other (a misspelled `Strict`) or one given twice
    /// is refused, so a safety flag cannot be silently ignored.
    static let queryParameters: Set<String> = ["reasons", "strict"]

    /// Why the query's parameter names are refused, nil when they are fine.
    public static func queryProblem(_ names: [String]) -> String? {
        var seen: Set<String> = []
        for name in names {
            guard queryParameters.contains(name) else {
                let near = queryParameters.first { $0 == name.lowercased() }.map { " (did you mean '\($0)'?)" } ?? ""
                return "query parameter '\(name.prefix(40))' is not one POST /v1/score takes\(near). Fix: use reasons=K (0 to \(maximumReasons)) and strict=true or false, in lower case, or leave them out"
            }
            guard seen.insert(name).inserted else {
                return "query parameter '\(name)' is given more than once. Fix: give it once"
            }
        }
        return nil
    }

    static func parseStrict(_ text: String?) throws -> Bool {
        switch text?.lowercased() {
        case nil, "false", "0": return false
        case "true", "1", "": return true
        default:
            throw Diagnostic(.serve, problem: "query parameter strict=\(text!.prefix(40)) is not true or false. Fix: pass strict=true to refuse a batch with any row the model cannot score, or leave it out")
        }
    }

    static func parseReasons(_ text: String?) throws -> Int {
        guard let text else { return defaultReasons }
        guard let k = Int(text), (0...maximumReasons).contains(k) else {
            throw Diagnostic(.serve, problem: "query parameter reasons=\(text.prefix(40)) is not a whole number from 0 to \(maximumReasons). Fix: pass e.g. ?reasons=3, or leave it out for \(defaultReasons)")
        }
        return k
    }

    static func render(_ s: ScoredRows, rows: RequestRows, model: LoadedModel) -> [UInt8] {
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
            if let id = rows.ids[i] { w.raw("\"id\":"); w.raw(id); w.raw(",") }
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
                w.raw(model.reasonHeads[j])
                w.string(plan.valueText(feature: j, row: i, columns: rows.inputs))
                w.raw(",\"points\":")
                w.number(s.reasonPoints[i * k + r])
                w.raw("}")
            }
            w.raw("]}")
        }
        w.raw("]}\n")
        return w.bytes
    }
}
