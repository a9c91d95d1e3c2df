import Foundation
import Testing
import TestSupport

/// The layers of ARCHITECTURE.md, proved from the package graph SwiftPM itself reports and from the
/// sources' imports: every target in its layer's folder, every dependency allowed by the table, and
/// the scoring core (what production embeds) free of BLAS, LAPACK and the numerics.
@Suite struct CoreIsolationTests {
    static let forbidden: Set<String> = ["CLapack", "FitEngine", "Training", "Tabular", "Evaluation", "Accuracy", "CCrypto"]

    struct Target {
        var path: String
        var targets: [String]
        var products: [String]
        var isTest: Bool
    }

    /// Every target of the package, from `swift package describe --type json`.
    static let package: [String: Target] = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Its own scratch path: no contention with the build that runs these tests.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("healthscore-describe-\(UUID().uuidString)")
        process.arguments = ["swift", "package", "--package-path", Fixtures.packageRoot.path, "--scratch-path", scratch.path,
                             "describe", "--type", "json"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        var targets: [String: Target] = [:]
        guard (try? process.run()) != nil else { return targets }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: scratch)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        for t in json["targets"] as? [[String: Any]] ?? [] {
            guard let name = t["name"] as? String else { continue }
            targets[name] = Target(path: t["path"] as? String ?? "", targets: t["target_dependencies"] as? [String] ?? [],
                                   products: t["product_dependencies"] as? [String] ?? [],
                                   isTest: (t["type"] as? String) == "test" || (t["path"] as? String ?? "").hasPrefix("Tests"))
        }
        return targets
    }()

    static func graph() -> [String: [String]] { package.mapValues { $0.targets + $0.products } }

    static func closure(_ target: String, _ graph: [String: [String]]) -> Set<String> {
        var seen: Set<String> = [], stack = [target]
        while let t = stack.popLast() { for d in graph[t] ?? [] where seen.insert(d).inserted { stack.append(d) } }
        return seen
    }

    /// The rows of the first Markdown table under `heading` in ARCHITECTURE.md, as cells.
    static func table(under heading: String) throws -> [[String]] {
        let text = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("ARCHITECTURE.md"), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix(heading) }) else { return [] }
        var rows: [[String]] = []
        for line in lines[(start + 1)...] {
            if line.hasPrefix("#") { break }
            guard line.hasPrefix("|") else { if rows.isEmpty { continue } else { break } }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.allSatisfy({ $0.allSatisfy { $0 == "-" } }) { continue }
            rows.append(cells)
        }
        return Array(rows.dropFirst())  // the header row
    }

    static func names(_ cell: String) -> [String] {
        cell.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Test func everyTargetSitsInItsLayerAndUsesOnlyWhatTheLayerMay() throws {
        let layers = try Self.table(under: "## Layers")
        #expect(layers.count == 7, "ARCHITECTURE.md's layer table: \(layers)")
        var layerOf: [String: String] = [:]
        var mayUse: [String: Set<String>] = [:]
        for row in layers where row.count == 3 {
            for target in Self.names(row[1]) {
                #expect(layerOf[target] == nil, "\(target) is listed in two layers")
                layerOf[target] = row[0]
            }
            mayUse[row[0]] = Set(Self.names(row[2])).union([row[0]])
        }
        let sources = Self.package.filter { !$0.value.isTest }
        #expect(sources.count >= 20, "swift package describe listed \(sources.count) source targets")
        #expect(Set(sources.keys) == Set(layerOf.keys),
                "in Package.swift, not ARCHITECTURE.md: \(Set(sources.keys).subtracting(layerOf.keys).sorted()); the reverse: \(Set(layerOf.keys).subtracting(sources.keys).sorted())")
        for (name, target) in sources {
            guard let layer = layerOf[name] else { continue }
            #expect(target.path == "Sources/\(layer)/\(name)", "\(name) is at \(target.path), not Sources/\(layer)/\(name)")
            for dependency in target.targets {
                let theirs = layerOf[dependency] ?? "?"
                #expect(mayUse[layer]?.contains(theirs) == true, "\(name) (\(layer)) uses \(dependency) (\(theirs))")
            }
        }

        let products = try Self.table(under: "External packages")
        var usersOf: [String: Set<String>] = [:]
        for row in products where row.count == 2 { usersOf[row[0]] = Set(Self.names(row[1])) }
        #expect(!usersOf.isEmpty)
        for (name, target) in sources {
            for product in target.products {
                #expect(usersOf[product]?.contains(name) == true, "\(name) uses the package product \(product), not listed in ARCHITECTURE.md")
            }
        }
        for (product, users) in usersOf {
            for user in users { #expect(sources[user]?.products.contains(product) == true, "ARCHITECTURE.md says \(user) uses \(product); it does not") }
        }
    }

    @Test func productionModulesNeverReachTheNumerics() throws {
        let graph = Self.graph()
        #expect(graph["ScoringCore"] == ["Support"], "ScoringCore depends on \(graph["ScoringCore"] ?? [])")
        #expect(graph["Support"] == [], "Support depends on \(graph["Support"] ?? [])")
        #expect(graph["FitEngine"]?.contains("CLapack") == true)  // the check would see BLAS if it were there
        for target in ["ScoringCore", "Exports", "History", "Service"] {
            let reached = Self.closure(target, graph)
            #expect(reached.isDisjoint(with: Self.forbidden), "\(target) reaches \(reached.intersection(Self.forbidden))")
        }
        #expect(!Self.closure("HealthScoreCLI", graph).contains("Service"), "the main tool would need SwiftNIO")
    }

    @Test func coreSourcesImportFoundationOnly() throws {
        for (target, allowed) in [("ScoringCore", ["import Foundation", "import Support"]), ("Support", ["import Foundation"])] {
            let dir = Fixtures.packageRoot.appendingPathComponent("Sources/Core/\(target)")
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }
            #expect(!files.isEmpty, "no sources in \(dir.path)")
            for file in files {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                    #expect(allowed.contains(String(line)), "\(target)/\(file): \(line)")
                }
            }
        }
    }
}
