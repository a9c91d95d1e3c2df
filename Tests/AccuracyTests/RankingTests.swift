import Foundation
import Accuracy
import TestSupport
import XCTest

/// AUC, DeLong, ROC curve, KS and average precision on cases small enough to check by hand.
final class RankingTests: XCTestCase {
    // Churners score 0.8, 0.5, 0.9; non-churners 0.5, 0.2, 0.8. Of the 9 pairs the churner wins
    // 2 + 1 + 3 = 6 and ties 2 (0.8–0.8, 0.5–0.5): AUC = (6 + 2/2)/9 = 7/9.
    let labels: [Double] = [1, 1, 0, 0, 1, 0]
    let scores: [Double] = [0.8, 0.5, 0.5, 0.2, 0.9, 0.8]

    func testAUCCountsTiesAsHalf() throws {
        XCTAssertEqual(try ROC.auc(labels: labels, scores: scores), 7.0 / 9.0, accuracy: 1e-16)
        XCTAssertEqual(try ROC.auc(labels: labels.map { $0 == 1 }, scores: scores), 7.0 / 9.0, accuracy: 1e-16)
        XCTAssertEqual(try ROC.auc(labels: [1, 0, 1, 0], scores: [0.5, 0.5, 0.5, 0.5]), 0.5)
        XCTAssertEqual(try ROC.auc(labels: [1, 0], scores: [2, 1]), 1)
        XCTAssertEqual(try ROC.auc(labels: [0, 1], scores: [2, 1]), 0)
    }

    func testDeLongVarianceByHand() throws {
        // Placements V10 (churners) = 2.5/3, 1.5/3, 3/3 and V01 (non-churners) = 2.5/3, 3/3, 1.5/3;
        // both have sample variance ((1/18)² + (5/18)² + (4/18)²)/2 = 7/108, so var = 2·(7/108)/3 = 7/162.
        let d = try ROC.delong(labels: labels, scores: scores)
        XCTAssertEqual(d.auc, 7.0 / 9.0, accuracy: 1e-16)
        XCTAssertEqual(d.variance, 7.0 / 162.0, accuracy: 1e-16)
        XCTAssertEqual(d.standardError, (7.0 / 162.0).squareRoot(), accuracy: 1e-16)
        XCTAssertEqual(d.lower, 7.0 / 9.0 - 1.959963984540054 * (7.0 / 162.0).squareRoot(), accuracy: 1e-15)
        // 7/9 + 1.96·0.208 > 1: clamped to 1 as pROC does.
        XCTAssertEqual(d.upper, 1)
        let d50 = try ROC.delong(labels: labels, scores: scores, confidenceLevel: 0.5)
        XCTAssertEqual(d50.lower, 7.0 / 9.0 - 0.6744897501960817 * (7.0 / 162.0).squareRoot(), accuracy: 1e-14)
    }

    func testAUCProperties() throws {
        let data = try ReferencePredictions.mlc()
                let auc = try ROC.auc(labels: data.y, scores: data.pFull)
        XCTAssertEqual(try ROC.auc(labels: data.y, scores: data.pFull.map { -$0 }), 1 - auc, accuracy: 1e-15)
        // Strictly increasing transforms keep every rank, hence the AUC and its DeLong variance.
        let logit = data.pFull.map { log($0) - log1p(-$0) }
        XCTAssertEqual(Set(logit).count, Set(data.pFull).count)
        XCTAssertEqual(try ROC.auc(labels: data.y, scores: logit), auc)
        XCTAssertEqual(try ROC.auc(labels: data.y, scores: data.pFull.map { 3 * $0 * $0 * $0 - 7 }), auc)
        XCTAssertEqual(try ROC.delong(labels: data.y, scores: logit).variance,
                       try ROC.delong(labels: data.y, scores: data.pFull).variance)
        // Row order does not matter.
        let reversed = try ROC.delong(labels: Array(data.y.reversed()), scores: Array(data.pFull.reversed()))
        XCTAssertEqual(reversed, try ROC.delong(labels: data.y, scores: data.pFull))
    }

