import Foundation
import Accuracy
import TestSupport
import XCTest

/// Against R (pROC 1.18.0, glm) and Python (scikit-learn 1.9.1, SciPy 1.17.1) on the mlc churn
/// predictions; reference values are quoted in Tests/Reference/README.md or noted where computed.
final class PROCReferenceTests: XCTestCase {
    private var data: ReferencePredictions!

    override func setUpWithError() throws {
        data = try ReferencePredictions.mlc()
    }
    
    func testFileShape() {
        XCTAssertEqual(data.y.count, 5000)
        XCTAssertEqual(data.y.reduce(0, +), 707)
    }

    func testAUCAndDeLongIntervalMatchPROC() throws {
        let full = try ROC.delong(labels: data.y, scores: data.pFull)
        XCTAssertEqual(full.auc, 0.841073145949, accuracy: 1e-9)
        XCTAssertEqual(full.lower, 0.825129663208, accuracy: 1e-9)
        XCTAssertEqual(full.upper, 0.857016628689, accuracy: 1e-9)
        XCTAssertEqual(full.churners, 707)
        XCTAssertEqual(full.nonChurners, 4293)
        XCTAssertEqual(try ROC.auc(labels: data.y, scores: data.pFull), full.auc)
        XCTAssertEqual(try ROC.auc(labels: data.y, scores: data.pNoState), 0.829348193879, accuracy: 1e-9)
        // Symmetric interval: its half-width is z·SE.
        XCTAssertEqual((full.upper - full.lower) / 2, 1.959963984540054 * full.standardError, accuracy: 1e-15)
    }

    func testPairedDeLongTestMatchesPROC() throws {
        let test = try ROC.delongTest(labels: data.y, scores1: data.pFull, scores2: data.pNoState)
        XCTAssertEqual(test.z, 3.7055454739, accuracy: 1e-9)
        XCTAssertEqual(test.pValue, 0.000210936279, accuracy: 1e-9)
        XCTAssertEqual(test.auc1, 0.841073145949, accuracy: 1e-9)
        XCTAssertEqual(test.auc2, 0.829348193879, accuracy: 1e-9)
        // The direct variance of the difference agrees with var1 + var2 − 2·cov.
        XCTAssertEqual(test.standardError * test.standardError,
                       test.variance1 + test.variance2 - 2 * test.covariance, accuracy: 1e-15)
        // Swapping the scores flips the sign only.
        let swapped = try ROC.delongTest(labels: data.y, scores1: data.pNoState, scores2: data.pFull)
        XCTAssertEqual(swapped.z, -test.z, accuracy: 1e-12)
        XCTAssertEqual(swapped.pValue, test.pValue, accuracy: 1e-15)
    }

    func testLogLossAndBrierMatchR() throws {
        XCTAssertEqual(try ProbabilityScores.logLoss(labels: data.y, probabilities: data.pFull), 0.305386892951, accuracy: 1e-9)
        // logLik of the glm (README: −1526.934464754635) over n: the in-sample log loss.
        XCTAssertEqual(try ProbabilityScores.logLoss(labels: data.y, probabilities: data.pFull),
                       1526.934464754635 / 5000, accuracy: 1e-13)
        XCTAssertEqual(try ProbabilityScores.brierScore(labels: data.y, probabilities: data.pFull), 0.092462080395, accuracy: 1e-9)
    }

    func testAveragePrecisionMatchesScikitLearn() throws {
        // sklearn.metrics.average_precision_score(y, p) with scikit-learn 1.9.1 on this file.
        XCTAssertEqual(try PrecisionRecall.averagePrecision(labels: data.y, scores: data.pFull), 0.50104884515646375, accuracy: 1e-12)
        XCTAssertEqual(try PrecisionRecall.averagePrecision(labels: data.y, scores: data.pNoState), 0.47002742109375789, accuracy: 1e-12)
    }

    func testKSMatchesSciPyTwoSampleKS() throws {
        // scipy.stats.ks_2samp(p[y == 1], p[y == 0]): statistic 0.56597645388977358 at
        // statistic_location 0.16309842096859176. SciPy's location x splits at "score ≤ x"; ours is the
        // cut-off of "flag score ≥ threshold", i.e. the next score above x.
        let ks = try ROC.ks(labels: data.y, scores: data.pFull)
        XCTAssertEqual(ks.statistic, 0.56597645388977358, accuracy: 1e-12)
        XCTAssertEqual(ks.threshold, data.pFull.filter { $0 > 0.16309842096859176 }.min())
        XCTAssertEqual(ks.truePositiveRate - ks.falsePositiveRate, ks.statistic, accuracy: 1e-15)
    }

