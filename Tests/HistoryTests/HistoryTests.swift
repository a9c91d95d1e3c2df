import Foundation
import History
import ScoringCore
import Tabular
import TestSupport
import Testing
import Support
import Training

/// A model fitted on the simulated history, and two monthly snapshots of it as CSV files.
struct HistoryFixture: Sendable {
    var model: ModelArtifact
    var dir: URL
    /// Snapshot date → CSV path (the rows of that date only, plus an `acv` revenue column).
    var snapshots: [String: String]
    var modelPath: String

    static let november = "2023-11-01"
    static let december = "2023-12-01"

    /// Fitted once for the whole suite.
    static let shared: Result<HistoryFixture, Error> = Result { try HistoryFixture() }
    static func get() throws -> HistoryFixture { try shared.get() }

    init() throws {
        var clock = Timings()
        model = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: .impute)),
                                    .file(Fixtures.dataset("simulated_history.csv")), timings: &clock).model
        dir = Fixtures.temporaryDirectory()
        modelPath = dir.appendingPathComponent("model.json").path
        try model.encoded().write(to: URL(fileURLWithPath: modelPath))
        let text = try String(contentsOfFile: Fixtures.dataset("simulated_history.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = lines.removeFirst()
        #expect(!text.contains("\""), "the filter below splits on commas")
        snapshots = [:]
        for date in [Self.november, Self.december] {
            var csv = header + ",acv\n"
            for line in lines where line.split(separator: ",", omittingEmptySubsequences: false)[1] == date {
                csv += line + "," + Self.acv(line) + "\n"
            }
            let path = dir.appendingPathComponent("snapshot-\(date).csv").path
            try Data(csv.utf8).write(to: URL(fileURLWithPath: path))
            snapshots[date] = path
        }
    }

    /// A made-up annual contract value from the customer number; empty for every 97th customer.
    static func acv(_ line: String) -> String {
        let id = line.split(separator: ",")[0]
        let number = Int(id.dropFirst()) ?? 0
        return number % 97 == 0 ? "" : String(6000 + (number * 7919 % 41) * 1500)
    }

    /// Scores one snapshot exactly as the score command does, as history records.
    func records(_ date: String, revenue: Bool = true, late: Bool = true) throws -> (records: [ScoreRecord], explained: [Explanation]) {
        let (table, columns) = try ScoringInput.read(path: snapshots[date]!, model: model)
        let explained = try Scorer(model: model).explain(rowCount: table.rowCount, columns: columns, reasons: 3)
        let idColumn = try #require(table.column(named: "customer_id"))
        let ids = (0..<table.rowCount).map { idColumn.text(at: $0)! }
        func numbers(_ name: String) -> [Double?] {
            let c = table.column(named: name)!
            return (0..<table.rowCount).map { c.text(at: $0).flatMap { Double($0) } }
        }
        // Every level of the data is one of the model's, so the run's metric list needs no new level.
        var recorder: MetricRecorder? = MetricRecorder(metrics: RunInfo.metrics(of: model))
        let scorer = Scorer(model: model)
        let parts = try scorer.plan.score(scorer.planColumns(columns), rowCount: table.rowCount, contributions: true,
                                          contributionsInLogOdds: true)
        let p = scorer.plan.featureCount
        let recs = ScoreRecord.from(explained, ids: ids, bands: model.scoring?.bands.map(\.label) ?? [],
                                    revenue: revenue ? numbers("acv") : nil, daysLate: late ? numbers("days_late") : nil,
                                    recorder: &recorder,
                                    logOdds: (0..<table.rowCount).map { i in Array(parts.contributions[i * p..<(i + 1) * p]) })
        #expect(recorder?.metrics == RunInfo.metrics(of: model))
        return (recs, explained)
    }

    func run(_ date: String, revenue: Bool = true, late: Bool = true) throws -> RunInfo {
        try RunInfo(asOf: date, model: model, modelFile: modelPath, dataFile: snapshots[date],
                    revenueColumn: revenue ? "acv" : nil, lateColumn: late ? "days_late" : nil)
    }

    func freshDatabasePath() -> String {
        Fixtures.temporaryDirectory().appendingPathComponent("history.sqlite").path
    }
}

