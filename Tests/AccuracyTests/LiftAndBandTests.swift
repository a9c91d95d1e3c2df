import Foundation
import Accuracy
import XCTest

final class LiftAndBandTests: XCTestCase {
    func testLiftTableByHandWithTiesAtTheBoundary() throws {
        // Descending score, ties by row order: rows 0 (0.9), 1, 2, 3 (all 0.5), 5 (0.2), 4 (0.1).
        // Three groups of two: {0, 1} has 1 churner, {2, 3} has 2, {5, 4} none; overall rate 1/2.
        let labels: [Double] = [1, 0, 1, 1, 0, 0]
        let scores: [Double] = [0.9, 0.5, 0.5, 0.5, 0.1, 0.2]
        let table = try Lift.table(labels: labels, scores: scores, groups: 3)
        XCTAssertEqual(table.overallChurnRate, 0.5)
        XCTAssertEqual(table.groups.map(\.count), [2, 2, 2])
        XCTAssertEqual(table.groups.map(\.churners), [1, 2, 0])
        XCTAssertEqual(table.groups.map(\.churnRate), [0.5, 1, 0])
        XCTAssertEqual(table.groups.map(\.lift), [1, 2, 0])
        XCTAssertEqual(table.groups.map(\.cumulativeShareOfChurners), [1.0 / 3, 1, 1])
        XCTAssertEqual(table.groups.map(\.cumulativeLift), [1, 1.5, 1])
        XCTAssertEqual(table.groups.map(\.maxScore), [0.9, 0.5, 0.2])
        XCTAssertEqual(table.groups.map(\.minScore), [0.5, 0.5, 0.1])
        XCTAssertEqual(table.topGroupLift, 1)
    }

    func testDecilesOfUnevenSize() throws {
        // 25 rows in 10 groups: positions ⌊k·25/10⌋ give sizes 2,3,2,3,2,3,2,3,2,3.
        let scores = (0..<25).map { Double(25 - $0) }
        let labels = (0..<25).map { $0 < 5 ? 1.0 : 0.0 }
        let table = try Lift.table(labels: labels, scores: scores)
        XCTAssertEqual(table.groups.map(\.count), [2, 3, 2, 3, 2, 3, 2, 3, 2, 3])
        XCTAssertEqual(table.groups.map(\.churners), [2, 3, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(table.topGroupLift, 5)  // rate 1 over overall 0.2
        XCTAssertEqual(table.groups[1].cumulativeShareOfChurners, 1)
        XCTAssertEqual(table.groups.last?.cumulativeLift, 1)
        XCTAssertThrowsError(try Lift.table(labels: [1, 0], scores: [1, 0]))  // fewer rows than groups
        XCTAssertThrowsError(try Lift.table(labels: Array(repeating: 0, count: 20), scores: (0..<20).map(Double.init)))
    }

    func testWilsonIntervalFiveOfTwenty() throws {
        // (2k + z² ± z·√(z² + 4k(n−k)/n)) / (2(n + z²)) with k = 5, n = 20, z = 1.959963984540054;
        // the same as scipy.stats.binomtest(5, 20).proportion_ci(method="wilson").
        let w = try WilsonInterval(successes: 5, trials: 20)
        XCTAssertEqual(w.lower, 0.11186170140766571, accuracy: 1e-15)
        XCTAssertEqual(w.upper, 0.46870087761874402, accuracy: 1e-15)
        let none = try WilsonInterval(successes: 0, trials: 20)
        XCTAssertEqual(none.lower, 0)
        XCTAssertEqual(none.upper, 0.16112515805281935, accuracy: 1e-15)
        let all = try WilsonInterval(successes: 20, trials: 20)
        XCTAssertEqual(all.upper, 1)
        XCTAssertEqual(all.lower, 1 - 0.16112515805281935, accuracy: 1e-15)
        // Small rate at 90%: lower end keeps relative accuracy (scipy: 0.00022312384391207085).
        let rare = try WilsonInterval(successes: 1, trials: 1000, confidenceLevel: 0.90)
        XCTAssertEqual(rare.lower / 0.00022312384391207085, 1, accuracy: 1e-13)
        XCTAssertEqual(rare.upper, 0.0044697229093689297, accuracy: 1e-15)
        XCTAssertThrowsError(try WilsonInterval(successes: 3, trials: 2))
        XCTAssertThrowsError(try WilsonInterval(successes: 0, trials: 0))
    }

    func testChurnRatePerBand() throws {
        var bands: [String] = [], labels: [Bool] = []
        for i in 0..<20 { bands.append("red"); labels.append(i < 5) }     // 5/20
        for i in 0..<10 { bands.append("green"); labels.append(i < 1) }   // 1/10
        for _ in 0..<4 { bands.append("amber"); labels.append(false) }    // 0/4
        let rates = try ChurnBands.rates(bands: bands, labels: labels)
        XCTAssertEqual(rates.map(\.band), ["amber", "green", "red"])
        let red = rates[2]
        XCTAssertEqual(red.count, 20)
        XCTAssertEqual(red.churners, 5)
        XCTAssertEqual(red.rate, 0.25)
        XCTAssertEqual(red.lower, 0.11186170140766571, accuracy: 1e-15)
        XCTAssertEqual(red.upper, 0.46870087761874402, accuracy: 1e-15)
        XCTAssertEqual(rates[0].lower, 0)
        let ordered = try ChurnBands.rates(bands: bands, labels: labels, order: ["red", "purple", "amber"])
        XCTAssertEqual(ordered.map(\.band), ["red", "amber", "green"])
        XCTAssertThrowsError(try ChurnBands.rates(bands: ["a"], labels: [true, false]))
    }
}
