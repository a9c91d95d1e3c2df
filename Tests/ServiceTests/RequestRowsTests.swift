import Foundation
import ScoringCore
@testable import Service
import TestSupport
import Testing

/// The fast row decoder of `POST /v1/score` against the general JSON parser: on every body, valid or
/// not, the two give byte-identical replies; the fast one is taken for the usual batch.
@Suite struct RequestRowsTests {
    static func model() throws -> LoadedModel { try LoadedModel(artifact: try ServiceFixture.get().modelA) }

    /// Status and bytes of both paths; records a failure when they differ.
    @discardableResult
    static func agree(_ body: [UInt8], reasons: String? = nil, strict: String? = nil, model: LoadedModel,
                      maxRows: Int = 1000, sourceLocation: SourceLocation = #_sourceLocation) -> ScoreEndpoint.Reply {
        let fast = ScoreEndpoint.handle(body: body, reasons: reasons, strict: strict, model: model, maxRows: maxRows)
        let general = ScoreEndpoint.handle(body: body, reasons: reasons, strict: strict, model: model, maxRows: maxRows,
                                           generalParserOnly: true)
        #expect(fast.status == general.status, "\(String(decoding: body.prefix(200), as: UTF8.self))", sourceLocation: sourceLocation)
        #expect(fast.body == general.body, "\(String(decoding: body.prefix(200), as: UTF8.self))", sourceLocation: sourceLocation)
        return fast
    }

    static func replace(_ body: String, _ old: String, _ new: String, occurrence: Int = 0) -> [UInt8] {
        var ranges: [Range<String.Index>] = []
        var from = body.startIndex
        while let r = body.range(of: old, range: from..<body.endIndex) { ranges.append(r); from = r.upperBound }
        var s = body
        s.replaceSubrange(ranges[occurrence], with: new)
        return Array(s.utf8)
    }

    @Test func theUsualBatchTakesTheFastPathAndScoresAsTheParserDoes() throws {
        let f = try ServiceFixture.get(), model = try Self.model()
        let body = Array(f.body100)
        #expect(RowScanner.scan(body, model: model, maxRows: 1000)?.count == 100)
        for reasons in [nil, "0", "20"] {
            #expect(Self.agree(body, reasons: reasons, model: model).status == 200)
        }
        // Whitespace anywhere JSON allows it.
        let spaced = String(decoding: body, as: UTF8.self)
            .replacingOccurrences(of: ":", with: " :\n\t ").replacingOccurrences(of: ",", with: " \r\n, ")
            .replacingOccurrences(of: "{", with: " { ").replacingOccurrences(of: "[", with: "[ ")
        #expect(RowScanner.scan(Array(spaced.utf8), model: model, maxRows: 1000)?.count == 100)
        Self.agree(Array(spaced.utf8), model: model)
    }

    @Test func cellsOfEveryKindAgree() throws {
        let f = try ServiceFixture.get(), model = try Self.model()
        let text = String(decoding: f.body100, as: UTF8.self)
        // (key, JSON value) put into row `occurrence` in place of its own value.
        let cells: [(String, String)] = [
            ("total_day_calls", "null"), ("total_day_calls", "\"NA\""), ("total_day_calls", "\" na \""),
            ("total_day_calls", "\"1,234\""), ("total_day_calls", "\" 12 \""), ("total_day_calls", "\"lots\""),
            ("total_day_calls", "true"), ("total_day_calls", "1e999"), ("total_day_calls", "-0.5E-3"),
            ("total_day_calls", "\"é\""), ("state", "5"), ("state", "true"), ("state", "null"), ("state", "\"NA\""),
            ("state", "\"Atlantis\""), ("state", "\" KS\""), ("state", "\"Zoë\""), ("international_plan", "false"),
        ]
        for (occurrence, (key, value)) in cells.enumerated() {
            let needle = "\"\(key)\":"
            var body = text
            // The cell's old value runs to the next ',' or '}'.
            var ranges: [Range<String.Index>] = []
            var from = body.startIndex
            while let r = body.range(of: needle, range: from..<body.endIndex) { ranges.append(r); from = r.upperBound }
            let start = ranges[occurrence % ranges.count].upperBound
            let end = body[start...].firstIndex(where: { $0 == "," || $0 == "}" })!
            body.replaceSubrange(start..<end, with: value)
            let bytes = Array(body.utf8)
            #expect(RowScanner.scan(bytes, model: model, maxRows: 1000) != nil, "\(key): \(value)")
            for strict in [nil, "true"] { Self.agree(bytes, strict: strict, model: model) }
        }
    }

