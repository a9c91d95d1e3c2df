import Foundation
import ScoringCore
import Testing
import TestSupport

/// Inputs at the edges of what a double, a design or a CSV field can hold: each gives a correct
/// result or a clear one-line error, quickly and without an output file — never a crash or a NaN.
@Suite struct ExtremeInputTests {
    /// Writes `id,x,churn` rows with x = scale · u for a fixed pseudo-random u whose effect on churn
    /// is real, and returns the path.
    static func write(scale: Double, rows: Int = 400, to dir: URL, name: String) throws -> String {
        var lines = ["id,x,churn"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in 0..<rows {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Double(state >> 11) / Double(1 << 53) * 2 - 1
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let p = 1 / (1 + exp(-(0.3 + 1.5 * u)))
            let churn = Double(state >> 11) / Double(1 << 53) < p ? 1 : 0
            lines.append("C\(i),\((u * scale).description),\(churn)")
        }
        return try writeLines(lines, to: dir, name: name)
    }

    /// Writes `lines` (header first) as `name` in `dir` and returns the path.
    static func writeLines(_ lines: [String], to dir: URL, name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Fits `data` and checks the refusal came within a minute (before any design was allocated).
    static func fitQuickly(_ data: String, _ out: String) throws -> CLI.Result {
        let started = Date()
        let r = try fit(data, out)
        #expect(Date().timeIntervalSince(started) < 60)
        return r
    }

    static func fit(_ data: String, _ out: String) throws -> CLI.Result {
        try CLI.run(["fit", data, "--target", "churn", "--id", "id", "--out", out])
    }

    static func slope(_ model: String) throws -> (estimate: Double, se: Double) {
        let c = try ModelArtifact.load(path: model).coefficients.first { $0.term == "x" }!
        return (c.estimate, c.standardError ?? .nan)
    }

    func expectOneLineError(_ r: CLI.Result, mentions: [String], out: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status != 0, sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr.prefix(2000))", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("Fix:"), "\(r.stderr.prefix(500))", sourceLocation: sourceLocation)
        for m in mentions { #expect(r.stderr.contains(m), "'\(m)' not in \(r.stderr.prefix(500))", sourceLocation: sourceLocation) }
        #expect(!FileManager.default.fileExists(atPath: out), sourceLocation: sourceLocation)
        print("BAD-INPUT\tCLI\textreme: \(mentions.joined(separator: " / "))\t\(lines.first ?? "")")
    }

    /// x near the overflow limit, and x of order 1e-300: the weight is the unit-scale fit's weight
    /// rescaled, to rounding.
    @Test(arguments: [1e307, 1e-300])
    func hugeAndTinyValuesFitLikeTheirRescaledSelves(_ scale: Double) throws {
        let dir = Fixtures.temporaryDirectory()
        let unit = try Self.write(scale: 1, to: dir, name: "unit.csv")
        let scaled = try Self.write(scale: scale, to: dir, name: "scaled.csv")
        let a = dir.appendingPathComponent("a.json").path, b = dir.appendingPathComponent("b.json").path
        let ra = try Self.fit(unit, a), rb = try Self.fit(scaled, b)
        #expect(ra.status == 0 && rb.status == 0, "\(ra.stderr)\n\(rb.stderr)")
        guard rb.status == 0 else { return }
        let (betaUnit, seUnit) = try Self.slope(a), (betaScaled, seScaled) = try Self.slope(b)
        #expect(relativeError(betaScaled * scale, betaUnit) < 1e-10, "\(betaScaled) × \(scale) vs \(betaUnit)")
        #expect(relativeError(seScaled * scale, seUnit) < 1e-8, "\(seScaled) × \(scale) vs \(seUnit)")
    }

    /// Subnormal values: the weight on x's own scale would be of order 1e309 — not a double. Either
    /// it fits (and is right), or the error names the column and the fix; never a NaN in the model.
    @Test func subnormalValuesFitOrSayWhy() throws {
        let dir = Fixtures.temporaryDirectory()
        let unit = try Self.write(scale: 1, to: dir, name: "unit.csv")
        let tiny = try Self.write(scale: 1e-310, to: dir, name: "tiny.csv")
        let a = dir.appendingPathComponent("a.json").path, b = dir.appendingPathComponent("b.json").path
        #expect(try Self.fit(unit, a).status == 0)
        let r = try Self.fit(tiny, b)
        if r.status == 0 {
            let (betaUnit, _) = try Self.slope(a), (betaTiny, _) = try Self.slope(b)
            #expect(betaTiny.isFinite && relativeError(betaTiny * 1e-310, betaUnit) < 1e-6)
        } else {
            expectOneLineError(r, mentions: ["'x'", "rescale"], out: b)
        }
    }

    @Test func aTenThousandLevelCategoryIsRefusedQuickly() throws {
        let dir = Fixtures.temporaryDirectory()
        var lines = ["id,x,city,churn"]
        for i in 0..<20_000 { lines.append("C\(i),\(i % 7),city\(i % 10_000),\(i % 3 == 0 ? 1 : 0)") }
        let data = try Self.writeLines(lines, to: dir, name: "levels.csv")
        let out = dir.appendingPathComponent("m.json").path
        expectOneLineError(try Self.fitQuickly(data, out), mentions: ["levels.csv", "'city'", "10000 levels", "--exclude city"], out: out)
    }

    @Test func aHundredThousandColumnHeaderIsRefusedQuickly() throws {
        let dir = Fixtures.temporaryDirectory()
        let header = (["id"] + (0..<100_000).map { "x\($0)" } + ["churn"]).joined(separator: ",")
        var lines = [header]
        for i in 0..<10 { lines.append((["C\(i)"] + (0..<100_000).map { String(($0 + i) % 5) } + [String(i % 2)]).joined(separator: ",")) }
        let data = try Self.writeLines(lines, to: dir, name: "wide.csv")
        let out = dir.appendingPathComponent("m.json").path
        expectOneLineError(try Self.fitQuickly(data, out), mentions: ["wide.csv", "100000 terms", "--exclude"], out: out)
    }

    /// More terms than rows: the surplus terms are aliased (like R's NA coefficients), with a warning.
    @Test func moreTermsThanRowsAliasesTheSurplus() throws {
        let dir = Fixtures.temporaryDirectory()
        var state: UInt64 = 42
        func next() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) }
        var lines = [(["id"] + (0..<30).map { "x\($0)" } + ["churn"]).joined(separator: ",")]
        for i in 0..<12 { lines.append((["C\(i)"] + (0..<30).map { _ in String(next()) } + [String(i % 2)]).joined(separator: ",")) }
        let data = try Self.writeLines(lines, to: dir, name: "short.csv")
        let out = dir.appendingPathComponent("m.json").path
        let r = try Self.fit(data, out)
        #expect(r.status == 0, "\(r.stderr)")
        let model = try ModelArtifact.load(path: out)
        #expect(model.aliased.count == 31 - 12, "aliased: \(model.aliased)")
        #expect(model.coefficients.allSatisfy { $0.estimate.isFinite })
        #expect(r.stdout.contains("aliased") || r.stderr.contains("aliased"))
    }