    func testAUCEqualsTheBruteForcePairCount() throws {
        var rng = SeededRandom(seed: 7)
        // Scores on a coarse grid so that ties are common.
        let n = 400
        let y = (0..<n).map { _ in rng.uniform() < 0.3 ? 1.0 : 0.0 }
        let s = y.map { ($0 + rng.normal()).rounded() / 2 }
        var wins = 0.0, pairs = 0.0
        for i in 0..<n where y[i] == 1 {
            for j in 0..<n where y[j] == 0 {
                pairs += 1
                wins += s[i] > s[j] ? 1 : (s[i] == s[j] ? 0.5 : 0)
            }
        }
        XCTAssertEqual(try ROC.auc(labels: y, scores: s), wins / pairs, accuracy: 1e-15)
    }

    func testDeLongEqualsBruteForcePlacements() throws {
        var rng = SeededRandom(seed: 5)
        let n = 300
        let y = (0..<n).map { _ in rng.uniform() < 0.35 ? 1.0 : 0.0 }
        let s = y.map { (2 * ($0 + rng.normal())).rounded() }  // many ties
        let cases = s.indices.filter { y[$0] == 1 }.map { s[$0] }
        let controls = s.indices.filter { y[$0] == 0 }.map { s[$0] }
        func psi(_ a: Double, _ b: Double) -> Double { a > b ? 1 : (a == b ? 0.5 : 0) }
        let v10 = cases.map { x in controls.reduce(0) { $0 + psi(x, $1) } / Double(controls.count) }
        let v01 = controls.map { c in cases.reduce(0) { $0 + psi($1, c) } / Double(cases.count) }
        let auc = v10.reduce(0, +) / Double(cases.count)
        func sampleVariance(_ v: [Double]) -> Double { v.reduce(0) { $0 + ($1 - auc) * ($1 - auc) } / Double(v.count - 1) }
        let variance = sampleVariance(v10) / Double(cases.count) + sampleVariance(v01) / Double(controls.count)
        let d = try ROC.delong(labels: y, scores: s)
        XCTAssertEqual(d.auc, auc, accuracy: 1e-14)
        XCTAssertEqual(d.variance, variance, accuracy: 1e-16)
    }

    func testSortHandlesSignsZerosAndExtremeMagnitudes() throws {
        let scores: [Double] = [-1e300, -5, -0.0, 0.0, 1e-320, 3, 1e300, 3, -5, .leastNonzeroMagnitude, -.greatestFiniteMagnitude]
        let labels: [Double] = [0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0]
        let thresholds = try ROC.curve(labels: labels, scores: scores).points.compactMap(\.threshold)
        // Distinct scores, highest first; −0 and +0 are one threshold.
        XCTAssertEqual(thresholds, [1e300, 3, 1e-320, .leastNonzeroMagnitude, 0, -5, -1e300, -.greatestFiniteMagnitude])
        var wins = 0.0, pairs = 0.0
        for i in scores.indices where labels[i] == 1 {
            for j in scores.indices where labels[j] == 0 {
                pairs += 1
                wins += scores[i] > scores[j] ? 1 : (scores[i] == scores[j] ? 0.5 : 0)
            }
        }
        XCTAssertEqual(try ROC.auc(labels: labels, scores: scores), wins / pairs, accuracy: 1e-16)
    }

