import Foundation
import Accuracy
import XCTest

final class CalibrationTests: XCTestCase {
    // 30 rows with distinct predictions, 14 churners; reference values from Python (see each test).
    let p: [Double] = [0.03, 0.07, 0.11, 0.12, 0.15, 0.18, 0.2, 0.22, 0.25, 0.27, 0.3, 0.33, 0.35, 0.38, 0.41,
                       0.44, 0.47, 0.5, 0.52, 0.55, 0.58, 0.61, 0.64, 0.67, 0.7, 0.74, 0.78, 0.83, 0.88, 0.94]
    let y: [Double] = [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1]

    /// p ∈ {0.1, …, 0.9}, 100 rows each with exactly 100·p churners: calibrated by construction.
    func perfectlyCalibrated() -> (y: [Double], p: [Double]) {
        var y: [Double] = [], p: [Double] = []
        for k in 1...9 {
            for i in 0..<100 {
                p.append(Double(k) / 10)
                y.append(i < 10 * k ? 1 : 0)
            }
        }
        return (y, p)
    }

    func testReliabilityDecilesOfThirtyRows() throws {
        let table = try Calibration.reliability(labels: y, probabilities: p)
        XCTAssertEqual(table.bins.count, 10)
        XCTAssertEqual(table.bins.map(\.count), Array(repeating: 3, count: 10))
        XCTAssertEqual(table.bins[0].meanPredicted, (0.03 + 0.07 + 0.11) / 3, accuracy: 1e-16)
        XCTAssertEqual(table.bins[0].observedRate, 1.0 / 3)
        XCTAssertEqual(table.bins[0].lowerBound, 0.03)
        XCTAssertEqual(table.bins[0].upperBound, 0.11)
        // Python: mean over deciles of 3·|ȳ_b − p̄_b| / 30.
        XCTAssertEqual(table.expectedCalibrationError, 0.10733333333333331, accuracy: 1e-15)
        XCTAssertEqual(try Calibration.expectedCalibrationError(labels: y, probabilities: p), table.expectedCalibrationError)
    }

