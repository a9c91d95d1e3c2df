import Foundation
import ScoringCore
import Service

/// The body of `POST /v1/score`, scored against a real model: every body gets a 200 with one score per
/// row or a 400 with a message; a 500 (an error the endpoint did not anticipate) counts as a failure,
/// and so does a reply of the fast row decoder that differs from the general parser's.
enum RequestFuzz {
    /// `HEALTHSCORE_FUZZ_MODEL`, else the model in this target's seed corpus (found from this file's
    /// path, so the binary runs from any directory of the checkout it was built in).
    static let model: LoadedModel = {
        let path = ProcessInfo.processInfo.environment["HEALTHSCORE_FUZZ_MODEL"] ?? defaultModelPath
        do { return try LoadedModel.load(path: path) } catch {
            fatalError("the request fuzzer needs a model: \(error)")
        }
    }()

    static var defaultModelPath: String {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/", !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        return root.appendingPathComponent("Tests/Fuzz/corpus/model/simulated_points_model.json").path
    }

    static let reasonTexts: [String?] = [nil, "0", "3", "20", "21", "-1", "x"]

    static func run(_ input: [UInt8]) throws {
        let reasons = reasonTexts[input.count % reasonTexts.count]
        let reply = ScoreEndpoint.handle(body: input, reasons: reasons, model: model, maxRows: 64)
        try expect(reply.status == 200 || reply.status == 400, "status \(reply.status): \(reply.body)")
        // The fast row decoder must answer exactly as the general parser does.
        let general = ScoreEndpoint.handle(body: input, reasons: reasons, model: model, maxRows: 64, generalParserOnly: true)
        try expect(general.status == reply.status && general.bytes == reply.bytes,
                   "the fast decoder answered \(reply.status) \(reply.body), the parser \(general.status) \(general.body)")
        let parsed = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
        try expect(parsed != nil, "the \(reply.status) reply is not a JSON object: \(reply.body)")
        if reply.status == 200 {
            try expect(parsed?["scores"] is [Any], "a 200 reply without scores: \(reply.body)")
        } else {
            try expect(parsed?["error"] != nil, "a 400 reply without an error message: \(reply.body)")
        }
    }
}
