import Foundation
import ScoringCore
import Testing
import TestSupport

/// Model files written by the last release in format 1 (Tests/Artifacts/format1, made by its
/// make.sh with commit bf97067's build) score bit-identically with this build: every byte of
/// `score --reasons 3` hashes to the digest that release printed. A new format must keep reading
/// the old one and scoring it the same.
@Suite struct FormatOneArtifactTests {
    static let directory = Fixtures.packageRoot.appendingPathComponent("Tests/Artifacts/format1")

    struct Case: CustomStringConvertible, Sendable {
        var model: String
        var data: String
        var digest: String
        var description: String { model }
    }

    static let cases: [Case] = {
        let text = (try? String(contentsOf: directory.appendingPathComponent("expected.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ").map(String.init)
            return f.count == 3 ? Case(model: f[0], data: f[1], digest: f[2]) : nil
        }
    }()

    @Test func theCommittedFilesAreFormatOne() throws {
        #expect(Self.cases.count == 3)
        for c in Self.cases {
            let data = try Data(contentsOf: Self.directory.appendingPathComponent(c.model))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["formatVersion"] as? Int == 1, "\(c.model)")
        }
    }

    @Test(arguments: cases) func formatOneModelsScoreBitIdentically(_ c: Case) throws {
        let model = Self.directory.appendingPathComponent(c.model).path
        let data = Fixtures.packageRoot.appendingPathComponent(c.data).path
        let r = try CLI.run(["score", model, data, "--reasons", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(SHA256.hex(of: Data(r.stdout.utf8)) == c.digest, "\(c.model) on \(c.data) no longer scores as the release that wrote it")
    }
}
