import Foundation
import ScoringCore
import Tabular
import TestSupport
import XCTest
@testable import FuzzHarness

/// Every committed seed and every input that once crashed a fuzzer goes through its target's checks
/// (no trap, and the target's properties) in the ordinary test suite, so a fixed crash stays fixed
/// without the fuzzer toolchain.
final class CorpusReplayTests: XCTestCase {
    func inputs(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let dir = Fixtures.packageRoot.appendingPathComponent("Fuzz/\(folder)/\(target.rawValue)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { dir.appendingPathComponent($0) }
    }

    func replay(_ target: FuzzTarget, file: StaticString = #filePath, line: UInt = #line) throws {
        let seeds = inputs("corpus", target)
        XCTAssertGreaterThanOrEqual(seeds.count, 3, "the \(target.rawValue) seed corpus is missing", file: file, line: line)
        for url in seeds + inputs("regressions", target) {
            let bytes = try [UInt8](Data(contentsOf: url))
            XCTAssertNoThrow(try target.run(bytes), url.lastPathComponent, file: file, line: line)
        }
    }

    func testCSVCorpus() throws { try replay(.csv) }
    func testModelCorpus() throws { try replay(.model) }
    func testConfigCorpus() throws { try replay(.config) }
    func testScorecardCorpus() throws { try replay(.scorecard) }
    func testRequestCorpus() throws { try replay(.request) }

    /// The checks can fail: two reads that disagree are reported, not waved through.
    func testCSVComparisonNoticesADifference() throws {
        let a = Outcome { throw PropertyViolation("one") } as Outcome<Tabular.RawTable>
        let b = Outcome { throw PropertyViolation("two") } as Outcome<Tabular.RawTable>
        XCTAssertThrowsError(try CSVFuzz.same(a, b, "a", "b"))
    }

    /// The seed models are real `fit --out` files, so the model target accepts them (and so goes on to
    /// re-encode and score them), rather than refusing all of them at the door.
    func testSeedModelsDecode() throws {
        for name in ["mlc_churn_model.json", "simulated_points_model.json", "mlc_small_l2_model.json"] {
            let url = Fixtures.packageRoot.appendingPathComponent("Fuzz/corpus/model/\(name)")
            XCTAssertNoThrow(try ScoringCore.ModelArtifact.decode(Data(contentsOf: url), path: name), name)
        }
    }
}