    @Test func idsAreEchoedAlike() throws {
        let f = try ServiceFixture.get(), model = try Self.model()
        let text = String(decoding: f.body100, as: UTF8.self)
        for id in ["\"c-1\"", "\"Zoë 7\"", "42", "-1.5e3", "null", "true", "\"\""] {
            let body = Self.replace(text, "{\"state\"", "{\"id\":\(id),\"state\"", occurrence: 0)
            // Only the first row has an id, so the general path decodes it; with all rows, the fast one.
            Self.agree(body, model: model)
            let all = Array(text.replacingOccurrences(of: "{\"state\"", with: "{\"id\":\(id),\"state\"").utf8)
            #expect(RowScanner.scan(all, model: model, maxRows: 1000) != nil)
            let reply = Self.agree(all, model: model)
            if id.hasPrefix("\"") || id.first!.isNumber || id.first == "-" {
                #expect(reply.body.contains("{\"id\":\(id),\"status\""))
            }
        }
    }

    @Test func whatTheFastPathLeavesToTheParserStillAgrees() throws {
        let f = try ServiceFixture.get(), model = try Self.model()
        let text = String(decoding: f.body100, as: UTF8.self)
        let bodies: [[UInt8]] = [
            Self.replace(text, "{\"state\":\"KS\",", "{\"extra\":[1,{\"a\":2}],\"state\":\"KS\","),   // a nested value
            Self.replace(text, "\"state\":\"OH\"", "\"state\":\"O\\u0048\""),                        // an escape
            Self.replace(text, "{\"rows\":", "{\"note\":\"x\",\"rows\":"),                            // another top-level key
            Self.replace(text, "\"account_length\":", "\"account_length\":1,\"account_length\":", occurrence: 0),  // a duplicate key
            Self.replace(text, "\"account_length\":", "\"account_length\":1,\"account_length\":", occurrence: 3),
            Self.replace(text, "\"area_code\":\"area_code_415\",", "", occurrence: 2),                // a missing key
            Self.replace(text, "\"area_code\":\"area_code_415\",", "", occurrence: 0),
            Self.replace(text, "\"total_day_calls\":", "\"total_day_calls\":0", occurrence: 4),      // a leading zero
            Self.replace(text, "]}", "] }  x"),                                                        // trailing text
            Self.replace(text, "{\"state\":\"OH\"", "7,{\"state\":\"OH\""),                           // a row that is no object
            Array("{\"rows\":[]}".utf8), Array("{\"rows\":[{}]}".utf8), Array("{\"rows\":{}}".utf8), Array("[]".utf8),
            Array("{\"rows\":[{\"state\":\"KS\"}".utf8), [], Array("{\"rows\":[{\"state\":\"\u{1}\"}]}".utf8),
            Array("{\"rows\":[{\"state\":\"".utf8) + [0xC3, 0x28] + Array("\"}]}".utf8),             // invalid UTF-8
        ]
        for body in bodies {
            #expect(RowScanner.scan(body, model: model, maxRows: 1000) == nil, "\(String(decoding: body.prefix(120), as: UTF8.self))")
            Self.agree(body, model: model)
        }
        // Too many rows.
        Self.agree(Array(f.body100), model: model, maxRows: 99)
    }

    /// Every one-byte change to a two-row body: the same reply from both paths.
    @Test func everySingleByteChangeAgrees() throws {
        let f = try ServiceFixture.get(), model = try Self.model()
        let text = String(decoding: f.body100, as: UTF8.self)
        let second = text.range(of: "},{")!.upperBound
        let third = text[second...].range(of: "},{")!.lowerBound
        let body = Array((text[..<third] + "}]}").utf8)
        let replacements: [UInt8?] = [nil, 0x20, 0x22, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D, 0x30, 0x2D, 0x65, 0x5C, 0x6E, 0xFF]
        var fast = 0
        for at in body.indices {
            let r = replacements[at % replacements.count]
            var mutated = body
            if let r { mutated[at] = r } else { mutated.remove(at: at) }
            if RowScanner.scan(mutated, model: model, maxRows: 1000) != nil { fast += 1 }
            Self.agree(mutated, reasons: "2", model: model)
        }
        // Changes that stay valid JSON of the same shape (a digit, a letter in a level) keep the fast
        // path, so both paths are compared on changed cells too, not only on refusals.
        #expect(fast > 20)
    }
}