    func testHosmerLemeshowDecilesMatchPython() throws {
        // Python: rows sorted by p, groups at positions ⌊k·n/10⌋ (no ties in this file),
        // Σ (O−E)²/E + (O−E)²/(n_g−E), scipy.stats.chi2.sf(stat, 8).
        let full = try Calibration.hosmerLemeshow(labels: data.y, probabilities: data.pFull)
        XCTAssertEqual(full.statistic, 22.115094696616389, accuracy: 1e-10)
        XCTAssertEqual(full.pValue, 0.0047070576611062936, accuracy: 1e-12)
        XCTAssertEqual(full.degreesOfFreedom, 8)
        XCTAssertEqual(full.groups.map(\.count), Array(repeating: 500, count: 10))
        let nostate = try Calibration.hosmerLemeshow(labels: data.y, probabilities: data.pNoState)
        XCTAssertEqual(nostate.statistic, 42.379161596456647, accuracy: 1e-10)
        XCTAssertEqual(nostate.pValue, 1.1494633212153134e-06, accuracy: 1e-14)
    }

    func testInSampleMaximumLikelihoodFitIsCalibratedInTheLargeWithSlopeOne() throws {
        // The glm's score equations (intercept, and the linear predictor being a combination of the
        // columns) force intercept 0 and slope 1 for its own fitted values.
        for p in [data.pFull, data.pNoState] {
            let fit = try Calibration.logisticRecalibration(labels: data.y, probabilities: p)
            XCTAssertEqual(fit.intercept, 0, accuracy: 1e-8)
            XCTAssertEqual(fit.slope, 1, accuracy: 1e-8)
            XCTAssertEqual(fit.jointIntercept, 0, accuracy: 1e-8)
        }
    }

    func testEvaluateReproducesTheSeparateMetrics() throws {
        let e = try evaluate(labels: data.y, scores: data.pFull)
        XCTAssertEqual(e.roc.auc, 0.841073145949, accuracy: 1e-9)
        XCTAssertEqual(e.roc.lower, 0.825129663208, accuracy: 1e-9)
        XCTAssertEqual(e.roc.upper, 0.857016628689, accuracy: 1e-9)
        XCTAssertEqual(e.logLoss, 0.305386892951, accuracy: 1e-9)
        XCTAssertEqual(e.brierScore, 0.092462080395, accuracy: 1e-9)
        XCTAssertEqual(e.averagePrecision, 0.50104884515646375, accuracy: 1e-12)
        XCTAssertEqual(e.ks.statistic, 0.56597645388977358, accuracy: 1e-12)
        XCTAssertEqual(e.hosmerLemeshow?.statistic ?? .nan, 22.115094696616389, accuracy: 1e-10)
        XCTAssertEqual(e.brierSkillScore,
                       try ProbabilityScores.brierSkillScore(labels: data.y, probabilities: data.pFull), accuracy: 1e-15)
        XCTAssertEqual(e.reliability, try Calibration.reliability(labels: data.y, probabilities: data.pFull))
        XCTAssertEqual(e.lift, try Lift.table(labels: data.y, scores: data.pFull))
        XCTAssertEqual(e.count, 5000)
        XCTAssertEqual(e.churners, 707)
        XCTAssertTrue(e.warnings.isEmpty, "\(e.warnings)")
        XCTAssertEqual(e.rocCurve.points.count, 1000)
        let fullCurve = try ROC.curve(labels: data.y, scores: data.pFull)
        XCTAssertEqual(fullCurve.points.count, 5001)  // (0, 0) and one point per distinct score
        XCTAssertEqual(e.rocCurve, fullCurve.thinned(maxPoints: 1000))
        XCTAssertEqual(fullCurve.thinned(maxPoints: 10_000), fullCurve)
        XCTAssertEqual(e.rocCurve.points.first, ROCPoint(fpr: 0, tpr: 0, threshold: nil))
        XCTAssertEqual(e.rocCurve.points.last?.fpr, 1)
        XCTAssertEqual(e.rocCurve.points.last?.tpr, 1)
    }
}
