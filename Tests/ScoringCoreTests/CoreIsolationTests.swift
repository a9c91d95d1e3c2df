import Foundation
import Testing
import TestSupport

/// The scoring core is what production embeds: it must never reach BLAS, LAPACK or the numerics.
/// Proved from the package graph SwiftPM itself reports, and from the core's own imports.
@Suite struct CoreIsolationTests {
    static let forbidden: Set<String> = ["CLapack", "FitEngine", "Training", "Tabular", "Evaluation", "ModelMetrics", "CCrypto"]

    /// Target name → its target dependencies, from `swift package describe --type json`.
    static func graph() throws -> [String: [String]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Its own scratch path: no contention with the build that runs these tests.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("healthscore-describe-\(UUID().uuidString)")
        process.arguments = ["swift", "package", "--package-path", Fixtures.packageRoot.path, "--scratch-path", scratch.path,
                             "describe", "--type", "json"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: scratch)
        #expect(process.terminationStatus == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var graph: [String: [String]] = [:]
        for t in json["targets"] as? [[String: Any]] ?? [] {
            guard let name = t["name"] as? String else { continue }
            graph[name] = (t["target_dependencies"] as? [String] ?? []) + (t["product_dependencies"] as? [String] ?? [])
        }
        return graph
    }

    static func closure(_ target: String, _ graph: [String: [String]]) -> Set<String> {
        var seen: Set<String> = [], stack = [target]
        while let t = stack.popLast() { for d in graph[t] ?? [] where seen.insert(d).inserted { stack.append(d) } }
        return seen
    }

    @Test func productionModulesNeverReachTheNumerics() throws {
        let graph = try Self.graph()
        #expect(graph["ScoringCore"] == [], "ScoringCore depends on \(graph["ScoringCore"] ?? [])")
        #expect(graph["FitEngine"]?.contains("CLapack") == true)  // the check would see BLAS if it were there
        for target in ["ScoringCore", "Exports", "History", "Service"] {
            let reached = Self.closure(target, graph)
            #expect(reached.isDisjoint(with: Self.forbidden), "\(target) reaches \(reached.intersection(Self.forbidden))")
        }
    }

    @Test func coreSourcesImportFoundationOnly() throws {
        let dir = Fixtures.packageRoot.appendingPathComponent("Sources/ScoringCore")
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                #expect(line == "import Foundation", "\(file): \(line)")
            }
        }
    }
}
