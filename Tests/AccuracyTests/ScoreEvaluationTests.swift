import Foundation
import Accuracy
import TestSupport
import XCTest

final class ScoreEvaluationTests: XCTestCase {
    func testJSONRoundTrip() throws {
        let data = try ReferencePredictions.mlc()
                let bands = data.pFull.map { $0 >= 0.5 ? "high" : ($0 >= 0.15 ? "medium" : "low") }
        let e = try evaluate(labels: data.y, scores: data.pFull, bands: bands)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(e)
        let decoded = try JSONDecoder().decode(ScoreEvaluation.self, from: json)
        XCTAssertEqual(decoded, e)
        let text = String(decoding: json, as: UTF8.self)
        XCTAssertTrue(text.contains("\"auc\":0.84107314594"), String(text.prefix(300)))
        XCTAssertEqual(e.bands?.map(\.band), ["high", "low", "medium"])
        XCTAssertEqual(e.bands?.map(\.count).reduce(0, +), 5000)
    }

    func testUnsupportedPartsBecomeWarnings() throws {
        // Constant predictions: AUC 1/2, but no slope and only one risk group.
        let e = try evaluate(labels: [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1], scores: Array(repeating: 0.25, count: 12))
        XCTAssertEqual(e.roc.auc, 0.5)
        XCTAssertEqual(e.roc.variance, 0)
        XCTAssertNil(e.calibration)
        XCTAssertNil(e.hosmerLemeshow)
        XCTAssertNotNil(e.lift)
        XCTAssertEqual(e.warnings.count, 2, "\(e.warnings)")
        XCTAssertEqual(e.reliability.bins.count, 1)
        XCTAssertEqual(e.reliability.expectedCalibrationError, 0)
        XCTAssertEqual(e.brierSkillScore, 0, accuracy: 1e-15)
        _ = try JSONEncoder().encode(e)  // no NaN or infinity anywhere
    }

    /// Timing on a few million rows; run with MODELMETRICS_PERF=1 in a release build.
    func testLargeInput() throws {
        let n = ProcessInfo.processInfo.environment["MODELMETRICS_PERF"] == "1" ? 3_000_000 : 50_000
        var rng = SeededRandom(seed: 2024)
        var y = [Bool](), p = [Double](), q = [Double]()
        y.reserveCapacity(n); p.reserveCapacity(n); q.reserveCapacity(n)
        for _ in 0..<n {
            let eta = -1.5 + rng.normal()
            let prob = 1 / (1 + exp(-eta))
            y.append(rng.uniform() < prob)
            p.append(prob)
            q.append(1 / (1 + exp(-(eta + 0.7 * rng.normal()))))
        }
        func time(_ what: String, _ body: () throws -> Void) rethrows {
            let start = Date()
            try body()
            print("Accuracy n=\(n) \(what): \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        }
        var auc = 0.0
        try time("auc") { auc = try ROC.auc(labels: y, scores: p) }
        try time("delong") { _ = try ROC.delong(labels: y, scores: p) }
        try time("delongTest") { _ = try ROC.delongTest(labels: y, scores1: p, scores2: q) }
        try time("averagePrecision") { _ = try PrecisionRecall.averagePrecision(labels: y, scores: p) }
        try time("logLoss") { _ = try ProbabilityScores.logLoss(labels: y, probabilities: p) }
        try time("recalibration") {
            let fit = try Calibration.logisticRecalibration(labels: y, probabilities: p)
            XCTAssertEqual(fit.slope, 1, accuracy: 0.1)
        }
        try time("hosmerLemeshow") { _ = try Calibration.hosmerLemeshow(labels: y, probabilities: p) }
        try time("lift") { _ = try Lift.table(labels: y, scores: p) }
        try time("evaluate") {
            let e = try evaluate(labels: y, scores: p)
            XCTAssertEqual(e.roc.auc, auc)
            XCTAssertLessThan(e.reliability.expectedCalibrationError, 0.02)
        }
    }
}
