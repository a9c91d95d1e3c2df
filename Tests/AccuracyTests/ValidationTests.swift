import Foundation
import Accuracy
import XCTest

/// Bad input throws a `AccuracyError` with a usable message instead of trapping or returning NaN.
final class ValidationTests: XCTestCase {
    func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch let error as AccuracyError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    func testLengthMismatch() {
        let m = message { try ROC.auc(labels: [1, 0, 1], scores: [0.2, 0.4]) }
        XCTAssertTrue(m.contains("scores has 2 values but labels have 3"), m)
        XCTAssertTrue(message { try ROC.delongTest(labels: [1, 0, 1, 0], scores1: [1, 2, 3, 4], scores2: [1, 2]) }
            .contains("scores2 has 2 values"))
        XCTAssertTrue(message { try ProbabilityScores.logLoss(labels: [1, 0], probabilities: [0.5, 0.5], weights: [1]) }
            .contains("weights has 1 values"))
    }

    func testSingleClass() {
        let m = message { try ROC.auc(labels: [1, 1, 1], scores: [0.2, 0.4, 0.5]) }
        XCTAssertTrue(m.contains("AUC needs at least 1 churner and 1 non-churner; the data have 3 and 0"), m)
        XCTAssertTrue(message { try ROC.delong(labels: [1, 0, 0], scores: [0.2, 0.4, 0.5]) }.contains("at least 2 churners"))
        XCTAssertTrue(message { try ProbabilityScores.brierSkillScore(labels: [0, 0], probabilities: [0.2, 0.4]) }.contains("needs at least 1"))
        XCTAssertTrue(message { try PrecisionRecall.averagePrecision(labels: [0, 0], scores: [0.2, 0.4]) }.contains("without churners"))
        XCTAssertTrue(message { try evaluate(labels: [1, 0, 0], scores: [0.2, 0.4, 0.5]) }.contains("at least 2 churners"))
    }

    func testNonFiniteAndOutOfRangeScores() {
        let m = message { try ROC.auc(labels: [1, 0, 1], scores: [0.2, .nan, 0.5]) }
        XCTAssertTrue(m.contains("score at row 1 is nan"), m)
        XCTAssertTrue(message { try ROC.ks(labels: [1, 0], scores: [.infinity, 0]) }.contains("row 0 is inf"))
        XCTAssertTrue(message { try ProbabilityScores.logLoss(labels: [1, 0], probabilities: [0.5, 1.5]) }
            .contains("row 1 is 1.5; this metric needs probabilities in [0, 1]"))
        XCTAssertTrue(message { try Calibration.reliability(labels: [1, 0], probabilities: [-0.1, 0.5]) }.contains("[0, 1]"))
        XCTAssertTrue(message { try evaluate(labels: [1, 0, 1, 0], scores: [0.1, 0.2, .nan, 0.3]) }.contains("row 2"))
    }

    func testInvalidLabelsAndWeights() {
        XCTAssertTrue(message { try ROC.auc(labels: [1, 2, 0], scores: [0.1, 0.2, 0.3]) }.contains("label at row 1 is 2"))
        XCTAssertTrue(message { try ROC.auc(labels: [1.0, 0.5], scores: [0.1, 0.2]) }.contains("label at row 1 is 0.5"))
        XCTAssertTrue(message { try ROC.auc(labels: [Double](), scores: []) }.contains("no rows"))
        XCTAssertTrue(message { try ProbabilityScores.brierScore(labels: [1, 0], probabilities: [0.5, 0.5], weights: [1, -1]) }
            .contains("weight at row 1 is -1.0"))
        XCTAssertTrue(message { try ProbabilityScores.brierScore(labels: [1, 0], probabilities: [0.5, 0.5], weights: [0, 0]) }
            .contains("weights sum to 0.0"))
    }

    func testIdenticalScoresCannotBeCompared() {
        let m = message { try ROC.delongTest(labels: [1, 0, 1, 0, 1], scores1: [0.9, 0.1, 0.4, 0.5, 0.7], scores2: [9, 1, 4, 5, 7]) }
        XCTAssertTrue(m.contains("rank the rows identically"), m)
    }
}