@Suite struct HistoryDatabaseTests {
    @Test func worsenedCustomersAreExactlyThoseComputedIndependently() throws {
        let f = try HistoryFixture.get()
        let bands = try #require(f.model.scoring?.bands.map(\.label))
        #expect(bands.count == 3)
        let db = try HistoryDatabase(path: f.freshDatabasePath())
        let nov = try f.records(HistoryFixture.november), dec = try f.records(HistoryFixture.december)
        try db.record(try f.run(HistoryFixture.november), scores: nov.records)
        try db.record(try f.run(HistoryFixture.december), scores: dec.records)

        // Independently: from the scorer's own output, band rank = position of the label in the
        // model's bands (best first).
        func scores(_ date: String, _ e: [Explanation]) throws -> [String: Score] {
            let (table, _) = try ScoringInput.read(path: f.snapshots[date]!, model: f.model)
            let ids = table.column(named: "customer_id")!
            var out: [String: Score] = [:]
            for (i, x) in e.enumerated() { out[ids.text(at: i)!] = x.score }
            return out
        }
        let before = try scores(HistoryFixture.november, nov.explained)
        let after = try scores(HistoryFixture.december, dec.explained)
        func rank(_ s: Score) -> Int { bands.firstIndex(of: s.band!)! }
        // A band crossing counts with a fall of more than the median absolute change.
        let moves = after.keys.compactMap { id in before[id].map { abs(after[id]!.healthScore - $0.healthScore) } }.sorted()
        let typical = (moves[(moves.count - 1) / 2] + moves[moves.count / 2]) / 2
        let bandWorse = Set(after.keys.filter { id in
            before[id].map { rank(after[id]!) > rank($0) && $0.healthScore - after[id]!.healthScore > typical } ?? false
        })
        let fellTen = Set(after.keys.filter { id in before[id].map { $0.healthScore - after[id]!.healthScore > 10 } ?? false })
        #expect(!bandWorse.isEmpty && !fellTen.subtracting(bandWorse).isEmpty, "the snapshots exercise both rules")

        let bandOnly = try db.trend(options: .init(drop: .infinity))
        #expect(bandOnly.latest.asOf == HistoryFixture.december && bandOnly.previous.asOf == HistoryFixture.november)
        #expect(Set(bandOnly.worsened.map(\.customerID)) == bandWorse)
        #expect(bandOnly.worsened.count == bandWorse.count, "no customer twice")

        let report = try db.trend(options: .init(drop: 10))
        #expect(Set(report.worsened.map(\.customerID)) == bandWorse.union(fellTen))
        // Old and new score and band are the two runs' values; worst first.
        for e in report.worsened {
            #expect(e.previousScore == before[e.customerID]!.healthScore && e.score == after[e.customerID]!.healthScore)
            #expect(e.previousBand == before[e.customerID]!.band && e.band == after[e.customerID]!.band)
            #expect(e.reasons.map(\.metric) == dec.records.first { $0.customerID == e.customerID }!.reasons.map(\.metric))
        }
        for (a, b) in zip(report.worsened, report.worsened.dropFirst()) {
            #expect(a.change! < b.change! || (a.change! == b.change! && a.score <= b.score))
        }
        for e in report.worsened where e.bandsWorsened! <= 0 { #expect(-e.change! > 10) }
        for e in report.worsened { #expect(-e.change! > min(typical, 10)) }
        // Counts.
        let both = Set(after.keys).intersection(before.keys)
        let expected = TrendReport.Counts(latest: after.count, previous: before.count, matched: both.count,
                                          new: after.count - both.count, gone: before.count - both.count)
        #expect(report.customers == expected)
        #expect(report.sameModel)
    }

    @Test func advocateUpsellAndLateListsFollowTheirRules() throws {
        let f = try HistoryFixture.get()
        let db = try HistoryDatabase(path: f.freshDatabasePath())
        let nov = try f.records(HistoryFixture.november).records, dec = try f.records(HistoryFixture.december).records
        try db.record(try f.run(HistoryFixture.november), scores: nov)
        try db.record(try f.run(HistoryFixture.december), scores: dec)
        let report = try db.trend(options: .init(drop: 10, top: 15))
        let before = Dictionary(uniqueKeysWithValues: nov.map { ($0.customerID, $0) })
        let worsened = Set(report.worsened.map(\.customerID))
        let late: (ScoreRecord) -> Bool = { ($0.daysLate ?? 0) > 0 }

        let advocates = dec.filter { $0.bandRank == 0 && !worsened.contains($0.customerID) && !late($0) }
            .sorted { $0.healthScore != $1.healthScore ? $0.healthScore > $1.healthScore : $0.customerID < $1.customerID }
        #expect(report.advocatesTotal == advocates.count)
        #expect(report.advocates.map(\.customerID) == advocates.prefix(15).map(\.customerID))

        let upsell = dec.filter { s in
            guard let old = before[s.customerID] else { return false }
            return s.bandRank == 0 && s.healthScore > old.healthScore && !late(s)
        }
        #expect(report.upsellTotal == upsell.count && report.upsell.count == min(15, upsell.count))
        let rises = report.upsell.map { $0.change! }
        #expect(rises == rises.sorted(by: >))
        #expect(Set(report.upsell.map(\.customerID)).isSubset(of: Set(upsell.map(\.customerID))))
        #expect(report.upsell.first?.change == upsell.map { $0.healthScore - before[$0.customerID]!.healthScore }.max())

        let lateList = try #require(report.lateInvoices)
        #expect(Set(lateList.map(\.customerID)) == Set(dec.filter(late).map(\.customerID)))
        #expect(!lateList.isEmpty)
        let days = lateList.map { $0.daysLate! }
        #expect(days == days.sorted(by: >))

        // The forecast is over the latest run.
        let p = dec.map(\.churnProbability)
        #expect(abs(report.forecast.expectedChurned - p.reduce(0, +)) < 1e-9)
        #expect(report.forecast.customers == dec.count)
        let revenue = try #require(report.forecast.revenue)
        #expect(revenue.customersWithoutRevenue == dec.filter { $0.revenue == nil }.count && revenue.customersWithoutRevenue > 0)
        let atRisk = dec.reduce(0.0) { $0 + $1.churnProbability * ($1.revenue ?? 0) }
        #expect(relativeError(revenue.expected, atRisk) < 1e-12)

        // Without a late column there is no late list, and late payers may be advocates.
        let db2 = try HistoryDatabase(path: f.freshDatabasePath())
        try db2.record(try f.run(HistoryFixture.november, late: false), scores: try f.records(HistoryFixture.november, late: false).records)
        try db2.record(try f.run(HistoryFixture.december, late: false), scores: try f.records(HistoryFixture.december, late: false).records)
        let noLate = try db2.trend(options: .init(drop: 10, top: 15))
        #expect(noLate.lateInvoices == nil)
        #expect(noLate.advocatesTotal == dec.filter { $0.bandRank == 0 && !worsened.contains($0.customerID) }.count)
    }

    @Test func rerunningTheSameDateLeavesExactlyOneCopyOfEveryRow() throws {
        let f = try HistoryFixture.get()
        let path = f.freshDatabasePath()
        let db = try HistoryDatabase(path: path)
        let nov = try f.records(HistoryFixture.november).records
        let dec = try f.records(HistoryFixture.december).records
        let first = try db.record(try f.run(HistoryFixture.november), scores: nov)
        #expect(first.replacedRows == nil && first.rows == nov.count)
        try db.record(try f.run(HistoryFixture.december), scores: dec)
        let second = try db.record(try f.run(HistoryFixture.november), scores: nov)
        #expect(second.replacedRows == nov.count)

        #expect(try db.runs().map(\.asOf) == [HistoryFixture.november, HistoryFixture.december])
        #expect(try db.scoreCount() == nov.count + dec.count)
        #expect(try db.scoreCount(asOf: HistoryFixture.november) == nov.count)
        // Content: every record comes back as written (doubles are stored exactly).
        let stored = try db.scores(asOf: HistoryFixture.november)
        #expect(stored == nov.sorted { $0.customerID < $1.customerID })
        #expect(try db.scores(asOf: HistoryFixture.december) == dec.sorted { $0.customerID < $1.customerID })
        for s in stored where s.band != nil { #expect(f.model.scoring!.bands[s.bandRank!].label == s.band) }

        // A changed rerun replaces the content, still one copy per customer.
        var changed = nov
        changed.removeLast(10)
        for i in changed.indices { changed[i].revenue = 1 }
        try db.record(try f.run(HistoryFixture.november), scores: changed)
        #expect(try db.scoreCount(asOf: HistoryFixture.november) == nov.count - 10)
        #expect(try db.scores(asOf: HistoryFixture.november).allSatisfy { $0.revenue == 1 })
        #expect(try db.run(asOf: HistoryFixture.november)?.rowCount == nov.count - 10)
        #expect(try db.scoreCount(asOf: HistoryFixture.december) == dec.count)

        // A second connection (another process) sees the same.
        let reader = try HistoryDatabase(path: path, readOnly: true)
        #expect(try reader.scoreCount() == nov.count - 10 + dec.count)
    }

    @Test func aFailureMidRunLeavesTheDatabaseUnchanged() throws {
        let f = try HistoryFixture.get()
        let db = try HistoryDatabase(path: f.freshDatabasePath())
        let nov = try f.records(HistoryFixture.november).records
        try db.record(try f.run(HistoryFixture.november), scores: nov)
        let runsBefore = try db.runs()
        let scoresBefore = try db.scores(asOf: HistoryFixture.november)

        // Replacing the run with a batch whose last row repeats the first customer: the old run was
        // deleted and every other row inserted before the failure, all rolled back.
        var duplicated = try f.records(HistoryFixture.november, revenue: false).records
        duplicated.append(duplicated[0])
        let error = try #require(throws: HistoryError.self) {
            try db.record(try f.run(HistoryFixture.november, revenue: false), scores: duplicated)
        }
        #expect(error.duplicate == .init(customerID: duplicated[0].customerID, rows: [1, duplicated.count]))
        #expect(error.description.contains("'\(duplicated[0].customerID)' occurs 2 times"))
        #expect(error.description.contains("rows 1, \(duplicated.count)") && error.description.contains("Fix:"))
        #expect(try db.runs() == runsBefore)
        #expect(try db.scores(asOf: HistoryFixture.november) == scoresBefore)

        // A new date that fails: no trace of it.
        #expect(throws: HistoryError.self) {
            try db.record(try f.run(HistoryFixture.december), scores: duplicated)
        }
        #expect(try db.runs() == runsBefore)
        #expect(try db.scoreCount() == nov.count)

        // A score SQLite refuses (NaN is stored as NULL) in the middle of a run.
        var broken = try f.records(HistoryFixture.december).records
        broken[broken.count / 2].churnProbability = .nan
        let nan = try #require(throws: HistoryError.self) {
            try db.record(try f.run(HistoryFixture.december), scores: broken)
        }
        #expect(nan.duplicate == nil && nan.description.contains("row \(broken.count / 2 + 1)"))
        #expect(try db.runs() == runsBefore)
        #expect(try db.scoreCount() == nov.count)

        // And the database still takes a good run afterwards.
        try db.record(try f.run(HistoryFixture.december), scores: try f.records(HistoryFixture.december).records)
        #expect(try db.runs().count == 2)
    }