    func testROCCurvePoints() throws {
        let curve = try ROC.curve(labels: labels, scores: scores)
        XCTAssertEqual(curve.points, [
            ROCPoint(fpr: 0, tpr: 0, threshold: nil),
            ROCPoint(fpr: 0, tpr: 1.0 / 3, threshold: 0.9),
            ROCPoint(fpr: 1.0 / 3, tpr: 2.0 / 3, threshold: 0.8),
            ROCPoint(fpr: 2.0 / 3, tpr: 1, threshold: 0.5),
            ROCPoint(fpr: 1, tpr: 1, threshold: 0.2),
        ])
        // Trapezoidal area of the curve equals the Mann–Whitney AUC.
        var area = 0.0
        for (a, b) in zip(curve.points, curve.points.dropFirst()) { area += (b.fpr - a.fpr) * (a.tpr + b.tpr) / 2 }
        XCTAssertEqual(area, 7.0 / 9.0, accuracy: 1e-15)

        let thin = ROCCurve(points: (0...100).map { ROCPoint(fpr: Double($0) / 100, tpr: Double($0) / 100, threshold: Double(100 - $0)) })
            .thinned(maxPoints: 11)
        XCTAssertEqual(thin.points.count, 11)
        XCTAssertEqual(thin.points.first?.fpr, 0)
        XCTAssertEqual(thin.points.last?.fpr, 1)
        XCTAssertEqual(thin.points[5].fpr, 0.5)
    }

    func testKSPicksTheHighestOfTiedThresholds() throws {
        // Thresholds 0.9, 0.8, 0.5 all give |TPR − FPR| = 1/3; 0.2 gives 0.
        let ks = try ROC.ks(labels: labels, scores: scores)
        XCTAssertEqual(ks.statistic, 1.0 / 3.0, accuracy: 1e-16)
        XCTAssertEqual(ks.threshold, 0.9)
        XCTAssertEqual(ks.truePositiveRate, 1.0 / 3.0, accuracy: 1e-16)
        XCTAssertEqual(ks.falsePositiveRate, 0)
    }

    func testAveragePrecisionByHand() throws {
        // Flag from the top: 0.9 → P = 1, R = 1/2; 0.8 → R unchanged; 0.7 → P = 2/3, R = 1.
        // AP = (1/2)·1 + (1/2)·(2/3) = 5/6 (sklearn agrees: 0.8333…).
        XCTAssertEqual(try PrecisionRecall.averagePrecision(labels: [1, 0, 1, 0], scores: [0.9, 0.8, 0.7, 0.1]), 5.0 / 6.0, accuracy: 2e-16)
        // Tied bottom pair enters at once: 0.9 → R 0; 0.8 → P 1/2, R 1/2; 0.4 (both) → P 2/4, R 1. AP = 1/2.
        XCTAssertEqual(try PrecisionRecall.averagePrecision(labels: [0, 1, 0, 1], scores: [0.9, 0.8, 0.4, 0.4]), 0.5, accuracy: 1e-16)
        // Only churners: precision 1 everywhere.
        XCTAssertEqual(try PrecisionRecall.averagePrecision(labels: [1, 1], scores: [0.3, 0.1]), 1)
    }

    func testDeLongTestOnAnIndependentPairIsSymmetricAndBounded() throws {
        var rng = SeededRandom(seed: 11)
        let n = 3000
        let y = (0..<n).map { _ in rng.uniform() < 0.2 ? 1.0 : 0.0 }
        let a = y.map { $0 + 1.5 * rng.normal() }
        let b = zip(a, y).map { $0 + 0.8 * rng.normal() + 0.1 * $1 }
        let t = try ROC.delongTest(labels: y, scores1: a, scores2: b)
        XCTAssertEqual(t.difference, t.auc1 - t.auc2, accuracy: 1e-15)
        XCTAssertEqual(t.z, t.difference / t.standardError, accuracy: 1e-15)
        XCTAssertEqual(t.pValue, erfc(abs(t.z) / 2.0.squareRoot()), accuracy: 1e-16)
        XCTAssertEqual(t.differenceUpper - t.difference, 1.959963984540054 * t.standardError, accuracy: 1e-15)
        XCTAssertEqual(t.variance1, try ROC.delong(labels: y, scores: a).variance, accuracy: 1e-18)
        XCTAssertEqual(t.variance2, try ROC.delong(labels: y, scores: b).variance, accuracy: 1e-18)
    }
}
