import Foundation
import Accuracy
import XCTest

final class ProbabilityScoreTests: XCTestCase {
    func testLogLossByHand() throws {
        // (−ln 0.8 − ln 0.7)/2
        XCTAssertEqual(try ProbabilityScores.logLoss(labels: [1, 0], probabilities: [0.8, 0.3]), 0.289909247626471, accuracy: 1e-15)
        // Clipping: a certain wrong prediction costs −ln(1e-15) = 15·ln 10, not infinity.
        XCTAssertEqual(try ProbabilityScores.logLoss(labels: [1], probabilities: [0]), 34.538776394910684, accuracy: 1e-12)
        XCTAssertEqual(try ProbabilityScores.logLoss(labels: [0], probabilities: [1]), 34.538776394910684, accuracy: 1e-2)
        // Tiny probabilities keep their digits through log1p: −log(1 − 1e-10) = 1e-10 + 5e-21.
        XCTAssertEqual(try ProbabilityScores.logLoss(labels: [0], probabilities: [1e-10]), 1.00000000005e-10, accuracy: 1e-24)
        // Weights: the same as repeating a row.
        XCTAssertEqual(try ProbabilityScores.logLoss(labels: [1, 0], probabilities: [0.8, 0.3], weights: [2, 1]),
                       try ProbabilityScores.logLoss(labels: [1, 1, 0], probabilities: [0.8, 0.8, 0.3]), accuracy: 1e-15)
    }

    func testBrierAndSkillScoreByHand() throws {
        let y = [true, false, true], p = [0.8, 0.3, 0.6]
        // (0.2² + 0.3² + 0.4²)/3
        XCTAssertEqual(try ProbabilityScores.brierScore(labels: y, probabilities: p), 0.29 / 3, accuracy: 1e-16)
        // Reference ȳ(1−ȳ) = 2/9: 1 − (0.29/3)/(2/9) = 0.565.
        XCTAssertEqual(try ProbabilityScores.brierSkillScore(labels: y, probabilities: p), 0.565, accuracy: 1e-15)
        // Weighted (2, 1, 1): (2·0.04 + 0.09 + 0.16)/4; weighted ȳ = 3/4, reference 3/16.
        XCTAssertEqual(try ProbabilityScores.brierScore(labels: y, probabilities: p, weights: [2, 1, 1]), 0.0825, accuracy: 1e-16)
        XCTAssertEqual(try ProbabilityScores.brierSkillScore(labels: y, probabilities: p, weights: [2, 1, 1]),
                       1 - 0.0825 / (3.0 / 16.0), accuracy: 1e-15)
        // Predicting the base rate scores exactly 0 skill.
        XCTAssertEqual(try ProbabilityScores.brierSkillScore(labels: y, probabilities: [2.0 / 3, 2.0 / 3, 2.0 / 3]), 0, accuracy: 1e-15)
    }
}
