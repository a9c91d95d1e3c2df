import Foundation
import Testing
import ScoringCore
import Simulator
import Tabular
import TestSupport
@testable import Training

/// A simulated history whose churn labels follow a known logistic model: the fitted 99% Wald
/// intervals must cover the true weights.
@Suite struct WeightRecoveryTests {
    @Test func trueWeightsFallInside99PercentIntervals() throws {
        let dir = Fixtures.temporaryDirectory()
        let csv = dir.appendingPathComponent("history.csv").path
        let truthPath = dir.appendingPathComponent("truth.json").path
        let config = SimulationConfig(customers: 28_000, months: 12, seed: 2026)
        try Simulator.write(config: config, csvPath: csv, truthPath: truthPath)
        let truth = try JSONDecoder().decode(TrueModel.self, from: Data(contentsOf: URL(fileURLWithPath: truthPath)))

        var clock = Timings()
        let model = try FitPipeline.fit(
            FitSpec(roles: ColumnRoles(target: truth.label, id: "customer_id", time: "snapshot_date")),
            .file(csv), timings: &clock).model
        #expect(model.fit.nObservations >= 190_000)
        #expect(model.fit.converged)

        let z99 = 2.5758293035489
        var expected = [Coefficient.interceptTerm: truth.intercept]
        for w in truth.weights { expected[w.term] = w.weight }
        #expect(Set(expected.keys) == Set(model.coefficients.map(\.term)))
        var covered = 0
        for c in model.coefficients {
            let se = try #require(c.standardError)
            let target = try #require(expected[c.term])
            if abs(c.estimate - target) <= z99 * se { covered += 1 }
        }
        #expect(Double(covered) >= 0.97 * Double(model.coefficients.count),
                "covered \(covered) of \(model.coefficients.count)")
    }
}