    func testEqualWidthBins() throws {
        let table = try Calibration.reliability(labels: y, probabilities: p, bins: 10, binning: .equalWidth)
        // Counts per [k/10, (k+1)/10): 0.03 0.07 | 0.11 0.12 0.15 0.18 | 0.2 0.22 0.25 0.27 | 0.3 … 0.38 | …
        XCTAssertEqual(table.bins.map(\.count), [2, 4, 4, 4, 3, 4, 3, 3, 2, 1])
        XCTAssertEqual(table.bins.map(\.lowerBound), [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
        XCTAssertEqual(table.bins.last?.upperBound, 1)
        XCTAssertEqual(table.bins[9].meanPredicted, 0.94)
        XCTAssertEqual(table.bins[9].observedRate, 1)
        XCTAssertEqual(table.bins.map(\.count).reduce(0, +), 30)
        // Edge values land in the bin whose printed lower edge they equal; 1.0 is in the last bin.
        let edges = try Calibration.reliability(labels: [0, 1, 1], probabilities: [0.3, 0.7, 1.0], bins: 10, binning: .equalWidth)
        XCTAssertEqual(edges.bins.map(\.lowerBound), [0.3, 0.7, 0.9])
    }

    func testQuantileBinsNeverSplitTies() throws {
        let c = perfectlyCalibrated()
        let table = try Calibration.reliability(labels: c.y, probabilities: c.p)
        // Split points 90, 180, … fall inside the 100-row tie groups, so each group is one bin.
        XCTAssertEqual(table.bins.count, 9)
        XCTAssertEqual(table.bins.map(\.count), Array(repeating: 100, count: 9))
        for (k, bin) in table.bins.enumerated() {
            XCTAssertEqual(bin.meanPredicted, Double(k + 1) / 10, accuracy: 1e-15)
            XCTAssertEqual(bin.observedRate, Double(k + 1) / 10, accuracy: 1e-15)
        }
    }

    func testPerfectCalibration() throws {
        let c = perfectlyCalibrated()
        XCTAssertEqual(try Calibration.expectedCalibrationError(labels: c.y, probabilities: c.p), 0, accuracy: 1e-15)
        XCTAssertEqual(try Calibration.expectedCalibrationError(labels: c.y, probabilities: c.p, binning: .equalWidth), 0, accuracy: 1e-15)
        let fit = try Calibration.logisticRecalibration(labels: c.y, probabilities: c.p)
        XCTAssertEqual(fit.slope, 1, accuracy: 1e-12)
        XCTAssertEqual(fit.intercept, 0, accuracy: 1e-12)
        XCTAssertEqual(fit.jointIntercept, 0, accuracy: 1e-12)
        let hl = try Calibration.hosmerLemeshow(labels: c.y, probabilities: c.p)
        XCTAssertEqual(hl.statistic, 0, accuracy: 1e-20)
        XCTAssertEqual(hl.degreesOfFreedom, 7)
        XCTAssertEqual(hl.pValue, 1, accuracy: 1e-15)
    }

    func testLogisticRecalibrationMatchesPython() throws {
        // numpy Newton on y ~ a + b·logit(p) (after scipy BFGS), and scipy.optimize.brentq on
        // Σ(y − σ(a + logit p)) = 0 for the intercept with slope fixed at 1.
        let fit = try Calibration.logisticRecalibration(labels: y, probabilities: p)
        XCTAssertEqual(fit.slope, 0.8813597606328587, accuracy: 1e-12)
        XCTAssertEqual(fit.jointIntercept, 0.11250124783842537, accuracy: 1e-12)
        XCTAssertEqual(fit.intercept, 0.14174927553709682, accuracy: 1e-12)
        XCTAssertLessThan(fit.iterations, 10)
    }

    func testMiscalibrationIsDetected() throws {
        // Squashing the logits by ½ makes predictions too timid: slope ≈ 2.
        let c = perfectlyCalibrated()
        let timid = c.p.map { q -> Double in
            let l = 0.5 * (log(q) - log1p(-q))
            return 1 / (1 + exp(-l))
        }
        let fit = try Calibration.logisticRecalibration(labels: c.y, probabilities: timid)
        XCTAssertEqual(fit.slope, 2, accuracy: 1e-12)
        XCTAssertGreaterThan(try Calibration.expectedCalibrationError(labels: c.y, probabilities: timid), 0.05)
        XCTAssertLessThan(try Calibration.hosmerLemeshow(labels: c.y, probabilities: timid).pValue, 1e-6)
    }

    func testHosmerLemeshowSmallCaseMatchesPython() throws {
        // Python: groups at sorted positions ⌊k·n/g⌋, Σ (O−E)²/(E(1 − E/n_g)), scipy.stats.chi2.sf.
        let five = try Calibration.hosmerLemeshow(labels: y, probabilities: p, groups: 5)
        XCTAssertEqual(five.statistic, 0.7089261453995831, accuracy: 1e-13)
        XCTAssertEqual(five.pValue, 0.8711024483724068, accuracy: 1e-13)
        XCTAssertEqual(five.degreesOfFreedom, 3)
        XCTAssertEqual(five.groups.map(\.count), [6, 6, 6, 6, 6])
        XCTAssertEqual(five.groups.map(\.observed), [1, 2, 2, 4, 5])
        let ten = try Calibration.hosmerLemeshow(labels: y, probabilities: p)
        XCTAssertEqual(ten.statistic, 4.8571524782646609, accuracy: 1e-13)
        XCTAssertEqual(ten.pValue, 0.77272910935609074, accuracy: 1e-13)
        XCTAssertEqual(ten.degreesOfFreedom, 8)
    }

    func testDegenerateCalibrationInputsThrow() {
        // Logits separate the classes: the slope is infinite.
        XCTAssertThrowsError(try Calibration.logisticRecalibration(labels: [0, 0, 1, 1], probabilities: [0.1, 0.2, 0.3, 0.4])) {
            guard case AccuracyError.degenerate = $0 else { return XCTFail("\($0)") }
        }
        // Constant predictions: no slope, and only one Hosmer–Lemeshow group.
        XCTAssertThrowsError(try Calibration.logisticRecalibration(labels: [0, 1, 0, 1], probabilities: [0.5, 0.5, 0.5, 0.5]))
        XCTAssertThrowsError(try Calibration.hosmerLemeshow(labels: [0, 1, 0, 1], probabilities: [0.5, 0.5, 0.5, 0.5])) {
            XCTAssertTrue("\($0)".contains("only 1 risk group"), "\($0)")
        }
        XCTAssertThrowsError(try Calibration.hosmerLemeshow(labels: y, probabilities: p, groups: 2))
        XCTAssertThrowsError(try Calibration.reliability(labels: y, probabilities: p, bins: 0))
    }
}
