import Foundation
import Testing
import FitEngine
import ScoringCore
import Tabular
import TestSupport
@testable import Training

/// Transforms are learned at fit time, stored in the model, and applied by the scoring core alone:
/// scoring the training file must reproduce the fit's own probabilities.
@Suite struct TransformTests {
    static let history = Fixtures.dataset("simulated_history.csv")

    static func roles(_ transforms: [String: [MetricTransform.Kind]], auto: Bool = false) -> ColumnRoles {
        var r = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: .impute)
        r.transforms = transforms
        r.autoTransform = auto
        return r
    }

    @Test(arguments: [
        ["logins": [MetricTransform.Kind.log1p]],
        ["sentiment": [.asinh], "roi_proxy": [.asinh]],
        ["days_late": [.clip], "csat": [.clip]],
        ["logins": [.clip, .log1p], "days_late": [.clip, .log1p]],
    ])
    func trainServeRoundTrip(_ transforms: [String: [MetricTransform.Kind]]) throws {
        var clock = Timings()
        let result = try FitPipeline.fit(FitSpec(roles: Self.roles(transforms)), .file(Self.history), timings: &clock)
        for (column, kinds) in transforms {
            let spec = try #require(result.model.schema.features.first { $0.column == column })
            #expect(spec.transforms?.map(\.kind) == kinds)
        }
        // Through JSON, as production would load it.
        let model = try ModelArtifact.decode(try result.model.encoded(), path: "memory")
        let (table, columns) = try ScoringInput.read(path: Self.history, model: model)
        let scores = try Scorer(model: model).score(rowCount: table.rowCount, columns: columns)
        #expect(scores.count == result.fit!.fittedProbabilities.count)
        var worst = 0.0
        for (s, p) in zip(scores, result.fit!.fittedProbabilities) { worst = max(worst, abs(s.churnProbability - p)) }
        #expect(worst <= 1e-12, "max difference \(worst)")
    }

    @Test func clipLearnsTrainingPercentiles() throws {
        var clock = Timings()
        let model = try FitPipeline.fit(FitSpec(roles: Self.roles(["days_late": [.clip]])), .file(Self.history), timings: &clock).model
        let t = try #require(model.schema.features.first { $0.column == "days_late" }?.transforms?.first)
        #expect(t.kind == .clip && t.lower! <= t.upper!)
        #expect(t.apply(1e9) == t.upper && t.apply(-1e9) == t.lower)
    }

    @Test func autoTransformLogsSkewedCountsOnly() throws {
        var clock = Timings()
        let model = try FitPipeline.fit(FitSpec(roles: Self.roles([:], auto: true)), .file(Self.history), timings: &clock).model
        let logged = Set(model.schema.features.filter { $0.transforms != nil }.map(\.column))
        #expect(logged.contains("days_late"))
        #expect(!logged.contains("nps") && !logged.contains("csat") && !logged.contains("active_days"))
        #expect(TransformRule.skewness([1, 2, 3, 4, 5]) == 0)
    }

    @Test func log1pOutsideItsDomainIsAnErrorAtFitAndAtScoring() throws {
        #expect {
            var r = ColumnRoles(target: "y")
            r.transforms = ["x": [.log1p]]
            _ = try fitCSV("x,y\n0,0\n-2,1\n3,1\n4,0\n", r)
        } throws: { "\($0)".contains("asinh") }

        var r = ColumnRoles(target: "y")
        r.transforms = ["x": [.log1p]]
        let model = try fitCSV("x,y\n0,0\n1,1\n3,1\n4,0\n2,0\n", r).model
        #expect {
            _ = try Scorer(model: model).score(rowCount: 1, columns: ["x": .numbers([-3])])
        } throws: { "\($0)".contains("log1p") && "\($0)".contains("row 1") }
    }
}