    @Test func oneRowIsRefused() throws {
        let dir = Fixtures.temporaryDirectory()
        let data = dir.appendingPathComponent("one.csv").path
        try Data("id,x,churn\nC1,1.5,1\n".utf8).write(to: URL(fileURLWithPath: data))
        let out = dir.appendingPathComponent("m.json").path
        expectOneLineError(try Self.fit(data, out), mentions: ["one.csv", "both classes"], out: out)
    }

    /// A field far longer than any real cell (an unbalanced quote or a pasted document) is refused at
    /// its row and column with a bounded amount of memory, instead of becoming a category level.
    @Test func anOverlongFieldIsRefusedAtItsCell() throws {
        let dir = Fixtures.temporaryDirectory()
        let data = dir.appendingPathComponent("long.csv")
        var text = "id,x,note,churn\n"
        for i in 0..<20 { text += "C\(i),\(i),short,\(i % 2)\n" }
        text += "C20,1,\"" + String(repeating: "a", count: 3 << 20) + "\",1\n"
        for i in 21..<40 { text += "C\(i),\(i),short,\(i % 2)\n" }
        try Data(text.utf8).write(to: data)
        let out = dir.appendingPathComponent("m.json").path
        expectOneLineError(try Self.fit(data.path, out), mentions: ["long.csv", "row 21", "'note'", "MiB"], out: out)
    }
}
