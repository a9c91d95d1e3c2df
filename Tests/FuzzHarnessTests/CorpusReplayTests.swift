import Foundation
import ScoringCore
import Tabular
import Testing
import TestSupport
@testable import FuzzHarness

/// Every committed seed and every input that once crashed a fuzzer goes through its target's checks
/// (no trap, and the target's properties) in the ordinary test suite, so a fixed crash stays fixed
/// without the fuzzer toolchain.
@Suite struct CorpusReplayTests {
    static func inputs(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let dir = Fixtures.packageRoot.appendingPathComponent("Tests/Fuzz/\(folder)/\(target.rawValue)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { dir.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAndRegressionsPass(_ target: FuzzTarget) throws {
        let seeds = Self.inputs("corpus", target)
        #expect(seeds.count >= 3, "the \(target.rawValue) seed corpus is missing")
        for url in seeds + Self.inputs("regressions", target) {
            let bytes = try [UInt8](Data(contentsOf: url))
            #expect(throws: Never.self, "\(target.rawValue)/\(url.lastPathComponent)") { try target.run(bytes) }
        }
    }

    /// The comparison can fail: two reads that disagree are reported, not waved through.
    @Test func csvComparisonNoticesADifference() throws {
        let a = Outcome<RawTable> { throw PropertyViolation("one") }
        let b = Outcome<RawTable> { throw PropertyViolation("two") }
        #expect(throws: PropertyViolation.self) { try CSVFuzz.same(a, b, "a", "b") }
        let table = try CSVReader.read(data: Array("a\n1\n".utf8), path: "t.csv")
        #expect(throws: PropertyViolation.self) { try CSVFuzz.same(.value(table), b, "a", "b") }
        #expect(throws: Never.self) { try CSVFuzz.same(.value(table), .value(table), "a", "b") }
    }

    /// The seed models are real `fit --out` files, so the model target accepts them (and goes on to
    /// re-encode and score them) rather than refusing every one at the door.
    @Test func seedModelsDecode() throws {
        for name in ["mlc_churn_model.json", "simulated_points_model.json", "mlc_small_l2_model.json"] {
            let url = Fixtures.packageRoot.appendingPathComponent("Tests/Fuzz/corpus/model/\(name)")
            #expect(throws: Never.self, "\(name)") { try ModelArtifact.decode(Data(contentsOf: url), path: name) }
        }
    }
}
