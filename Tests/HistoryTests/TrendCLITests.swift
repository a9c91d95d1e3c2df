import Foundation
import History
import ScoringCore
import TestSupport
import Testing

/// `healthscore score --db --as-of` and `healthscore trend`, run as a user would.
@Suite struct TrendCLITests {
    /// A metric group has no input column of its own: recording its customers' cells once trapped
    /// (the new-user trial of session 11). Its cells are recorded as missing values, and trend runs.
    @Test func aModelWithAMetricGroupIsRecordedAndTrended() throws {
        let f = try HistoryFixture.get()
        let dir = Fixtures.temporaryDirectory()
        let config = dir.appendingPathComponent("grouped.yaml").path
        try """
        target: churned_next_month
        id: customer_id
        time: snapshot_date
        missing: impute
        metrics:
          logins: {healthier_when: higher, group: usage}
          active_days: {healthier_when: higher, group: usage}
          support_tickets: {healthier_when: lower}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let model = dir.appendingPathComponent("grouped.json").path
        let fit = try CLI.run(["fit", Fixtures.dataset("simulated_history.csv"), "--config", config, "--quiet", "--out", model])
        #expect(fit.status == 0, "\(fit.stderr)")
        let db = dir.appendingPathComponent("health.sqlite").path
        for (date, file) in [("2023-11-30", f.snapshots[HistoryFixture.november]!), ("2023-12-31", f.snapshots[HistoryFixture.december]!)] {
            let r = try CLI.run(["score", model, file, "--reasons", "3", "--db", db, "--as-of", date, "--out", dir.appendingPathComponent("\(date).csv").path])
            #expect(r.status == 0 && r.stderr.contains("Recorded the run as of \(date)"), "\(r.stderr)")
        }
        let trend = try CLI.run(["trend", "--db", db])
        #expect(trend.status == 0 && trend.stdout.contains("usage"), "\(trend.stdout)\n\(trend.stderr)")
    }

    @Test func scoreRecordsRunsAndTrendReportsThem() throws {
        let f = try HistoryFixture.get()
        let dir = Fixtures.temporaryDirectory()
        let db = dir.appendingPathComponent("health.sqlite").path
        let nov = f.snapshots[HistoryFixture.november]!, dec = f.snapshots[HistoryFixture.december]!
        let novRows = try String(contentsOfFile: nov, encoding: .utf8).split(separator: "\n").count - 1
        let decRows = try String(contentsOfFile: dec, encoding: .utf8).split(separator: "\n").count - 1

        let out = dir.appendingPathComponent("nov-scores.csv").path
        let first = try CLI.run(["score", f.modelPath, nov, "--db", db, "--as-of", "2023-11-30", "--revenue", "acv", "--late", "days_late", "--out", out])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("Recorded the run as of 2023-11-30") && first.stderr.contains("\(novRows) customers"))
        // The CSV is written as without --db.
        let csv = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "customer_id,snapshot_date,churn_probability,health_score,band,reason_1,reason_2,reason_3,status,problem")
        #expect(csv.count == novRows + 1)

        // Rerunning the date replaces the run: one copy of every row.
        let again = try CLI.run(["score", f.modelPath, nov, "--db", db, "--as-of", "2023-11-30", "--revenue", "acv", "--late", "days_late", "--out", out])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("replaced the earlier run of \(novRows) customers"))
        let second = try CLI.run(["score", f.modelPath, dec, "--db", db, "--as-of", "2023-12-31", "--revenue", "acv", "--late", "days_late"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.split(separator: "\n").count == decRows + 1, "scores still go to standard output")

        let history = try HistoryDatabase(path: db, readOnly: true)
        #expect(try history.runs().map(\.asOf) == ["2023-11-30", "2023-12-31"])
        #expect(try history.scoreCount() == novRows + decRows)
        #expect(try history.run(asOf: "2023-12-31")?.revenueColumn == "acv")
        let library = try history.trend()

        // JSON: the same lists the library computes.
        let json = try CLI.run(["trend", "--db", db, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let worsened = try #require(object["worsened"] as? [[String: Any]])
        #expect(worsened.compactMap { $0["customerID"] as? String } == library.worsened.map(\.customerID))
        #expect(!worsened.isEmpty)
        #expect((object["advocates"] as? [[String: Any]])?.count == min(10, library.advocatesTotal))
        #expect((object["upsell"] as? [[String: Any]])?.count == library.upsell.count)
        #expect((object["lateInvoices"] as? [[String: Any]])?.count == library.lateInvoices?.count)
        let forecast = try #require(object["forecast"] as? [String: Any])
        #expect(abs((forecast["expectedChurned"] as? Double ?? 0) - library.forecast.expectedChurned) < 1e-9)
        let intervals = try #require(forecast["intervals"] as? [[String: Any]])
        #expect(intervals.count == 2 && intervals[0]["level"] as? Double == 0.9)
        #expect((forecast["revenue"] as? [String: Any])?["expected"] != nil)
        #expect((object["latest"] as? [String: Any])?["asOf"] as? String == "2023-12-31")

        // Text: a section per list.
        let text = try CLI.run(["trend", "--db", db, "--top", "5", "--drop", "15"])
        #expect(text.status == 0, "\(text.stderr)")
        for heading in ["healthscore trend: 2023-12-31 against 2023-11-30", "Worsened (", "Advocates (top 5 of", "Upsell candidates (",
                        "Late invoices (", "Renewal forecast: \(decRows) customers", "90% interval:", "95% interval:",
                        "Method: exact Poisson-binomial", "Revenue at risk (acv):"] {
            #expect(text.stdout.contains(heading), "missing '\(heading)'")
        }
        let firstWorsened = try #require(try history.trend(options: .init(drop: 15, top: 5)).worsened.first)
        #expect(text.stdout.contains(firstWorsened.customerID))

        // Explicit dates.
        let explicit = try CLI.run(["trend", "--db", db, "--as-of", "2023-12-31", "--previous", "2023-11-30", "--json"])
        #expect(explicit.status == 0 && explicit.stdout == json.stdout)
    }

    /// Rows the model cannot score are kept as unscored customers of the run, with their problem:
    /// trend counts them, does not call them gone, and says why they are on no list.
    @Test func unscoredRowsAreKeptWithTheirProblem() throws {
        let f = try HistoryFixture.get()
        let dir = Fixtures.temporaryDirectory()
        let db = dir.appendingPathComponent("health.sqlite").path
        let nov = f.snapshots[HistoryFixture.november]!
        // December with two customers' cells spoiled: a category the model never saw, a word for a number.
        let lines = try String(contentsOfFile: f.snapshots[HistoryFixture.december]!, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let plan = header.firstIndex(of: "plan")!, logins = header.firstIndex(of: "logins")!
        var spoiled = lines
        var cells1 = spoiled[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells1[plan] = "platinum"
        spoiled[1] = cells1.joined(separator: ",")
        var cells2 = spoiled[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells2[logins] = "lots"
        spoiled[2] = cells2.joined(separator: ",")
        let dec = dir.appendingPathComponent("dec.csv").path
        try Data((spoiled.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dec))
        #expect(try CLI.run(["score", f.modelPath, nov, "--db", db, "--as-of", "2023-11-30", "--out", dir.appendingPathComponent("a.csv").path]).status == 0)
        let run = try CLI.run(["score", f.modelPath, dec, "--db", db, "--as-of", "2023-12-31", "--out", dir.appendingPathComponent("b.csv").path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("\(lines.count - 3) customers and 2 unscored (with their problem)"), "\(run.stderr)")
        let history = try HistoryDatabase(path: db, readOnly: true)
        let id1 = String(cells1[0]), id2 = String(cells2[0])
        #expect(try history.unscored(asOf: "2023-12-31") == [UnscoredRecord(customerID: id1, problem: "plan unseen level 'platinum'"),
                                                              UnscoredRecord(customerID: id2, problem: "logins 'lots' not a number")]
            .sorted { $0.customerID < $1.customerID })
        let report = try history.trend()
        let previous = Set(try history.scores(asOf: "2023-11-30").map(\.customerID))
        let latest = Set(try history.scores(asOf: "2023-12-31").map(\.customerID))
        #expect(report.customers.unscored == 2)
        #expect(report.customers.gone == previous.subtracting(latest).subtracting([id1, id2]).count)
        #expect(report.notes.contains { $0.hasPrefix("2 customers of the latest run could not be scored") })
        let text = try CLI.run(["trend", "--db", db])
        #expect(text.stdout.contains("gone, 2 unscored."), "\(text.stdout.prefix(400))")
    }

    @Test func aDuplicateIdFailsTheRunAndRecordsNothing() throws {
        let f = try HistoryFixture.get()
        let dir = Fixtures.temporaryDirectory()
        let db = dir.appendingPathComponent("health.sqlite").path
        let nov = f.snapshots[HistoryFixture.november]!
        #expect(try CLI.run(["score", f.modelPath, nov, "--db", db, "--as-of", "2023-11-30"]).status == 0)

        // Both snapshots in one file: every customer of both months twice.
        let both = dir.appendingPathComponent("both.csv").path
        let a = try String(contentsOfFile: nov, encoding: .utf8)
        let b = try String(contentsOfFile: f.snapshots[HistoryFixture.december]!, encoding: .utf8)
        try Data((a + b.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: both))
        let r = try CLI.run(["score", f.modelPath, both, "--db", db, "--as-of", "2023-11-30"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty, "no CSV for a run that was not recorded")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(r.stderr.contains("occurs 2 times (lines ") && r.stderr.contains("Fix:") && r.stderr.contains("2 snapshots of 'snapshot_date'"))
        let history = try HistoryDatabase(path: db, readOnly: true)
        let novRows = a.split(separator: "\n").count - 1
        #expect(try history.scoreCount() == novRows && history.runs().count == 1)
        let run = try #require(try history.run(asOf: "2023-11-30"))
        #expect(run.dataFile == nov && run.rowCount == novRows, "the earlier run is intact")
    }

    @Test func usageAndDatabaseErrorsAreOneLineWithAFix() throws {
        let f = try HistoryFixture.get()
        let dir = Fixtures.temporaryDirectory()
        let db = dir.appendingPathComponent("health.sqlite").path
        let nov = f.snapshots[HistoryFixture.november]!

        func expectOneLineError(_ args: [String], _ text: String) throws {
            let r = try CLI.run(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("Fix:"), "\(r.stderr)")
            #expect(r.stderr.contains(text), "\(r.stderr)")
        }
        try expectOneLineError(["trend", "--db", db], "no such score history")
        try expectOneLineError(["score", f.modelPath, nov, "--db", db, "--as-of", "2023-02-29"], "not a calendar date")
        try expectOneLineError(["score", f.modelPath, nov, "--db", db], "--db needs --as-of")
        try expectOneLineError(["score", f.modelPath, nov, "--as-of", "2023-11-30"], "--as-of needs --db")
        try expectOneLineError(["score", f.modelPath, nov, "--db", db, "--as-of", "2023-11-30", "--revenue", "arr"], "no column 'arr' for --revenue")
        let recorded = FileManager.default.fileExists(atPath: db) ? try HistoryDatabase(path: db, readOnly: true).runs().count : 0
        #expect(recorded == 0, "failed runs record nothing")
        #expect(try CLI.run(["score", f.modelPath, nov, "--db", db, "--as-of", "2023-11-30"]).status == 0)
        try expectOneLineError(["trend", "--db", db], "one run (2023-11-30)")
        #expect(try CLI.run(["score", f.modelPath, f.snapshots[HistoryFixture.december]!, "--db", db, "--as-of", "2023-12-31"]).status == 0)
        try expectOneLineError(["trend", "--db", db, "--as-of", "2024-01-31"], "no run as of 2024-01-31 (runs: 2023-11-30, 2023-12-31)")
        try expectOneLineError(["trend", "--db", db, "--previous", "2023-12-31"], "is not before")
        try expectOneLineError(["trend", "--db", db, "--as-of", "2024-1-31"], "not a calendar date")
        // Without a revenue or late column the sections say how to get them.
        let r = try CLI.run(["trend", "--db", db])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Late invoices: no late column stored") && r.stdout.contains("Revenue at risk: no revenue column stored"))
    }
}

/// `trend`'s default threshold follows the model's scale: 3 × the median absolute change of the
/// customers in both runs whose score moved, stated in the header; the text prints `--top` rows a list and counts the rest.
@Suite struct TrendScaleTests {
    @Test(arguments: ["probability", "points"])
    func defaultDropFollowsTheScaleAndListsAreCut(scale: String) throws {
        let f = try HistoryFixture.get()
        let dir = Fixtures.temporaryDirectory()
        let model = dir.appendingPathComponent("m.json").path
        let fit = try CLI.run(["fit", Fixtures.dataset("simulated_history.csv"), "--target", "churned_next_month", "--id", "customer_id",
                               "--time", "snapshot_date", "--missing", "impute", "--scale", scale, "--quiet", "--out", model])
        #expect(fit.status == 0, "\(fit.stderr)")
        let db = dir.appendingPathComponent("h.sqlite").path
        for (date, asOf) in [(HistoryFixture.november, "2023-11-30"), (HistoryFixture.december, "2023-12-31")] {
            let r = try CLI.run(["score", model, f.snapshots[date]!, "--db", db, "--as-of", asOf, "--out", dir.appendingPathComponent("s-\(asOf).csv").path])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let history = try HistoryDatabase(path: db, readOnly: true)
        let report = try history.trend(options: .init(top: 4))
        // The threshold is 3 × the median |change|, to three significant digits.
        let before = try history.scores(asOf: "2023-11-30"), after = try history.scores(asOf: "2023-12-31")
        let old = Dictionary(uniqueKeysWithValues: before.map { ($0.customerID, $0.healthScore) })
        let changes = after.compactMap { s in old[s.customerID].map { abs(s.healthScore - $0) } }.filter { $0 > 0 }.sorted()
        let median = (changes[(changes.count - 1) / 2] + changes[changes.count / 2]) / 2
        #expect(abs(report.drop - 3 * median) <= 0.005 * 3 * median, "\(scale): drop \(report.drop), median change \(median)")
        #expect(report.dropRule.contains("3 × the median absolute change"))
        // A share of the customers, not 40% of them, on either scale.
        let matched = Double(report.customers.matched)
        #expect(Double(report.worsened.count) < 0.25 * matched, "\(scale): \(report.worsened.count) of \(Int(matched)) worsened")
        #expect(report.worsened.count > 4)

        let text = try CLI.run(["trend", "--db", db, "--top", "4"])
        #expect(text.status == 0, "\(text.stderr)")
        let worsened = text.stdout.components(separatedBy: "\nWorsened (")[1].components(separatedBy: "\n\n")[0]
        #expect(worsened.contains("the score fell by more than \(TrendReportText.number(report.drop)) points (3 × the median absolute change"), "\(worsened)")
        let rows = worsened.split(separator: "\n").dropFirst(2).filter { !$0.contains("… and") }
        #expect(rows.count == 4, "\(worsened)")
        #expect(worsened.contains("… and \(report.worsened.count - 4) more (--top N prints more; --json lists all)"))
        // What changed: each printed row names its largest move as "metric before → now ±points".
        #expect(worsened.contains("what changed since 2023-11-30 (points)") && worsened.contains("top reasons now (vs the average customer)"))
        for (row, entry) in zip(rows, report.worsened) {
            let first = try #require(entry.changes?.first, "\(scale): \(entry.customerID) has no change")
            #expect(first.points < 0)
            #expect(row.contains("\(first.name) \(first.before) → \(first.now) \(String(format: "%+.1f", first.points))"), "\(row)")
        }
        // An explicit --drop is said as such.
        let explicit = try CLI.run(["trend", "--db", db, "--drop", "12.5", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(explicit.stdout.utf8)) as? [String: Any]
        #expect(object?["drop"] as? Double == 12.5 && object?["dropRule"] as? String == "--drop 12.5")
    }
}

/// Numbers as the trend text writes a threshold.
enum TrendReportText {
    static func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
}

/// When most customers did not move, the threshold comes from those who did: five customers 0.23
/// points down and one 5 points down among a thousand unchanged make one worsened customer, not six.
@Suite struct TrendThresholdTests {
    @Test func unchangedCustomersDoNotMakeEveryFallNews() throws {
        func record(_ i: Int, _ score: Double) -> ScoreRecord {
            ScoreRecord(customerID: String(format: "C%04d", i), churnProbability: 1 - score / 1000, healthScore: score,
                        band: "at_risk", bandRank: 1, reasons: [], revenue: nil, daysLate: nil)
        }
        let before = (0..<1006).map { record($0, 600) }
        var after = before
        for i in 1000..<1005 { after[i] = record(i, 599.77) }
        after[1005] = record(1005, 595)
        func run(_ asOf: String) -> RunInfo {
            RunInfo(asOf: asOf, modelChecksum: "sha256:0", modelFile: "m.json", idColumn: "customer_id", scale: "points",
                    bands: ["healthy", "at_risk", "unhealthy"])
        }
        let report = try TrendReport(latest: run("2024-02-01"), latestScores: after, previous: run("2024-01-01"), previousScores: before)
        #expect(abs(report.drop - 3 * 0.23) < 1e-9, "\(report.drop)")
        #expect(report.worsened.map(\.customerID) == ["C1005"])
        #expect(report.dropRule.contains("whose score moved (0.23 points)"), "\(report.dropRule)")
    }
}
