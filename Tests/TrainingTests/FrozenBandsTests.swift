import Foundation
import Testing
import ScoringCore
import Tabular
import TestSupport
@testable import Training

/// Bands are cut once, on the training scores, and stored: the training file splits 25/50/25 and a
/// later batch is banded with the same cut points.
@Suite struct FrozenBandsTests {
    @Test(arguments: ["probability", "points"])
    func trainingFileSplitsIntoQuarterHalfQuarter(_ scale: String) throws {
        var fitSpec = FitSpec(roles: ColumnRoles(target: "churn"))
        if scale == "points" { fitSpec.scoring.scale = .points(pdo: 20, reference: 600, odds: 50) }
        var clock = Timings()
        let path = Fixtures.dataset("mlc_churn.csv")
        let model = try ModelArtifact.decode(try FitPipeline.fit(fitSpec, .file(path), timings: &clock).model.encoded(), path: "m")
        let spec = try #require(model.scoring)
        #expect(spec.bands.map(\.label) == ["healthy", "at_risk", "unhealthy"] && spec.bands.map(\.colour) == ["green", "yellow", "red"])
        let (table, columns) = try ScoringInput.read(path: path, model: model)
        let scores = try Scorer(model: model).score(rowCount: table.rowCount, columns: columns)
        let counts = Dictionary(grouping: scores, by: { $0.band! }).mapValues(\.count)
        #expect(abs(counts["healthy"]! - 1250) <= 1 && abs(counts["at_risk"]! - 2500) <= 1 && abs(counts["unhealthy"]! - 1250) <= 1, "\(counts)")

        // A second batch (the first 300 customers) is banded with the stored cut points, not its own quartiles.
        let batch = table.subset(rows: Array(0..<300))
        let again = try Scorer(model: model).score(rowCount: 300, columns: ScoringInput.columns(batch, names: Scorer(model: model).requiredColumns))
        for (a, b) in zip(again, scores.prefix(300)) { #expect(a.band == b.band && a.healthScore == b.healthScore) }
        #expect(again.allSatisfy { s in spec.band(s.healthScore)?.label == s.band })
    }

    @Test func explicitCutsAndLabels() throws {
        var spec = FitSpec(roles: ColumnRoles(target: "churn"))
        spec.scoring.cuts = [95, 85, 70]
        spec.scoring.labels = ["thriving", "steady", "watch", "critical"]
        var clock = Timings()
        let model = try FitPipeline.fit(spec, .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock).model
        #expect(model.scoring?.bands.map(\.minScore) == [95, 85, 70, nil])
        #expect(model.scoring?.bands.map(\.label) == ["thriving", "steady", "watch", "critical"])
        #expect(model.scoring?.band(90)?.label == "steady" && model.scoring?.band(10)?.label == "critical")
    }
}
