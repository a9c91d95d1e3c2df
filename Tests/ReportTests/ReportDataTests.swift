import Foundation
import Support
import Testing
@testable import Report
import ScoringCore
import Tabular
import TestSupport
import Training

/// The report's numbers, recomputed here from the whole file in memory: metric moments, the
/// customers most at risk (rows of a one-snapshot file; each customer once, at their latest
/// snapshot and still a customer, in a history), the band counts of the latest snapshots.
@Suite struct ReportDataTests {
    /// The file in memory: every row scored by the core (nil where it cannot be), with its label text.
    static func scoredRows(_ path: String, model: ModelArtifact) throws -> (table: RawTable, scores: [Score?], labels: [String]) {
        let (table, columns) = try ScoringInput.read(path: path, model: model)
        let scorer = Scorer(model: model)
        let s = try scorer.plan.score(scorer.planColumns(columns), rowCount: table.rowCount)
        let scores = (0..<table.rowCount).map { i -> Score? in
            s.isScored(i) ? Score(churnProbability: s.probability[i], healthScore: s.score[i],
                                  band: s.band[i] >= 0 ? scorer.plan.bandLabels[Int(s.band[i])] : nil) : nil
        }
        var csv = CSVOptions()
        csv.textColumns = [model.schema.target.column]
        let labelled = try CSVReader.read(path: path, options: csv)
        let y = labelled.column(named: model.schema.target.column)!
        return (table, scores, (0..<labelled.rowCount).map { y.text(at: $0) ?? "" })
    }

    @Test func oneSnapshotFileListsTheRowsMostAtRiskAndExactMoments() throws {
        var clock = Timings()
        let path = Fixtures.dataset("mlc_churn.csv")
        let model = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(path), timings: &clock).model
        let data = try ReportData.load(model: model, dataPath: path, atRisk: 25)
        let (table, scores, labels) = try Self.scoredRows(path, model: model)
        #expect(data.customers == nil && data.sample.count == table.rowCount)
        let order = scores.indices.sorted { scores[$0]!.churnProbability != scores[$1]!.churnProbability
            ? scores[$0]!.churnProbability > scores[$1]!.churnProbability : $0 < $1 }.prefix(25)
        #expect(data.atRisk.map(\.id) == order.map { "row \($0 + 1)" })
        #expect(data.atRisk.map(\.churned) == order.map { labels[$0] == "yes" })
        #expect(data.atRisk.map(\.explanation.score) == order.map { scores[$0]! })
        // Streamed moments equal the in-memory ones (Chan's merge vs one pass: a few ulps).
        for name in ["total_day_minutes", "number_customer_service_calls"] {
            guard case .numeric(let v) = table.column(named: name)!.values else { Issue.record("\(name) not numeric"); continue }
            let m = Moments(v)
            let got = data.metrics.first { $0.name == name }!
            #expect(abs(got.moments.mean - m.mean) <= 1e-12 * abs(m.mean) && abs(got.moments.sd - m.sd) <= 1e-12 * m.sd)
            #expect(got.moments.minimum == v.min() && got.moments.maximum == v.max() && got.missing == 0)
            #expect(got.retained.reduce(0, +) + got.churned.reduce(0, +) == Double(v.count))
            let churnedRows = zip(v, labels).filter { $0.1 == "yes" }.count
            #expect(got.churned.reduce(0, +) == Double(churnedRows))
        }
        let state = data.metrics.first { $0.name == "state" }!
        #expect(state.levels?.values.reduce(0, +) == table.rowCount && state.levels?.count == 51)
    }

    /// Under `--missing drop` a customer's latest snapshot may hold a missing value: it is still their
    /// latest (never an older one in its place), and they are not listed.
    @Test(arguments: [MissingPolicy.impute, .drop])
    func historyListsCustomersAtTheirLatestSnapshot(missing: MissingPolicy) throws {
        var clock = Timings()
        let path = Fixtures.dataset("simulated_history.csv")
        var spec = FitSpec(roles: ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: missing))
        spec.scoring.scale = .points(round: true)
        let model = try FitPipeline.fit(spec, .file(path), timings: &clock).model
        let data = try ReportData.load(model: model, dataPath: path, atRisk: 30)
        let (table, scores, labels) = try Self.scoredRows(path, model: model)
        let unscorable = Set(scores.indices.filter { scores[$0] == nil })
        #expect(unscorable.isEmpty == (missing == .impute), "the fixture has missing values")
        var csv = CSVOptions()
        csv.textColumns = ["customer_id", "snapshot_date"]
        let keys = try CSVReader.read(path: path, options: csv)
        let ids = keys.column(named: "customer_id")!, dates = keys.column(named: "snapshot_date")!
        var latest: [String: Int] = [:]
        for i in 0..<table.rowCount {
            let id = ids.text(at: i)!
            if let j = latest[id], dates.text(at: j)! >= dates.text(at: i)! { continue }  // ISO dates: text order is time order
            latest[id] = i
        }
        let current = latest.values.filter { labels[$0] == "0" && !unscorable.contains($0) }
        let order = current.sorted { scores[$0]!.churnProbability != scores[$1]!.churnProbability
            ? scores[$0]!.churnProbability > scores[$1]!.churnProbability : $0 < $1 }.prefix(30)
        let view = try #require(data.customers)
        #expect(view.count == latest.count && view.churned == latest.values.filter { labels[$0] == "1" }.count && view.churned > 0)
        #expect(view.unscored == latest.values.filter { labels[$0] == "0" && unscorable.contains($0) }.count)
        #expect(data.atRisk.map(\.id) == order.map { ids.text(at: $0)! })
        #expect(data.atRisk.map(\.snapshot) == order.map { dates.text(at: $0) })
        #expect(data.atRisk.allSatisfy { !$0.churned })
        #expect(Set(data.atRisk.map(\.id)).count == data.atRisk.count)
        // Band counts of the latest snapshots.
        let bands = model.scoring!.bands.map(\.label)
        for (k, band) in bands.enumerated() {
            let rows = latest.values.filter { scores[$0]?.band == band }
            #expect(view.bandCounts[k].customers == rows.count && view.bandCounts[k].churned == rows.filter { labels[$0] == "1" }.count)
        }
        // The page says so, and a points model draws its weights in points.
        let dir = Fixtures.temporaryDirectory()
        let modelPath = dir.appendingPathComponent("history.json").path
        try AtomicFile.write(try model.encoded(), to: modelPath)
        let html = try HTMLReport.build(modelPath: modelPath, dataPath: path)
        #expect(html.contains("snapshots of \(latest.count) customers judged"))
        #expect(html.contains("Each customer once, at their latest snapshot; the \(view.churned) customers who churned after theirs are not listed"))
        #expect(html.contains("Weights: points of health score"))
        #expect(html.contains(" (churn "))
    }
}
