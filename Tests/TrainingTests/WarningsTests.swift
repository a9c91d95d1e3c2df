import Foundation
import Testing
import FitEngine
import ScoringCore
import Tabular
import TestSupport
@testable import Training

/// Rank deficiency and separation, end to end from CSV files.
@Suite struct WarningsTests {
    static func fit(_ csv: String, _ roles: ColumnRoles) throws -> FitOutcome {
        try fitCSV(csv, roles)
    }

    /// mlc_churn with one column repeated under another name.
    static func mlcWithDuplicate() throws -> String {
        let text = try String(contentsOfFile: Fixtures.dataset("mlc_churn.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let source = header.firstIndex(of: "\"total_day_calls\"")!
        for i in lines.indices {
            let fields = lines[i].split(separator: ",", omittingEmptySubsequences: false)
            lines[i] += "," + (i == 0 ? "\"day_calls_copy\"" : String(fields[source]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func duplicatedColumnIsAliasedAndOtherEstimatesUnchanged() throws {
        let plain = RConformanceTests.fitted.model
        let dup = try Self.fit(try Self.mlcWithDuplicate(), ColumnRoles(target: "churn")).model
        #expect(dup.aliased == ["day_calls_copy"])
        let warning = try #require(dup.warnings.first { $0.code == "aliased" })
        #expect(warning.terms == ["day_calls_copy"])
        #expect(dup.coefficients.count == plain.coefficients.count)
        for (a, b) in zip(plain.coefficients, dup.coefficients) {
            #expect(a.term == b.term)
            #expect(abs(a.estimate - b.estimate) <= 1e-9 * max(abs(a.estimate), a.standardError!))
            #expect(relativeError(b.standardError!, a.standardError!) <= 1e-8)
        }
        #expect(relativeError(dup.fit.logLikelihood, plain.fit.logLikelihood) <= 1e-12)
    }

    @Test func perfectlySeparatingMetricIsNamedInTheWarning() throws {
        var csv = "customer,logins,days_late,plan,churned\n"
        var seed: UInt64 = 17
        func next() -> Double { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Double(seed >> 11) * 0x1p-53 }
        for i in 0..<300 {
            let late = Int(next() * 60)
            csv += "C\(i),\(Int(next() * 40)),\(late),\(next() < 0.5 ? "basic" : "pro"),\(late > 30 ? 1 : 0)\n"
        }
        let model = try Self.fit(csv, ColumnRoles(target: "churned", id: "customer")).model
        let w = try #require(model.warnings.first { $0.code == "separation" || $0.code == "quasi_separation" })
        #expect(w.code == "separation")
        #expect(w.terms.contains("days_late"))
        #expect(!w.terms.contains("logins"))
        #expect(w.message.contains("days_late"))
    }

    @Test func sparseStatesInTheFirst500RowsAreQuasiSeparated() throws {
        let text = try String(contentsOfFile: Fixtures.dataset("mlc_churn.csv"), encoding: .utf8)
        let first = text.split(separator: "\n").prefix(501).joined(separator: "\n") + "\n"
        let model = try Self.fit(first, ColumnRoles(target: "churn")).model
        let w = try #require(model.warnings.first { $0.code == "quasi_separation" })
        #expect(!w.terms.isEmpty)
        #expect(w.terms.allSatisfy { $0.hasPrefix("state[") })
        #expect(!model.warnings.contains { $0.code == "separation" })
    }
}

@Suite struct RepeatedIdsTests {
    @Test func repeatedSnapshotsRecommendClusterRobustErrors() throws {
        var csv = "customer,month,logins,churned\n"
        var rng = SeededRandom(seed: 3)
        for c in 0..<150 { for m in 1...4 { csv += "C\(c),2024-0\(m)-01,\(Int(rng.uniform() * 20)),\(rng.uniform() < 0.2 ? 1 : 0)\n" } }
        let plain = try WarningsTests.fit(csv, ColumnRoles(target: "churned", id: "customer", time: "month")).model
        let w = try #require(plain.warnings.first { $0.code == "repeated_ids" })
        #expect(w.message.contains("600 rows for 150 customers"))
        #expect(w.message.contains("--covariance cluster:customer"))
        let clustered = try fitCSV(csv, ColumnRoles(target: "churned", id: "customer", time: "month", cluster: "customer"),
                                   covariance: .cluster).model
        #expect(clustered.fit.covariance == "cluster:customer (150 clusters)")
        #expect(!clustered.warnings.contains { $0.code == "repeated_ids" })
    }

    /// The snapshot column fitted as a category (no --time) is named, with the flag that fixes it;
    /// with --time, or for ordinary levels, nothing is said.
    @Test func datesFittedAsACategoryAreNamed() throws {
        var rng = SeededRandom(seed: 5)
        var csv = "customer,month,logins,churned\n"
        for c in 0..<120 { for m in 1...4 { csv += "C\(c),2024-0\(m)-01,\(Int(rng.uniform() * 20)),\(rng.uniform() < 0.25 ? 1 : 0)\n" } }
        let dated = try WarningsTests.fit(csv, ColumnRoles(target: "churned", id: "customer")).model
        let w = try #require(dated.warnings.first { $0.code == "dates_as_category" })
        #expect(w.terms == ["month"] && w.message.contains("--time month") && w.message.contains("2024-01-01"))
        let timed = try WarningsTests.fit(csv, ColumnRoles(target: "churned", id: "customer", time: "month")).model
        #expect(!timed.warnings.contains { $0.code == "dates_as_category" })
        var ridge = FitSpec(roles: ColumnRoles(target: "churned", id: "customer"), estimator: .elasticNet(alpha: 0, lambda: 0.01))
        ridge.roles.categorical = ["month"]
        let path = Fixtures.temporaryDirectory().appendingPathComponent("dated.csv").path
        try Data(csv.utf8).write(to: URL(fileURLWithPath: path))
        var clock = Timings()
        #expect(try FitPipeline.fit(ridge, .file(path), timings: &clock).model.warnings.contains { $0.code == "dates_as_category" })
    }

    @Test(arguments: [("2024-01-31", true), ("2024-01", true), ("31/01/2024", true), ("01/31/2024", true), ("2024-03-05T10:00:00Z", true),
                      ("2024", false), ("pro", false), ("10-20", false), ("1.5", false), ("2024-13-45", false), ("area_code_415", false)])
    func whatLooksLikeADate(_ text: String, _ expected: Bool) {
        #expect(Trainer.looksLikeDate(text) == expected)
    }

    @Test func oneRowPerCustomerRaisesNothing() throws {
        var csv = "customer,logins,churned\n"
        for c in 0..<100 { csv += "C\(c),\(c % 9),\(c % 5 == 0 ? 1 : 0)\n" }
        let model = try WarningsTests.fit(csv, ColumnRoles(target: "churned", id: "customer")).model
        #expect(!model.warnings.contains { $0.code == "repeated_ids" })
    }
}

@Suite struct ExtremeValuesTests {
    /// Values near the overflow limit give finite statistics and a model that encodes and scores.
    @Test func metricNearTheOverflowLimit() throws {
        let csv = "x,big,y\n1,1e308,0\n2,-1e308,1\n3,1e308,1\n4,1e307,0\n5,-1e308,0\n6,1e308,1\n7,-5e307,0\n8,2e307,1\n"
        let result = try WarningsTests.fit(csv, ColumnRoles(target: "y"))
        let model = result.model
        _ = try model.encoded()
        let big = try #require(model.coefficients.first { $0.term == "big" })
        #expect(big.estimate.isFinite && big.standardError.map { $0 > 0 && $0.isFinite } == true)
        #expect(model.schema.features.allSatisfy { ($0.standardDeviation ?? 0).isFinite && ($0.mean ?? 0).isFinite })
        #expect(result.fit!.fittedProbabilities.allSatisfy { $0 > 0 && $0 < 1 })
    }
}