    @Test func trendErrorsSayWhatIsWrongAndTheFix() throws {
        let f = try HistoryFixture.get()
        let path = f.freshDatabasePath()
        let missing = try #require(throws: HistoryError.self) { try HistoryDatabase(path: path, readOnly: true) }
        #expect(missing.description.contains("no such score history") && missing.description.contains("Fix:"))

        let db = try HistoryDatabase(path: path)
        try db.record(try f.run(HistoryFixture.november), scores: try f.records(HistoryFixture.november).records)
        let one = try #require(throws: HistoryError.self) { try db.trend() }
        #expect(one.description.contains("one run (2023-11-01)") && one.description.contains("Fix:"))

        try db.record(try f.run(HistoryFixture.december), scores: try f.records(HistoryFixture.december).records)
        let unknown = try #require(throws: HistoryError.self) { try db.trend(asOf: "2023-12-31") }
        #expect(unknown.description.contains("no run as of 2023-12-31 (runs: 2023-11-01, 2023-12-01)"))
        #expect(throws: HistoryError.self) { try db.trend(asOf: "2023-11-01") }  // nothing before it
        #expect(throws: HistoryError.self) { try db.trend(asOf: "2023-11-01", previous: "2023-12-01") }
        #expect(throws: HistoryError.self) { try db.trend(asOf: "2023-13-01") }
        #expect(try db.trend(asOf: "2023-12-01", previous: "2023-11-01").previous.asOf == "2023-11-01")

        // Not a score history.
        let text = Fixtures.temporaryDirectory().appendingPathComponent("notes.sqlite").path
        try Data(String(repeating: "not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: text))
        let notDB = try #require(throws: HistoryError.self) { try HistoryDatabase(path: text, readOnly: true) }
        #expect(notDB.description.contains("Fix:"))
    }

    @Test func datesAreValidatedAsCalendarDates() {
        for good in ["2024-01-31", "2024-02-29", "2000-02-29", "1999-12-01"] { #expect(HistoryDate.isValid(good), "\(good)") }
        for bad in ["2024-1-31", "2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "20240131", "2024/01/31", "", "2024-01-3a"] {
            #expect(!HistoryDate.isValid(bad), "\(bad)")
        }
    }

    @Test func modelWithoutAnIdColumnIsRefused() throws {
        var model = try HistoryFixture.get().model
        model.schema.id = nil
        let e = try #require(throws: HistoryError.self) {
            try RunInfo(asOf: "2024-01-31", model: model, modelFile: "m.json", dataFile: nil)
        }
        #expect(e.description.contains("--id"))
    }

    /// "What changed": per worsened or upsell customer, the metrics whose points moved most since the
    /// previous run, in the direction of the change, recomputed here from the two runs' explanations.
    @Test func whatChangedListsTheMetricsThatMovedTheScore() throws {
        let f = try HistoryFixture.get()
        let db = try HistoryDatabase(path: f.freshDatabasePath())
        let nov = try f.records(HistoryFixture.november), dec = try f.records(HistoryFixture.december)
        try db.record(try f.run(HistoryFixture.november), scores: nov.records)
        try db.record(try f.run(HistoryFixture.december), scores: dec.records)
        let report = try db.trend()
        #expect(!report.notes.contains { $0.contains("per-metric points") })
        func explained(_ r: (records: [ScoreRecord], explained: [Explanation])) -> [String: Explanation] {
            Dictionary(uniqueKeysWithValues: zip(r.records.map(\.customerID), r.explained))
        }
        let before = explained(nov), after = explained(dec)
        let oldParts = Dictionary(uniqueKeysWithValues: nov.records.map { ($0.customerID, $0.metricCells) })
        let newParts = Dictionary(uniqueKeysWithValues: dec.records.map { ($0.customerID, $0.metricCells) })
        var checked = 0
        for (list, worse) in [(report.worsened, true), (report.upsell, false)] {
            for e in list {
                let old = before[e.customerID]!.contributions, now = after[e.customerID]!.contributions
                let o = oldParts[e.customerID]!, n = newParts[e.customerID]!
                // Log-odds moves (as stored, 32-bit), scaled so they add up to the score change.
                let d = (0..<now.count).map { Double(n[2 * $0]) - Double(o[2 * $0]) }
                let ratio = (after[e.customerID]!.score.healthScore - before[e.customerID]!.score.healthScore) / d.reduce(0, +)
                var moves: [(String, Double, String, String)] = []
                for j in now.indices {
                    #expect(now[j].metric == old[j].metric)
                    let points = d[j] * ratio
                    if abs(points) >= 0.05 && (points < 0) == worse { moves.append((now[j].metric, points, old[j].value, now[j].value)) }
                    if old[j].value == now[j].value && now[j].metric != "usage" { #expect(abs(d[j]) < 1e-6, "\(now[j].metric) did not change") }
                }
                moves.sort { abs($0.1) != abs($1.1) ? abs($0.1) > abs($1.1) : $0.0 < $1.0 }
                let want = moves.prefix(TrendReport.changesShown)
                let got = try #require(e.changes)
                #expect(got.map(\.metric) == want.map(\.0))
                #expect(zip(got.map(\.points), want.map(\.1)).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) })
                #expect(got.map(\.before) == want.map(\.2) && got.map(\.now) == want.map(\.3))
                checked += 1
            }
        }
        #expect(checked == report.worsened.count + report.upsell.count && checked > 10)
        // The largest fall is mostly explained by its listed moves (the rest spread over other metrics).
        let worst = try #require(report.worsened.first)
        #expect(worst.changes!.allSatisfy { $0.points < 0 } && !worst.changes!.isEmpty)
    }

    /// A history written before the per-metric points (schema version 1) is read as it is — trend
    /// says why there is no "what changed" — and upgraded in place when the next run is written.
    @Test func aVersionOneHistoryIsReadAndUpgraded() throws {
        let f = try HistoryFixture.get()
        let path = f.freshDatabasePath()
        do {
            let db = try HistoryDatabase(path: path)
            try db.record(try f.run(HistoryFixture.november), scores: try f.records(HistoryFixture.november).records)
        }
        let python = """
        import sqlite3, sys
        con = sqlite3.connect(sys.argv[1])
        con.executescript("ALTER TABLE scores DROP COLUMN metric_points; ALTER TABLE runs DROP COLUMN metrics; PRAGMA user_version = 1;")
        con.close()
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", python, path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        do {
            let db = try HistoryDatabase(path: path)
            try db.record(try f.run(HistoryFixture.december), scores: try f.records(HistoryFixture.december).records)
        }
        let reader = try HistoryDatabase(path: path, readOnly: true)
        let runs = try reader.runs()
        #expect(runs.map { $0.metrics.isEmpty } == [true, false])
        #expect(try reader.scores(asOf: HistoryFixture.november).allSatisfy { $0.metricCells.isEmpty })
        #expect(try reader.scores(asOf: HistoryFixture.december).allSatisfy { $0.metricCells.count == 2 * runs[1].metrics.count })
        let report = try reader.trend()
        #expect(report.notes.contains { $0.contains("the run of \(HistoryFixture.november) was recorded without per-metric points") })
        #expect(report.worsened.allSatisfy { $0.changes == nil })
    }

}

@Suite struct PoissonBinomialTests {
    /// P(X = k) by enumerating all 2ⁿ outcomes.
    static func bruteForce(_ p: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: p.count + 1)
        for mask in 0..<(1 << p.count) {
            var prob = 1.0, k = 0
            for (i, pi) in p.enumerated() {
                if mask & (1 << i) != 0 { prob *= pi; k += 1 } else { prob *= 1 - pi }
            }
            out[k] += prob
        }
        return out
    }

    @Test func dynamicProgrammingMatchesBruteForce() {
        var rng = SeededRandom(seed: 7)
        for n in 0...12 {
            for _ in 0..<5 {
                let p = (0..<n).map { _ in rng.uniform() }
                let dp = PoissonBinomial.pmf(p), brute = Self.bruteForce(p)
                #expect(dp.count == n + 1)
                for k in 0...n { #expect(abs(dp[k] - brute[k]) < 1e-14, "n=\(n) k=\(k)") }
            }
        }
    }

    @Test func handComputedCase() {
        // p = 0.1, 0.2, 0.3: P0 = .9·.8·.7, P1 = .1·.8·.7 + .9·.2·.7 + .9·.8·.3, P2 = .1·.2·.7 + .1·.8·.3 + .9·.2·.3, P3 = .1·.2·.3.
        let f = PoissonBinomial.pmf([0.1, 0.2, 0.3])
        for (got, want) in zip(f, [0.504, 0.398, 0.092, 0.006]) { #expect(abs(got - want) < 1e-15) }
        let d = PoissonBinomial([0.1, 0.2, 0.3])
        #expect(abs(d.mean - 0.6) < 1e-15 && abs(d.variance - (0.09 + 0.16 + 0.21)) < 1e-15)
    }

    @Test func equalProbabilitiesGiveTheBinomial() {
        // Binomial(10, ½): P(X = 5) = 252/1024 exactly.
        #expect(PoissonBinomial.pmf([Double](repeating: 0.5, count: 10))[5] == 252.0 / 1024.0)
        // Binomial(60, 0.3) against C(n, k) from Pascal's triangle times pᵏ(1−p)ⁿ⁻ᵏ.
        let n = 60, p = 0.3
        var row = [1.0]
        for _ in 0..<n { row = (0...row.count).map { k in (k > 0 ? row[k - 1] : 0) + (k < row.count ? row[k] : 0) } }
        let f = PoissonBinomial.pmf([Double](repeating: p, count: n))
        for k in 0...n {
            let want = row[k] * pow(p, Double(k)) * pow(1 - p, Double(n - k))
            #expect(abs(f[k] - want) <= 1e-12 * want, "k=\(k)")
        }
        let d = PoissonBinomial([Double](repeating: p, count: n))
        #expect(abs(d.mean - 18) < 1e-12 && abs(d.variance - 12.6) < 1e-12)
        // Binomial(60, 0.3) (Σ C(60, k)·0.3ᵏ·0.7⁶⁰⁻ᵏ computed separately with Python's math.comb): P(X ≤ 11) = 0.029475,
        // P(X ≤ 12) = 0.056771, P(X ≤ 23) = 0.936762, P(X ≤ 24) = 0.963762, so the 90% interval is 12 to 24.
        let i = d.interval(level: 0.9)
        #expect(i.lower == 12 && i.upper == 24)
        #expect(abs(d.cdf(11) - 0.029475) < 1e-6 && abs(d.cdf(12) - 0.056771) < 1e-6)
        #expect(abs(d.cdf(23) - 0.936762) < 1e-6 && abs(d.cdf(24) - 0.963762) < 1e-6)
        #expect(abs(i.coverage - (0.963762 - 0.029475)) < 2e-6)
    }

    @Test func degenerateProbabilities() {
        let d = PoissonBinomial([0, 1, 1, 0, 1])
        #expect(d.variance == 0 && d.mean == 3)
        #expect(d.interval(level: 0.95) == CountInterval(level: 0.95, lower: 3, upper: 3, coverage: 1))
        let empty = PoissonBinomial([])
        #expect(empty.interval(level: 0.9).lower == 0 && empty.interval(level: 0.9).upper == 0)
    }

    @Test func intervalsCoverAtLeastTheirLevelAndNoMore() {
        var rng = SeededRandom(seed: 11)
        let p = (0..<300).map { _ in 0.02 + 0.4 * rng.uniform() * rng.uniform() }
        let d = PoissonBinomial(p)
        #expect(d.method == .exact)
        for level in [0.9, 0.95] {
            let i = d.interval(level: level)
            let alpha = 1 - level
            // Each tail left out holds at most α/2, and moving either end inwards leaves out more.
            #expect(d.cdf(i.lower - 1) <= alpha / 2 && d.cdf(i.lower) >= alpha / 2)
            #expect(1 - d.cdf(i.upper) <= alpha / 2 + 1e-12 && 1 - d.cdf(i.upper - 1) > alpha / 2)
            #expect(i.coverage >= level - 1e-12 && abs(i.coverage - (d.cdf(i.upper) - d.cdf(i.lower - 1))) < 1e-15)
            #expect(Double(i.lower) < d.mean && d.mean < Double(i.upper))
            // Simulated churn counts fall inside about as often as the coverage says.
            let trials = 20_000
            var inside = 0
            for _ in 0..<trials {
                var k = 0
                for pi in p where rng.uniform() < pi { k += 1 }
                if k >= i.lower && k <= i.upper { inside += 1 }
            }
            let share = Double(inside) / Double(trials)
            let se = (i.coverage * (1 - i.coverage) / Double(trials)).squareRoot()
            #expect(abs(share - i.coverage) < 4 * se, "level \(level): simulated \(share), exact \(i.coverage)")
        }
    }

    @Test func refinedNormalApproximationAgreesWithTheExactDistribution() {
        var rng = SeededRandom(seed: 3)
        let p = (0..<3000).map { _ in pow(rng.uniform(), 3) * 0.6 }  // skewed towards small p
        let exact = PoissonBinomial(p)
        let approx = PoissonBinomial(p, exactLimit: 1000)
        #expect(exact.method == .exact && approx.method == .refinedNormal)
        var worst = 0.0
        for k in 0...3000 { worst = max(worst, abs(exact.cdf(k) - approx.cdf(k))) }
        #expect(worst < 1e-3, "max CDF error \(worst)")
        for level in [0.9, 0.95] {
            let a = approx.interval(level: level), e = exact.interval(level: level)
            #expect(abs(a.lower - e.lower) <= 1 && abs(a.upper - e.upper) <= 1)
        }
        let forecast = ChurnForecast(p.enumerated().map { ScoreRecord(customerID: "c\($0.offset)", churnProbability: $0.element, healthScore: 0) },
                                     exactLimit: 1000)
        #expect(forecast.method.contains("refined normal approximation"))
    }

    @Test func normalQuantileIsAccurate() throws {
        #expect(abs(try SpecialFunctions.normalQuantile(0.95) - 1.6448536269514722) < 1e-12)
        #expect(abs(try SpecialFunctions.normalQuantile(0.975) - 1.959963984540054) < 1e-12)
        #expect(abs(try SpecialFunctions.normalQuantile(0.001) + 3.090232306167813) < 1e-11)
        #expect(try SpecialFunctions.normalQuantile(0.5) == 0)
    }
}

@Suite struct RevenueAtRiskTests {
    @Test func momentsAndSimulatedCoverage() {
        var rng = SeededRandom(seed: 5)
        let n = 400
        let p = (0..<n).map { _ in 0.02 + 0.25 * rng.uniform() }
        let revenue = (0..<n).map { _ in (5000 * exp(0.8 * (rng.uniform() - 0.5) * 3)).rounded() }
        let r = RevenueAtRisk(probabilities: p, revenue: revenue)
        let mean = zip(p, revenue).reduce(0.0) { $0 + $1.0 * $1.1 }
        let variance = zip(p, revenue).reduce(0.0) { $0 + $1.0 * (1 - $1.0) * $1.1 * $1.1 }
        #expect(relativeError(r.expected, mean) < 1e-12 && relativeError(r.standardDeviation, variance.squareRoot()) < 1e-12)
        #expect(r.skewness > 0 && r.warning == nil && r.method.contains("Cornish"))
        #expect(r.totalRevenue == revenue.reduce(0, +))

        let trials = 20_000
        var draws: [Double] = []
        draws.reserveCapacity(trials)
        for _ in 0..<trials {
            var lost = 0.0
            for i in 0..<n where rng.uniform() < p[i] { lost += revenue[i] }
            draws.append(lost)
        }
        for i in r.intervals {
            let inside = Double(draws.filter { $0 >= i.lower && $0 <= i.upper }.count) / Double(trials)
            #expect(abs(inside - i.level) < 0.01, "level \(i.level): simulated coverage \(inside)")
            // Skewed to the right: the upper end is further from the mean than the lower.
            #expect(i.upper - r.expected > r.expected - i.lower)
        }
    }

    @Test func symmetricCaseIsThePlainNormalInterval() {
        let r = RevenueAtRisk(probabilities: [Double](repeating: 0.5, count: 100), revenue: [Double](repeating: 1000, count: 100))
        #expect(r.skewness == 0 && r.expected == 50_000 && r.standardDeviation == 5000)
        let i = r.intervals[0]
        #expect(abs(i.lower - (50_000 - 1.6448536269514722 * 5000)) < 1e-6 && abs(i.upper - (50_000 + 1.6448536269514722 * 5000)) < 1e-6)
    }

    @Test func dominantContractFallsBackToTheNormalIntervalWithAWarning() {
        let r = RevenueAtRisk(probabilities: [0.02, 0.1, 0.1, 0.1], revenue: [1_000_000, 100, 100, 100])
        #expect(r.warning != nil && !r.method.contains("Cornish"))
        #expect(r.intervals.allSatisfy { $0.lower >= 0 && $0.upper <= r.totalRevenue })
    }
}
