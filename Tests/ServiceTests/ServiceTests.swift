import Foundation
import Support
import ScoringCore
@testable import Service
import TestSupport
import Testing

/// `healthscore serve`, in process on a free port, spoken to over a plain socket.
@Suite(.serialized) struct ServiceTests {
    /// A fresh directory holding model A as model.json.
    func modelFile(_ data: Data? = nil) throws -> String {
        let f = try ServiceFixture.get()
        let path = Fixtures.temporaryDirectory().appendingPathComponent("model.json").path
        try AtomicFile.write(data ?? f.dataA, to: path)
        return path
    }

    func expect400(_ reply: HTTPReply, mentions fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == 400, "\(reply.status): \(reply.text)", sourceLocation: sourceLocation)
        let message = reply.errorMessage ?? ""
        #expect(!message.isEmpty, "no {\"error\": ...} in \(reply.text)", sourceLocation: sourceLocation)
        #expect(!message.contains("\n"), "the error is not one line: \(message)", sourceLocation: sourceLocation)
        #expect(message.contains("Fix:"), "no fix in: \(message)", sourceLocation: sourceLocation)
        print("BAD-INPUT\tservice\t\(fragments.joined(separator: " / "))\t\(reply.status) \(message)")
        for fragment in fragments {
            #expect(message.contains(fragment), "'\(fragment)' not in: \(message)", sourceLocation: sourceLocation)
        }
    }

    @Test func batchOf100RowsScoresExactlyAsTheCore() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile())
        defer { Task { await server.stop() } }
        let reply = try await server.request("POST", "/v1/score", body: f.body100)
        #expect(reply.status == 200, "\(reply.text.prefix(500))")
        #expect(reply.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect(reply.headers["x-model-checksum"] == f.checksumA)
        let response = try ScoreResponse.decode(reply)
        #expect(response.model.checksum == f.checksumA)
        #expect(response.model.created_at == f.modelA.createdAt)
        let core = try f.coreExplanations(f.modelA)
        try #require(response.scores.count == 100 && core.count == 100)
        var worst = 0.0
        var bitExact = 0
        for (served, expected) in zip(response.scores, core) {
            worst = max(worst, abs(served.churn_probability - expected.score.churnProbability),
                        abs(served.health_score - expected.score.healthScore))
            if served.churn_probability == expected.score.churnProbability && served.health_score == expected.score.healthScore { bitExact += 1 }
            #expect(served.band == expected.score.band)
            #expect(served.reasons.count == expected.reasons.count)
            for (r, e) in zip(served.reasons, expected.reasons) {
                #expect(r.metric == e.metric && r.display_name == e.displayName && r.value == e.value)
                #expect(abs(r.points - e.points) <= 1e-12)
            }
        }
        #expect(worst <= 1e-12, "largest difference from the core: \(worst)")
        // The JSON double round trip is exact, so every row should match to the bit.
        #expect(bitExact == 100, "\(bitExact) of 100 rows bit-identical")
        #expect(core.contains { $0.score.band != nil }, "the fixture model has bands")
    }

    @Test func numbersAsStringsNullsAndReasonsParameter() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile())
        defer { Task { await server.stop() } }
        // Row 0 as sent plainly, and with its numbers given as strings: same score.
        let plain = try ScoreResponse.decode(try await server.request("POST", "/v1/score", body: f.body(row: 0)))
        var asText: [String: String?] = [:]
        for (name, cell) in zip(f.header, f.cells[0]) where Double(cell) != nil { asText[name] = "\" \(cell)\"" }
        let textual = try await server.request("POST", "/v1/score", body: f.body(row: 0, replacing: asText))
        #expect(textual.status == 200, "\(textual.text)")
        #expect(try ScoreResponse.decode(textual).scores[0].churn_probability == plain.scores[0].churn_probability)

        // ?reasons=0 gives no reasons; ?reasons=6 up to six, worst first.
        let none = try ScoreResponse.decode(try await server.request("POST", "/v1/score?reasons=0", body: f.body100))
        #expect(none.scores.allSatisfy { $0.reasons.isEmpty })
        let six = try ScoreResponse.decode(try await server.request("POST", "/v1/score?reasons=6", body: f.body100))
        let core6 = try f.coreExplanations(f.modelA, reasons: 6)
        #expect(six.scores.map(\.reasons.count) == core6.map(\.reasons.count))
        #expect(six.scores.contains { $0.reasons.count > 3 })
        for row in six.scores { #expect(row.reasons.map(\.points) == row.reasons.map(\.points).sorted()) }
        for bad in ["-1", "21", "abc", "3.5"] {
            expect400(try await server.request("POST", "/v1/score?reasons=\(bad)", body: f.body100), mentions: ["reasons="])
        }
        // A misspelled or repeated parameter is refused, not ignored.
        for (query, mention) in [("Strict=true", "did you mean 'strict'"), ("reason=2", "'reason'"), ("reasons=1&reasons=5", "more than once")] {
            let reply = try await server.request("POST", "/v1/score?\(query)", body: f.body100)
            expect400(reply, mentions: [mention])
            #expect(reply.errorMessage?.contains(mention) == true, "\(reply.text)")
        }

        // The model is fitted with --missing drop: null is a missing value; strict=true refuses the
        // batch naming the row and column.
        expect400(try await server.request("POST", "/v1/score?strict=true", body: f.body(replacing: ["total_day_minutes": "null"])),
                  mentions: ["row 1", "column 'total_day_minutes'", "missing"])
        // An NA string is missing too, as in a CSV: in any case and with spaces around.
        for na in ["\"NA\"", "\" null \"", "\"n/a\""] {
            expect400(try await server.request("POST", "/v1/score?strict=true", body: f.body(replacing: ["total_day_minutes": na])),
                      mentions: ["row 1", "column 'total_day_minutes'", "missing"])
        }
        // No rows: an empty list of scores.
        let empty = try await server.request("POST", "/v1/score", body: Data("{\"rows\": []}".utf8))
        #expect(empty.status == 200)
        #expect(try ScoreResponse.decode(empty).scores.isEmpty)
    }

    /// A batch with rows the model cannot score: each gets its status and problem, the others their
    /// scores (equal to the core's), and every row its id echoed.
    @Test func rowsThatCannotBeScoredAreMarkedAndIdsEchoed() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile())
        defer { Task { await server.stop() } }
        let changes: [[String: String?]] = [[:], ["total_day_minutes": "null"], ["total_day_calls": "\"lots\""],
                                            ["total_day_calls": "1e999"], ["state": "\"Atlantis\""], [:]]
        let rows = changes.enumerated().map { i, change in
            let one = String(decoding: f.body(row: i, replacing: change), as: UTF8.self).dropFirst("{\"rows\":[{".count)
            return (i == 5 ? "{\"id\":77," : "{\"id\":\"c\(i)\",") + one.dropLast(3) + "}"
        }
        let reply = try await server.request("POST", "/v1/score?reasons=2", body: Data(("{\"rows\":[" + rows.joined(separator: ",") + "]}").utf8))
        #expect(reply.status == 200, "\(reply.text.prefix(400))")
        let scores = (try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["scores"] as? [[String: Any]] ?? []
        try #require(scores.count == 6, "\(reply.text.prefix(400))")
        #expect(scores.map { $0["status"] as? String } == ["scored", "unscored", "unscored", "unscored", "unscored", "scored"])
        #expect(scores.dropFirst().prefix(4).map { $0["problem"] as? String } ==
                ["total_day_minutes missing", "total_day_calls 'lots' not a number", "total_day_calls infinite",
                 "state unseen level 'Atlantis'"])
        #expect(scores.prefix(5).map { $0["id"] as? String } == ["c0", "c1", "c2", "c3", "c4"] && scores[5]["id"] as? Int == 77)
        let core = try f.coreExplanations(f.modelA, reasons: 2)
        for i in [0, 5] {
            // JSONSerialization reads doubles to within an ulp or two (JSONDecoder, above, is exact).
            #expect(abs((scores[i]["churn_probability"] as? Double ?? .nan) - core[i].score.churnProbability) <= 1e-15)
            #expect(abs((scores[i]["health_score"] as? Double ?? .nan) - core[i].score.healthScore) <= 1e-12)
            #expect(scores[i]["band"] as? String == core[i].score.band)
            #expect((scores[i]["reasons"] as? [[String: Any]])?.map { $0["metric"] as? String } == core[i].reasons.map(\.metric))
        }
        for i in 1...4 { #expect(scores[i]["health_score"] is NSNull && (scores[i]["reasons"] as? [Any])?.isEmpty == true) }
    }

    @Test func badRequestsAnswer400NamingRowColumnAndFix() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile()) { $0.maxRows = 50 }
        defer { Task { await server.stop() } }
        func post(_ text: String, strict: Bool = false) async throws -> HTTPReply {
            try await server.request("POST", strict ? "/v1/score?strict=true" : "/v1/score", body: Data(text.utf8))
        }

        expect400(try await post("{\"rows\": [1, 2"), mentions: ["not valid JSON", "byte"])
        expect400(try await post("{\"rows\": []} trailing"), mentions: ["not valid JSON"])
        expect400(try await post(""), mentions: ["empty"])
        expect400(try await post("[1, 2, 3]"), mentions: ["an array, not a JSON object"])
        expect400(try await post("{\"data\": []}"), mentions: ["no \"rows\""])
        expect400(try await post("{\"rows\": {\"a\": 1}}"), mentions: ["\"rows\" is an object, not an array"])
        expect400(try await post("{\"rows\": [{\"a\": 1}, 7]}"), mentions: ["row 2 is a number, not an object"])
        // A missing column, named with its row.
        expect400(try await server.request("POST", "/v1/score", body: f.body(replacing: ["total_eve_calls": nil])),
                  mentions: ["row 1", "column 'total_eve_calls'", "no \"total_eve_calls\" key"])
        // A non-number in a numeric column.
        expect400(try await server.request("POST", "/v1/score?strict=true", body: f.body(replacing: ["total_day_calls": "\"lots\""])),
                  mentions: ["row 1", "column 'total_day_calls'", "'lots' is not a number"])
        expect400(try await server.request("POST", "/v1/score?strict=true", body: f.body(replacing: ["total_day_calls": "true"])),
                  mentions: ["row 1", "column 'total_day_calls'", "not a number"])
        expect400(try await server.request("POST", "/v1/score", body: f.body(replacing: ["total_day_calls": "[1]"])),
                  mentions: ["row 1", "column 'total_day_calls'", "an array"])
        expect400(try await server.request("POST", "/v1/score?strict=1", body: f.body(replacing: ["total_day_calls": "1e999"])),
                  mentions: ["row 1", "column 'total_day_calls'", "infinite"])
        // An unseen level under the model's error policy.
        expect400(try await server.request("POST", "/v1/score?strict=true", body: f.body(replacing: ["state": "\"Atlantis\""])),
                  mentions: ["row 1", "column 'state'", "'Atlantis' was not seen in training"])
        // Too many rows (limit 50 here).
        expect400(try await server.request("POST", "/v1/score", body: f.body100), mentions: ["100 rows", "50", "--max-rows"])
        // The second of two rows is the bad one: the message says row 2.
        let two = "{\"rows\":[" + [0, 1].map { i in
            String(decoding: f.body(row: i, replacing: i == 1 ? ["international_plan": "\"maybe\""] : [:]), as: UTF8.self)
                .dropFirst("{\"rows\":[".count).dropLast(2)
        }.joined(separator: ",") + "]}"
        expect400(try await post(two, strict: true), mentions: ["row 2", "column 'international_plan'", "'maybe'"])
        expect400(try await server.request("POST", "/v1/score?strict=maybe", body: f.body100), mentions: ["strict=maybe"])
        // Without strict the same batch scores row 1 and marks row 2.
        let mixed = try JSONSerialization.jsonObject(with: try await post(two).body) as? [String: Any]
        let scores = mixed?["scores"] as? [[String: Any]] ?? []
        #expect(scores.map { $0["status"] as? String } == ["scored", "unscored"])
        #expect(scores.last?["problem"] as? String == "international_plan unseen level 'maybe'", "\(scores)")
        #expect(scores.last?["churn_probability"] is NSNull && (scores.first?["churn_probability"] as? Double ?? 0) > 0)
        // Unknown endpoints answer JSON too.
        let missing = try await server.request("GET", "/v1/nothing")
        #expect(missing.status == 404 && missing.errorMessage?.contains("POST /v1/score") == true, "\(missing.text)")
        let wrongMethod = try await server.request("GET", "/v1/score")
        #expect(wrongMethod.status == 404 || wrongMethod.status == 405)
        // The service still scores after all that.
        #expect(try await server.request("POST", "/v1/score", body: f.body(row: 3)).status == 200)
    }

    @Test func oversizedBodiesAnswer413() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile()) { $0.maxBodyBytes = 64 * 1024 }
        defer { Task { await server.stop() } }
        #expect(f.body100.count < 64 * 1024)
        #expect(try await server.request("POST", "/v1/score", body: f.body100).status == 200)
        // 5 × the limit, announced with Content-Length …
        let big = Data("{\"rows\": [".utf8) + Data(repeating: UInt8(ascii: " "), count: 320 * 1024) + Data("]}".utf8)
        let declared = try await server.request("POST", "/v1/score", body: big)
        #expect(declared.status == 413, "\(declared.status) \(declared.text)")
        #expect(declared.errorMessage?.contains("--max-body-bytes") == true)
        // … and streamed in chunks with no length announced.
        let streamed = try await server.request("POST", "/v1/score", body: big, chunked: true)
        #expect(streamed.status == 413, "\(streamed.status) \(streamed.text)")
        // A chunked body under the limit is fine.
        let small = try await server.request("POST", "/v1/score", body: f.body100, chunked: true)
        #expect(small.status == 200)
    }

    @Test func healthzAndModelMetadata() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile())
        defer { Task { await server.stop() } }
        let health = try await server.request("GET", "/healthz")
        #expect(health.status == 200 && health.text == "ok \(f.checksumA)\n")

        let reply = try await server.request("GET", "/v1/model")
        #expect(reply.status == 200)
        let doc = try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
        #expect(doc["checksum"] as? String == f.checksumA)
        #expect(doc["format"] as? String == ModelArtifact.formatName)
        #expect(doc["format_version"] as? Int == ModelArtifact.currentFormatVersion)
        #expect(doc["tool_version"] as? String == f.modelA.toolVersion)
        #expect(doc["created_at"] as? String == f.modelA.createdAt)
        #expect((doc["training"] as? [String: Any])?["file"] as? String == "mlc_churn.csv")
        #expect((doc["target"] as? [String: Any])?["column"] as? String == "churn")
        let features = try #require(doc["features"] as? [[String: Any]])
        #expect(features.count == f.modelA.schema.features.count)
        let state = try #require(features.first { $0["column"] as? String == "state" })
        #expect(state["kind"] as? String == "categorical")
        #expect((state["levels"] as? [String])?.count == f.modelA.schema.features.first { $0.column == "state" }?.levels?.count)
        let coefficients = try #require(doc["coefficients"] as? [[String: Any]])
        #expect(coefficients.count == f.modelA.coefficients.count)
        #expect(coefficients.first?["term"] as? String == Coefficient.interceptTerm)
        // JSONSerialization on Linux may round the last bit of a 17-digit number (JSONDecoder does not),
        // so the served estimate is compared to a relative 1e-15.
        let served = try #require(coefficients.first?["estimate"] as? Double)
        let stored = try #require(f.modelA.coefficients.first?.estimate)
        #expect(abs(served - stored) <= 1e-15 * abs(stored))
        let scoring = try #require(doc["scoring"] as? [String: Any])
        #expect((scoring["scale"] as? [String: Any])?["kind"] != nil)
        #expect((scoring["bands"] as? [[String: Any]])?.count == f.modelA.scoring?.bands.count)
        let required = try #require(doc["required_columns"] as? [String])
        #expect(Set(required) == Set(f.header).subtracting(["churn"]))
    }

    @Test func fileChangeReloadsTheNewModel() async throws {
        let f = try ServiceFixture.get()
        let path = try modelFile()
        let server = try await RunningService.start(modelPath: path) { $0.pollInterval = 0.2 }
        defer { Task { await server.stop() } }
        let before = try ScoreResponse.decode(try await server.request("POST", "/v1/score", body: f.body100))
        #expect(before.model.checksum == f.checksumA)

        try AtomicFile.write(f.dataB, to: path)
        #expect(try await server.waitForChecksum(f.checksumB), "the service never picked up model B")
        let after = try ScoreResponse.decode(try await server.request("POST", "/v1/score", body: f.body100))
        #expect(after.model.checksum == f.checksumB)
        let coreB = try f.coreExplanations(f.modelB)
        #expect(zip(after.scores, coreB).allSatisfy { $0.churn_probability == $1.score.churnProbability })
        #expect(zip(after.scores, before.scores).contains { $0.churn_probability != $1.churn_probability }, "scores did not change")
        #expect(server.logs.lines.contains { $0.contains("now serving \(f.checksumB)") }, "\(server.logs.lines)")

        // Model B does not use number_customer_service_calls, so a row without it now scores.
        let without = try await server.request("POST", "/v1/score", body: f.body(replacing: ["number_customer_service_calls": nil]))
        #expect(without.status == 200, "\(without.text)")

        // And back to A; an explicit reload of an unchanged file keeps it.
        try AtomicFile.write(f.dataA, to: path)
        #expect(try await server.waitForChecksum(f.checksumA))
        #expect(server.service.store.reloadNow() == .sameModel(f.checksumA))
    }

    @Test func invalidNewFileKeepsTheOldModelServing() async throws {
        let f = try ServiceFixture.get()
        let path = try modelFile()
        let server = try await RunningService.start(modelPath: path) { $0.pollInterval = 0.1 }
        defer { Task { await server.stop() } }

        func failures() -> [String] { server.logs.lines.filter { $0.contains("failed, still serving \(f.checksumA)") } }
        func waitForFailures(_ n: Int) async throws {
            let deadline = Date().addingTimeInterval(30)
            while failures().count < n && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        }

        var tampered = f.modelB
        tampered.checksum = f.checksumB
        tampered.coefficients[1].estimate += 1  // edited after fit: the stored checksum no longer matches
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bad: [(String, Data)] = [
            ("garbage", Data("this is not a model".utf8)),
            ("truncated", f.dataB.prefix(f.dataB.count / 2)),
            ("tampered", try encoder.encode(tampered)),
            ("future version", Data(String(decoding: f.dataB, as: UTF8.self)
                .replacingOccurrences(of: "\"formatVersion\" : \(ModelArtifact.currentFormatVersion)", with: "\"formatVersion\" : 99").utf8)),
        ]
        for (i, (name, data)) in bad.enumerated() {
            try AtomicFile.write(data, to: path)
            try await waitForFailures(i + 1)
            #expect(failures().count == i + 1, "\(name): \(server.logs.lines)")
            // Still model A, still scoring.
            #expect(try await server.request("GET", "/healthz").text == "ok \(f.checksumA)\n", "\(name)")
            let reply = try await server.request("POST", "/v1/score", body: f.body(row: 5))
            #expect(reply.status == 200 && reply.headers["x-model-checksum"] == f.checksumA, "\(name)")
        }
        // One line per bad version, not one per poll.
        try await Task.sleep(nanoseconds: 600_000_000)
        #expect(failures().count == bad.count, "\(server.logs.lines)")
        #expect(failures().contains { $0.contains("checksum mismatch") })
        #expect(failures().allSatisfy { !$0.contains("\n") })

        // A deleted file is logged once; the model keeps serving.
        try FileManager.default.removeItem(atPath: path)
        try await waitForFailures(bad.count + 1)
        #expect(try await server.request("GET", "/healthz").text == "ok \(f.checksumA)\n")
        // A valid file afterwards is picked up.
        try AtomicFile.write(f.dataB, to: path)
        #expect(try await server.waitForChecksum(f.checksumB))
    }

    @Test func concurrentRequestsDuringReloadsAlwaysSeeOneWholeModel() async throws {
        let f = try ServiceFixture.get()
        let path = try modelFile()
        let server = try await RunningService.start(modelPath: path) { $0.pollInterval = 0.02 }
        defer { Task { await server.stop() } }
        let expected: [String: [Double]] = [
            f.checksumA: try f.coreExplanations(f.modelA).map(\.score.churnProbability),
            f.checksumB: try f.coreExplanations(f.modelB).map(\.score.churnProbability),
        ]
        let flipping = LogCapture()  // used as a flag: one line once the flipping is over
        let flipper = Task {
            defer { flipping.append("done") }
            for i in 0..<20 {
                try AtomicFile.write(i % 2 == 0 ? f.dataB : f.dataA, to: path)
                _ = server.service.store.reloadIfChanged()
                try await Task.sleep(nanoseconds: 30_000_000)
            }
        }
        // Four clients post the 100-row batch until the flipping is over (at least 5 times each).
        let results = try await withThrowingTaskGroup(of: [(String, [Double])].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var seen: [(String, [Double])] = []
                    while seen.count < 5 || flipping.lines.isEmpty {
                        let reply = try await server.request("POST", "/v1/score", body: f.body100)
                        let decoded = try ScoreResponse.decode(reply)
                        #expect(reply.headers["x-model-checksum"] == decoded.model.checksum)
                        seen.append((decoded.model.checksum, decoded.scores.map(\.churn_probability)))
                    }
                    return seen
                }
            }
            var all: [(String, [Double])] = []
            for try await part in group { all += part }
            return all
        }
        try await flipper.value
        #expect(results.count >= 20)
        for (checksum, scores) in results {
            #expect(expected[checksum] == scores, "a response mixed models or named the wrong one (\(checksum))")
        }
        #expect(Set(results.map(\.0)) == [f.checksumA, f.checksumB], "both models should have answered")
    }

    @Test func aPortInUseFailsWithAFix() async throws {
        let path = try modelFile()
        let first = try await RunningService.start(modelPath: path)
        defer { Task { await first.stop() } }
        do {
            let second = try await RunningService.start(modelPath: path) { $0.port = first.port }
            await second.stop()
            Issue.record("a second service bound the same port")
        } catch {
            #expect("\(error)".contains("cannot serve on 127.0.0.1:\(first.port)") && "\(error)".contains("Fix:"), "\(error)")
        }
    }

    /// Whatever the body, the answer is 200 or 400 with a one-line JSON error: never a trap.
    @Test func malformedBodiesNeverTrap() throws {
        let f = try ServiceFixture.get()
        let model = try LoadedModel(artifact: f.modelA)
        let valid = [UInt8](f.body(row: 2))
        var cases: [[UInt8]] = [
            Array(repeating: UInt8(ascii: "["), count: 100_000),
            Array("{\"rows\":".utf8) + Array(repeating: UInt8(ascii: "["), count: 5_000),
            Array(repeating: UInt8(ascii: "{"), count: 10_000),
            Array("\"\\ud800\"".utf8), Array("\"\\udc00\"".utf8), Array("\"\\u12\"".utf8), Array("\"\\x\"".utf8),
            [0xFF, 0xFE, 0x00], Array("{\"rows\":[{\"state\":\"\u{00}\"}]}".utf8), Array("\"\u{01}\"".utf8),
            Array("{\"rows\":[{}]}".utf8), Array("{\"rows\":null}".utf8), Array("{\"rows\":[null]}".utf8),
            Array("{\"rows\":[],\"rows\":[]}".utf8), Array("-".utf8), Array("01".utf8), Array("1.".utf8), Array("1e".utf8),
            Array("NaN".utf8), Array("Infinity".utf8), Array("tru".utf8), Array("nul".utf8), Array(" ".utf8),
            Array("{\"rows\":[{\"a\":1,}]}".utf8), Array("{,}".utf8), Array("[,]".utf8), Array("{\"a\" 1}".utf8),
            Array("\"\u{FF}\"".utf8), [0x22, 0xC3, 0x28, 0x22], Array("\"\\ud83d\\ude00\"".utf8),
        ]
        var random = SeededRandom(seed: 42)
        for _ in 0..<3_000 {
            var b = valid
            switch random.next() % 4 {
            case 0: b = Array(b.prefix(Int(random.next() % UInt64(b.count))))
            case 1: for _ in 0..<(1 + random.next() % 4) { b[Int(random.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: random.next()) }
            case 2:
                let alphabet = Array("{}[]\",:-0e.\\ntu".utf8)
                b.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: Int(random.next() % UInt64(b.count)))
            default: b.remove(at: Int(random.next() % UInt64(b.count)))
            }
            cases.append(b)
        }
        var statuses: [Int: Int] = [:]
        for body in cases {
            let reply = ScoreEndpoint.handle(body: body, reasons: nil, model: model, maxRows: 1000)
            statuses[reply.status, default: 0] += 1
            #expect(reply.status == 200 || reply.status == 400, "\(reply.status): \(reply.body)")
            let parsed = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
            #expect(parsed != nil, "not JSON: \(reply.body.prefix(200))")
            if reply.status == 400 {
                let message = parsed?["error"] as? String ?? ""
                #expect(!message.isEmpty && !message.contains("\n") && message.contains("Fix:"), "\(message)")
            }
        }
        #expect((statuses[400] ?? 0) > 1_000 && (statuses[200] ?? 0) > 10, "\(statuses)")
        // A valid surrogate pair decodes.
        #expect(try JSONParser.parse(Array("\"\\ud83d\\ude00\"".utf8)) == .string("😀"))
        #expect(try JSONParser.parse(Array("[1.5e3, -0, \"a\\\"b\", true, null]".utf8))
                == .array([.number("1.5e3"), .number("-0"), .string("a\"b"), .bool(true), .null]))
    }

    /// The CLI: --port 0 prints the address, SIGHUP reloads (polling off), SIGTERM stops cleanly, and
    /// a bad model refuses to start.
    @Test func serveCommandPrintsAddressReloadsOnSIGHUPAndStopsOnSIGTERM() async throws {
        let binary = CLI.executable
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "no built healthscore at \(binary.path)")
        let f = try ServiceFixture.get()
        let path = try modelFile()

        let broken = try modelFile(Data("{}".utf8))
        let refused = try CLI.run(["serve", "--model", broken, "--port", "0"])
        #expect(refused.status != 0 && refused.stderr.contains("not a healthscore model"), "\(refused.stderr)")

        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--model", path, "--host", "127.0.0.1", "--port", "0", "--reload-interval", "0"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // The first stdout line names the bound address.
        let line: String = try await withCheckedThrowingContinuation { continuation in
            Thread {
                var bytes: [UInt8] = []
                while true {
                    let chunk = out.fileHandleForReading.readData(ofLength: 1)
                    if chunk.isEmpty || chunk.first == UInt8(ascii: "\n") { break }
                    bytes += chunk
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }.start()
        }
        #expect(line.hasPrefix("listening on http://127.0.0.1:"), "\(line)")
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        #expect(port > 0)
        func health() async throws -> String {
            try await RawHTTP.send(port: port, method: "GET", path: "/healthz", body: nil, headers: [:], chunked: false).text
        }
        #expect(try await health() == "ok \(f.checksumA)\n")

        // Polling is off: a new file is not picked up until SIGHUP.
        try AtomicFile.write(f.dataB, to: path)
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(try await health() == "ok \(f.checksumA)\n")
        kill(process.processIdentifier, SIGHUP)
        let deadline = Date().addingTimeInterval(20)
        var now = try await health()
        while now != "ok \(f.checksumB)\n" && Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
            now = try await health()
        }
        #expect(now == "ok \(f.checksumB)\n")
        let scored = try await RawHTTP.send(port: port, method: "POST", path: "/v1/score", body: f.body100, headers: [:], chunked: false)
        #expect(scored.status == 200)
        #expect(try ScoreResponse.decode(scored).model.checksum == f.checksumB)

        // SIGHUP with an invalid file: logged, old model kept.
        try AtomicFile.write(Data("nonsense".utf8), to: path)
        kill(process.processIdentifier, SIGHUP)
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(try await health() == "ok \(f.checksumB)\n")

        kill(process.processIdentifier, SIGTERM)
        let exited: Int32 = await withCheckedContinuation { continuation in
            Thread { process.waitUntilExit(); continuation.resume(returning: process.terminationStatus) }.start()
        }
        #expect(exited == 0)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("now serving \(f.checksumB)"), "\(stderr)")
        #expect(stderr.contains("failed, still serving \(f.checksumB)"), "\(stderr)")
    }
}
