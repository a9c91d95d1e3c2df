import BatchScoring
import Foundation
import Support
import ScoringCore
import Tabular
import TestSupport
import Testing
import Training

/// The compiled plan against the scorer it replaced: the same η, probability, score, band and
/// reasons, bit for bit, on the bundled data sets, read in small pieces on two threads. The old
/// scorer (a feature-at-a-time loop over `[String: ScoringColumn]`, deleted in session 8) and the plan
/// agreed on every row when the digests below were recorded; the all-or-nothing `Scorer` API is
/// now the plan too, so it is compared with the streamed path row by row as well.
@Suite struct ScoringPlanTests {
    static func fit(_ file: String, _ roles: ColumnRoles, scale: ScoreScale = .probability) throws -> ModelArtifact {
        var clock = Timings()
        var spec = FitSpec(roles: roles)
        spec.scoring.scale = scale
        let result = try FitPipeline.fit(spec, .file(Fixtures.dataset(file)), timings: &clock)
        return try ModelArtifact.decode(try result.model.encoded(), path: "model.json")
    }

    static func historyRoles() -> ColumnRoles {
        var roles = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: .impute)
        roles.impute = .median
        roles.transforms = ["logins": [.log1p], "support_tickets": [.log1p], "sentiment": [.asinh], "roi_proxy": [.asinh],
                            "days_late": [.clip, .log1p]]
        roles.groups = [MetricGroup(name: "usage", members: [(column: "logins", sign: 1), (column: "active_days", sign: 1)])]
        roles.categorical = ["referrals"]
        roles.rareLevelShare = 0.2
        roles.unseenLevels = .other
        return roles
    }

    struct Row: Equatable {
        var eta, probability, score: Double
        var band: String?
        var reasons: [String]
    }

    /// The in-memory path: the whole file read, then `Scorer.explain`.
    static func old(_ model: ModelArtifact, _ path: String, reasons: Int) throws -> [Row] {
        let (table, columns) = try ScoringInput.read(path: path, model: model)
        let scorer = Scorer(model: model)
        let eta = try scorer.linearPredictor(rowCount: table.rowCount, columns: columns)
        return try scorer.explain(rowCount: table.rowCount, columns: columns, reasons: reasons).enumerated().map { i, e in
            Row(eta: eta[i], probability: e.score.churnProbability, score: e.score.healthScore, band: e.score.band,
                reasons: e.reasons.map { "\($0.metric)|\($0.value)|\($0.points)" })
        }
    }

    static func new(_ model: ModelArtifact, _ path: String, reasons: Int, chunkBytes: Int = 64 << 10) throws -> [Row] {
        let plan = ScoringPlan(model: model)
        var options = ScoreFile.Options()
        options.reasons = reasons
        options.chunkBytes = chunkBytes
        options.threads = 2
        var rows: [Row] = []
        try ScoreFile.run(path: path, model: model, plan: plan, options: options) { piece in
            let s = piece.scored
            for i in 0..<piece.rowCount {
                var r = Row(eta: s.eta[i], probability: s.probability[i], score: s.score[i],
                            band: s.band[i] >= 0 ? plan.bandLabels[Int(s.band[i])] : nil, reasons: [])
                for k in 0..<reasons where s.reasonFeature[i * reasons + k] >= 0 {
                    let j = Int(s.reasonFeature[i * reasons + k])
                    r.reasons.append("\(plan.metrics[j])|\(plan.valueText(feature: j, row: i, columns: piece.columns))|\(s.reasonPoints[i * reasons + k])")
                }
                rows.append(r)
            }
        }
        return rows
    }

    /// SHA-256 of every row's bit patterns, band and reasons.
    static func digest(_ rows: [Row]) -> String {
        func hex(_ x: Double) -> String { String(x.bitPattern, radix: 16) }
        var text = ""
        for r in rows {
            text += "\(hex(r.eta))|\(hex(r.probability))|\(hex(r.score))|\(r.band ?? "-")"
            for reason in r.reasons {
                let parts = reason.split(separator: "|", omittingEmptySubsequences: false)
                text += "|\(parts[0])=\(parts[1]):\(hex(Double(String(parts[2]))!))"
            }
            text += "\n"
        }
        return SHA256.hex(of: Data(text.utf8))
    }

    /// Digests of the old scorer's output (equal to the plan's when recorded).
    static let recorded: [String: String] = [
        "mlc probability 0": "ddf154b643cfe34258d7528ea551ad553c66c880d9dc82b3a054454b241e9659",
        "mlc probability 3": "2cb7dbc15b44907a413323f842160fab19ecef896a350883bef5963936b644aa",
        "mlc probability 8": "00b7b16735a82527a9eeb06d304e46365b426f05fc429982f126ef87f2859ece",
        "mlc points 3": "21dccf35df7f015a5f2507e45cdee9d8de65e12804afe1d40468c2e7d09480e1",
        "history points": "54b27fb61b57694bf0abc1d2ee035af0b9170bc6e7e036e07baf6cd06e03ef4f",
        "history probability": "51b6e959ba9bcbae7709e732139055e0f3a7e35b63752a05fa2f8cfa6e691f8a",
        "credit 3": "94a268dc71657621c9356f63374101157398bc3b3e39c121c79bd2b58a6f3660",
    ]

    static func expectRecorded(_ rows: [Row], _ key: String) {
        let d = digest(rows)
        #expect(Self.recorded[key] == d, "\(key): digest \(d)")
    }

    static func expectIdentical(_ a: [Row], _ b: [Row]) {
        #expect(a.count == b.count)
        var mismatches = 0
        for (x, y) in zip(a, b) where !(x.eta.bitPattern == y.eta.bitPattern && x.probability.bitPattern == y.probability.bitPattern
                                          && x.score.bitPattern == y.score.bitPattern && x.band == y.band && x.reasons == y.reasons) {
            mismatches += 1
            if mismatches <= 3 { Issue.record("old \(x) vs plan \(y)") }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [0, 3, 8])
    func mlcProbabilityScaleIsBitIdentical(reasons: Int) throws {
        let model = try Self.fit("mlc_churn.csv", ColumnRoles(target: "churn"))
        let path = Fixtures.dataset("mlc_churn.csv")
        let new = try Self.new(model, path, reasons: reasons)
        Self.expectIdentical(try Self.old(model, path, reasons: reasons), new)
        Self.expectRecorded(new, "mlc probability \(reasons)")
    }

    @Test func mlcUnroundedPointsAreBitIdentical() throws {
        let model = try Self.fit("mlc_churn.csv", ColumnRoles(target: "churn"), scale: .points())
        let path = Fixtures.dataset("mlc_churn.csv")
        let new = try Self.new(model, path, reasons: 3)
        Self.expectIdentical(try Self.old(model, path, reasons: 3), new)
        Self.expectRecorded(new, "mlc points 3")
    }

    /// Groups, transforms, imputation with indicators, pooled levels, numbers as levels, rounded points.
    @Test(arguments: [true, false])
    func simulatedHistoryIsBitIdentical(points: Bool) throws {
        let model = try Self.fit("simulated_history.csv", Self.historyRoles(), scale: points ? .points(round: true) : .probability)
        let path = Fixtures.dataset("simulated_history.csv")
        let old = try Self.old(model, path, reasons: 3)
        #expect(old.count > 1000)
        Self.expectIdentical(old, try Self.new(model, path, reasons: 3))
        Self.expectRecorded(old, points ? "history points" : "history probability")
        // One piece and one thread give the same rows as many pieces on two threads.
        Self.expectIdentical(old, try Self.new(model, path, reasons: 3, chunkBytes: 64 << 20))
    }

    @Test func creditDataIsBitIdentical() throws {
        var roles = ColumnRoles(target: "Status", missing: .impute)
        roles.positive = "bad"
        let model = try Self.fit("credit_data.csv", roles)
        let path = Fixtures.dataset("credit_data.csv")
        let new = try Self.new(model, path, reasons: 3)
        Self.expectIdentical(try Self.old(model, path, reasons: 3), new)
        Self.expectRecorded(new, "credit 3")
    }

    /// `actionable: false` keeps a metric's weight in the score and out of the reasons.
    @Test func unactionableMetricsAreNeverReasons() throws {
        var model = try Self.fit("mlc_churn.csv", ColumnRoles(target: "churn"))
        let path = Fixtures.dataset("mlc_churn.csv")
        let before = try Self.new(model, path, reasons: 8)
        let hidden = Set(["state", "international_plan"])
        for j in model.schema.features.indices where hidden.contains(model.schema.features[j].column) {
            model.schema.features[j].actionable = false
        }
        let after = try Self.new(model, path, reasons: 3)
        #expect(before.count == after.count)
        #expect(before.contains { $0.reasons.contains { hidden.contains(String($0.split(separator: "|")[0])) } })
        for (x, y) in zip(before, after) {
            #expect(x.score.bitPattern == y.score.bitPattern)
            #expect(!y.reasons.contains { hidden.contains(String($0.split(separator: "|")[0])) })
            // The others move up, in their order.
            #expect(Array(x.reasons.filter { !hidden.contains(String($0.split(separator: "|")[0])) }.prefix(3)) == y.reasons)
        }
    }
}

