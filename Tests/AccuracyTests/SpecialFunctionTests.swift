import Foundation
import Accuracy
import Support
import XCTest

final class SpecialFunctionTests: XCTestCase {
    func testRegularizedGammaQAgainstSciPy() throws {
        // scipy.special.gammaincc(a, x), SciPy 1.17.1.
        let cases: [(a: Double, x: Double, q: Double)] = [
            (0.5, 0.1, 0.65472084601857683),
            (1, 1, 0.36787944117144245),
            (4, 3.5, 0.53663266790078501),
            (4, 20, 3.2037197804769978e-06),
            (10, 5, 0.96817194269379514),
            (2.5, 30, 1.2154569777183007e-11),
            (100, 90, 0.84177901081356998),
            (100, 120, 0.027863739890520652),
            (0.1, 2, 0.0056738239798115346),
            (50, 1, 1),
            (3, 0.001, 0.99999999983345833),
            (7.5, 7.5, 0.45141721122572559),
            (1000, 1100, 0.0010593232539299773),
            (0.01, 0.5, 0.0056267561939671827),
        ]
        for c in cases {
            let q = try SpecialFunctions.regularizedGammaQ(c.a, c.x)
            XCTAssertEqual(q, c.q, accuracy: 1e-12, "Q(\(c.a), \(c.x))")
            // Relative accuracy too, including the tiny tails.
            XCTAssertLessThan(abs(q - c.q) / c.q, 1e-12, "Q(\(c.a), \(c.x)) = \(q)")
            XCTAssertEqual(try SpecialFunctions.regularizedGammaP(c.a, c.x) + q, 1, accuracy: 1e-15)
        }
        XCTAssertEqual(try SpecialFunctions.regularizedGammaQ(2, 0), 1)
        XCTAssertEqual(try SpecialFunctions.regularizedGammaQ(2, .infinity), 0)
        // Q(1, x) = e^−x exactly, in the far tail as well.
        XCTAssertEqual(try SpecialFunctions.regularizedGammaQ(1, 700) / exp(-700), 1, accuracy: 1e-13)
        XCTAssertThrowsError(try SpecialFunctions.regularizedGammaQ(0, 1))
        XCTAssertThrowsError(try SpecialFunctions.regularizedGammaQ(1, -1))
        XCTAssertThrowsError(try SpecialFunctions.regularizedGammaQ(.nan, 1))
        XCTAssertThrowsError(try SpecialFunctions.regularizedGammaQ(1, .nan))
    }

    func testChiSquareUpperTailAgainstSciPy() throws {
        // scipy.stats.chi2.sf(x, df).
        let cases: [(x: Double, df: Double, p: Double)] = [
            (3.84, 1, 0.050043521248705189),
            (12, 8, 0.15120388277664784),
            (5.5, 8, 0.70303999446855747),
            (40, 8, 3.2037197804769978e-06),
            (0.5, 3, 0.9188914116546758),
        ]
        for c in cases {
            XCTAssertEqual(try SpecialFunctions.chiSquareUpperTail(c.x, degreesOfFreedom: c.df), c.p, accuracy: 1e-13, "\(c)")
        }
    }

    func testNormalQuantileAndTails() throws {
        // scipy.stats.norm.ppf.
        XCTAssertEqual(try SpecialFunctions.normalQuantile(0.975), 1.959963984540054, accuracy: 4e-16)
        XCTAssertEqual(try SpecialFunctions.normalQuantile(0.95), 1.6448536269514722, accuracy: 4e-16)
        XCTAssertEqual(try SpecialFunctions.normalQuantile(0.995), 2.5758293035489004, accuracy: 1e-15)
        XCTAssertEqual(try SpecialFunctions.normalQuantile(0.3), -0.52440051270804089, accuracy: 1e-15)
        XCTAssertEqual(try SpecialFunctions.normalQuantile(1e-10), -6.3613409024040557, accuracy: 1e-14)
        XCTAssertEqual(try SpecialFunctions.normalQuantile(0.5), 0)
        XCTAssertEqual(try SpecialFunctions.twoSidedNormalQuantile(confidenceLevel: 0.95), 1.959963984540054)
        XCTAssertEqual(try SpecialFunctions.twoSidedNormalQuantile(confidenceLevel: 0.99), 2.5758293035489004, accuracy: 1e-15)
        XCTAssertThrowsError(try SpecialFunctions.normalQuantile(1))
        XCTAssertThrowsError(try SpecialFunctions.twoSidedNormalQuantile(confidenceLevel: 1.5))
        // 2·scipy.stats.norm.sf(3.7055454739)
        XCTAssertEqual(SpecialFunctions.normalTwoSidedPValue(3.7055454739), 0.00021093627900511746, accuracy: 1e-18)
        XCTAssertEqual(SpecialFunctions.normalTwoSidedPValue(-3.7055454739), 0.00021093627900511746, accuracy: 1e-18)
        // Deep tail keeps relative accuracy: P(Z > 10) = 7.61985302416047e-24.
        XCTAssertEqual(SpecialFunctions.normalUpperTail(10) / 7.61985302416047e-24, 1, accuracy: 1e-13)
    }
}
