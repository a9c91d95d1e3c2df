import Foundation
import Testing
import TestSupport

/// evaluate / compare / backtest as a user runs them.
@Suite struct EvaluationCommandTests {
    static let history = Fixtures.dataset("simulated_history.csv")
    static let card = Fixtures.dataset("current_scorecard.yaml")
    static let roles = ["--target", "churned_next_month", "--id", "customer_id", "--time", "snapshot_date", "--missing", "impute"]

    @Test func backtestJSONListsEachFoldWithDatesAndCustomers() throws {
        let r = try CLI.run(["backtest", Self.history] + Self.roles + ["--horizon", "1m", "--backtest-folds", "3",
                             "--candidate", "current=\(Self.card)", "--candidate", "fitted=fit", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)  // no progress lines when not on a terminal
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let plan = try #require(json["timeFolds"] as? [String: Any])
        let folds = try #require(plan["folds"] as? [[String: Any]])
        #expect(folds.count == 3)
        for f in folds {
            let start = try #require(f["testStart"] as? String), last = try #require(f["trainLastSnapshot"] as? String)
            #expect(last < start)  // ISO dates compare as text; the embargo itself is tested on the folds
            let test = try #require(f["test"] as? [String: Any])
            #expect((test["customers"] as? Int ?? 0) > 0 && (test["rows"] as? Int ?? 0) > 0)
        }
        let comparison = try #require(json["comparison"] as? [String: Any])
        let candidates = try #require(comparison["candidates"] as? [[String: Any]])
        #expect(candidates.map { $0["name"] as? String } == ["current", "fitted"])
    }

    @Test func compareTableAndCSV() throws {
        let dir = Fixtures.temporaryDirectory()
        let csv = dir.appendingPathComponent("cmp.csv").path
        let r = try CLI.run(["compare", Self.history] + Self.roles + ["--folds", "3", "--candidate", "current=\(Self.card)",
                            "--candidate", "fitted=fit", "--csv", csv])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("3-fold cross-validation") && r.stdout.contains("grouped by 'customer_id'"))
        #expect(r.stdout.contains("AUC [95% CI]") && r.stdout.contains("(paired DeLong)"))
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3 && rows[0].hasPrefix("candidate,spec,rows,auc"))
    }

    @Test func evaluateAScorecardNeedsATarget() throws {
        let r = try CLI.run(["evaluate", Self.card, Self.history])
        #expect(r.status != 0 && r.stderr.contains("--target") && r.stderr.split(separator: "\n").count == 1)
        let ok = try CLI.run(["evaluate", Self.card, Self.history, "--target", "churned_next_month"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("in-sample") && ok.stdout.contains("Lift by decile"))
    }

    @Test(arguments: [
        (["compare", "DATA", "--target", "churned_next_month"], "--candidate"),
        (["compare", "DATA", "--target", "churned_next_month", "--candidate", "x"], "NAME=SPEC"),
        (["compare", "DATA", "--target", "churned_next_month", "--horizon", "1m", "--candidate", "a=fit"], "--time"),
        (["backtest", "DATA", "--target", "churned_next_month", "--time", "snapshot_date", "--horizon", "1q"], "horizon"),
        (["compare", "DATA", "--target", "churned_next_month", "--candidate", "a=fit", "--candidate", "a=fit"], "differ"),
        (["compare", "DATA", "--target", "churned_next_month", "--candidate", "a=fit", "--bands", "80,20"], "--bands"),
    ] as [([String], String)])
    func badRequestsAreOneLine(_ args: [String], _ mention: String) throws {
        let r = try CLI.run(args.map { $0 == "DATA" ? Self.history : $0 })
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(mention), "\(r.stderr)")
    }
}