@Suite struct FixedDecimalTests {
    func formatted(_ x: Double, _ digits: Int) -> String {
        var b = CSVBytes()
        b.fixed(x, digits: digits)
        return String(decoding: b.bytes, as: UTF8.self)
    }

    /// `%.Nf` exactly, ties and near-ties included: x.x5 values whose binary value sits just above
    /// or below the half, exact halves (round half to even), negatives rounding to -0.0.
    @Test func matchesPrintfOnTiesAndRandomValues() {
        var values: [Double] = [0, -0.0, 0.25, 0.35, 0.45, -0.04, -0.05, 2.5, 3.5, 1.005, 1.015, 1.025, 99.995, -7.45,
                                123456.785, 0.125, 0.375, 1e-300, -1e-300, 4503599627370495.5, 1e20, .infinity, -.infinity, .nan]
        var g = SeededRandom(seed: 20_261_207)
        for _ in 0..<20000 {
            values.append(Double.random(in: -1000...1000, using: &g))
            values.append(Double(Int.random(in: -100000...100000, using: &g)) / 1000 + (Bool.random(using: &g) ? 5e-4 : 0))
        }
        for x in values {
            for d in [0, 1, 2, 3] {
                #expect(formatted(x, d) == String(format: "%.\(d)f", x), "x = \(x), \(d) digits")
            }
        }
    }
}
