import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Exports
import ScoringCore
import Tabular
import TestSupport
import Training
import Support

/// The PMML export scored by an independent consumer (pypmml: PMML4S on the JVM) equals the scoring
/// core: probabilities to 1e-9, scores, bands and (Scorecard) reason codes.
@Suite(.serialized, .tags(.jvm), TagSelection.unlessSkipped(.jvm)) struct PMMLExportTests {
    static let mlc = Fixtures.dataset("mlc_churn.csv")
    static let history = Fixtures.dataset("simulated_history.csv")
    static let tolerance = 1e-9

    // MARK: fixtures

    /// The header and the first `n` records of a CSV, as a new file.
    static func firstRows(_ path: String, _ n: Int, extra: [String] = [], in dir: URL) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(n + 1).map(String.init)
        let url = dir.appendingPathComponent(((path as NSString).lastPathComponent as NSString).deletingPathExtension + "-\(n)-\(extra.count).csv")
        try Data(((lines + extra).joined(separator: "\n") + "\n").utf8).write(to: url)
        return url.path
    }

    static func fit(_ path: String, _ roles: ColumnRoles, scoring: ScoringChoice = ScoringChoice()) throws -> ModelArtifact {
        var clock = Timings()
        let result = try FitPipeline.fit(FitSpec(roles: roles, scoring: scoring), .file(path), timings: &clock)
        // Export what production loads: the model file.
        return try ModelArtifact.decode(try result.model.encoded(), path: "memory")
    }

    /// The simulated history with every metric option the core supports: median impute with an
    /// indicator, log1p / asinh / clip+log1p, a group, rare-level pooling, unseen levels → (other),
    /// the points scale.
    static func historyRoles() -> ColumnRoles {
        var roles = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: .impute)
        roles.impute = .median
        roles.transforms = ["logins": [.log1p], "support_tickets": [.log1p], "roi_proxy": [.asinh], "sentiment": [.asinh],
                            "days_late": [.clip, .log1p]]
        roles.groups = [MetricGroup(name: "usage", members: [(column: "logins", sign: 1), (column: "active_days", sign: 1)])]
        roles.rareLevelShare = 0.2
        roles.unseenLevels = .other
        return roles
    }

    static var pointsScale: ScoringChoice { var s = ScoringChoice(); s.scale = .points(); return s }

    /// Rows the training file lacks: unseen, pooled and missing levels, missing numbers, values beyond
    /// the clip and in asinh's negative branch.
    static let historyEdgeRows = [
        "X1,2024-01-01,platinum,smb,0,0,0.5,0,0,,5,0,1.0,500,0.1,0",
        "X2,2024-01-01,,enterprise,3,2,0.2,1,0,NA,7,1,0.5,3,-0.2,0",
        "X3,2024-01-01,enterprise,government,20,10,0.9,2,1,4.5,9,0,-3.0,0,-0.9,1",
        "X4,2024-01-01,basic,mid_market,10000,30,0.01,10,5,1.0,1,2,6.0,0,0.976,1",
    ]

    struct Scored {
        var model: ModelArtifact
        var columns: [String: ScoringColumn]
        var rowCount: Int
        var core: [Score]
        var explained: [Explanation]
    }

    static func score(_ model: ModelArtifact, path: String) throws -> Scored {
        let (table, columns) = try ScoringInput.read(path: path, model: model)
        let scorer = Scorer(model: model)
        return Scored(model: model, columns: columns, rowCount: table.rowCount,
                      core: try scorer.score(rowCount: table.rowCount, columns: columns),
                      explained: try scorer.explain(rowCount: table.rowCount, columns: columns, reasons: PMMLExport.reasonCount))
    }

    static func slice(_ columns: [String: ScoringColumn], _ n: Int) -> [String: ScoringColumn] {
        columns.mapValues { c in
            switch c {
            case .numbers(let x): return .numbers(Array(x.prefix(n)))
            case .strings(let s): return .strings(Array(s.prefix(n)))
            }
        }
    }

    static func export(_ s: Scored, scorecard: Bool, verificationRows: Int = 25) throws -> String {
        var options = ExportOptions()
        options.scorecard = scorecard
        options.verification = (rowCount: min(verificationRows, s.rowCount), columns: slice(s.columns, verificationRows))
        return try PMMLExport.render(s.model, options: options)
    }

    static func consume(_ documents: [(String, Scored)]) throws -> [PMMLConsumer.Result] {
        try PMMLConsumer.run(documents.map { doc, s in
            PMMLConsumer.Job(pmml: doc, rows: PMMLConsumer.rows(s.columns, names: Scorer(model: s.model).requiredColumns, count: s.rowCount))
        })
    }

    // MARK: comparisons

    struct Gaps { var probability = 0.0; var score = 0.0; var bandMismatches = 0; var reasonMismatches = 0; var reasonTies = 0 }

    /// Largest gaps between the consumer and the core, row by row. `scoreTolerance` lets the
    /// RegressionModel's points (recovered from the probability) carry the probability's rounding.
    static func compare(_ s: Scored, _ r: PMMLConsumer.Result, probability: Bool = true, reasons: Bool = false,
                        label: String) -> Gaps {
        var g = Gaps()
        #expect(r.outputs.count == s.rowCount, "\(label): \(r.outputs.count) results for \(s.rowCount) rows")
        let cuts = s.model.scoring?.bands.compactMap(\.minScore) ?? []
        for (i, (core, out)) in zip(s.core, r.outputs).enumerated() {
            if probability {
                guard let p = out[PMMLExport.probabilityOutput]?.number else {
                    Issue.record("\(label) row \(i + 1): no probability (\(out))"); continue
                }
                g.probability = max(g.probability, abs(p - core.churnProbability))
            }
            guard let score = out[PMMLExport.scoreOutput]?.number else {
                Issue.record("\(label) row \(i + 1): no score (\(out))"); continue
            }
            g.score = max(g.score, abs(score - core.healthScore))
            if let band = core.band {
                // A row sitting on a cut point may fall either side of it by a rounding error.
                let onCut = cuts.contains { abs($0 - core.healthScore) <= 1e-7 * max(1, abs($0)) }
                if out[PMMLExport.bandOutput]?.text != band && !onCut {
                    g.bandMismatches += 1
                    if g.bandMismatches <= 3 { Issue.record("\(label) row \(i + 1): band \(out[PMMLExport.bandOutput] ?? .missing), core \(band)") }
                }
            }
            if reasons {
                let coreReasons = s.explained[i].reasons.map(\.metric)
                let theirs = (1...PMMLExport.reasonCount).map { out[PMMLExport.reasonOutputPrefix + String($0)]?.text }
                // The ranks the core fills must agree; past them (fewer metrics cost points than ranks)
                // the consumer may repeat the last reason or leave the rank empty. Metrics with equal
                // points may come in either order: PMML says the first in the document wins a tie (the
                // core's schema order), PMML4S puts the alphabetically later first.
                let points = Dictionary(s.explained[i].contributions.map { ($0.metric, $0.points) }, uniquingKeysWith: { a, _ in a })
                var ok = theirs.prefix(coreReasons.count).map { $0 ?? "" } == coreReasons
                if !ok {
                    let tied = theirs.prefix(coreReasons.count).map { $0.flatMap { points[$0] } } == s.explained[i].reasons.map { Optional($0.points) }
                        && Set(theirs.prefix(coreReasons.count).compactMap { $0 }).count == coreReasons.count
                    if tied { g.reasonTies += 1; ok = true }
                }
                for k in coreReasons.count..<PMMLExport.reasonCount {
                    if let extra = theirs[k], points[extra] != s.explained[i].reasons.last?.points { ok = false }
                }
                if !ok {
                    g.reasonMismatches += 1
                    if g.reasonMismatches <= 3 {
                        Issue.record("\(label) row \(i + 1): reasons \(theirs), core \(coreReasons) (points \(s.explained[i].contributions.map { "\($0.metric)=\($0.points)" }))")
                    }
                }
            }
        }
        return g
    }

    static func checkVerification(_ r: PMMLConsumer.Result, records: Int, label: String) {
        #expect(r.verificationRecords == records, "\(label): \(r.verificationRecords) ModelVerification records")
        #expect(r.verificationCells > records, "\(label): only \(r.verificationCells) verification cells compared")
        #expect(r.verificationMismatches.isEmpty, "\(label): \(r.verificationMismatches)")
    }

    /// An attribute's value (FoundationXML's `attribute(forName:)` finds nothing on Linux).
    static func attribute(_ element: XMLElement?, _ name: String) -> String? {
        element?.attributes?.first { $0.name == name }?.stringValue
    }

    /// Well-formed XML in the PMML 4.4 namespace, with the checksum in the Header and the
    /// ModelVerification records present.
    static func checkDocument(_ text: String, model: ModelArtifact, root modelElement: String, records: Int) throws {
        let doc = try XMLDocument(data: Data(text.utf8), options: [])
        let root = try #require(doc.rootElement())
        #expect(root.name == "PMML" && Self.attribute(root, "version") == "4.4")
        #expect(root.uri == PMMLExport.namespace || Self.attribute(root, "xmlns") == PMMLExport.namespace)
        let checksum = try model.computedChecksum()
        let header = try #require(root.elements(forName: "Header").first)
        let ext = header.elements(forName: "Extension").first
        #expect(Self.attribute(ext, "value") == checksum)
        #expect(header.elements(forName: "Annotation").first?.stringValue == (try Exporter.provenance(model)))
        let element = try #require(root.elements(forName: modelElement).first, "no \(modelElement)")
        let mv = try #require(element.elements(forName: "ModelVerification").first, "no ModelVerification")
        #expect(Self.attribute(mv, "recordCount") == String(records))
        let table = try #require(mv.elements(forName: "InlineTable").first)
        #expect(table.elements(forName: "row").count == records)
    }

    // MARK: tests

    /// mlc_churn, plain fit on the first 1,000 rows, probability scale: the RegressionModel's
    /// probability, score and band equal the core's.
    @Test func regressionModelMatchesCoreOnMLC() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.firstRows(Self.mlc, 1000, in: dir)
        let model = try Self.fit(data, ColumnRoles(target: "churn"))
        let s = try Self.score(model, path: data)
        let doc = try Self.export(s, scorecard: false)
        try Self.checkDocument(doc, model: model, root: "RegressionModel", records: 25)
        #expect(doc.contains("normalizationMethod=\"logit\"") && doc.contains("targetCategory=\"yes\""))

        let r = try #require(try Self.consume([(doc, s)]).first)
        let g = Self.compare(s, r, label: "mlc")
        print("PMML mlc RegressionModel: max |Δp| = \(g.probability), max |Δscore| = \(g.score) over \(s.rowCount) rows")
        #expect(g.probability <= Self.tolerance)
        #expect(g.score <= 100 * Self.tolerance)
        #expect(g.bandMismatches == 0)
        Self.checkVerification(r, records: 25, label: "mlc")
    }

    /// The configured history model (impute, transforms, group, pooling, unseen → other, points):
    /// RegressionModel and Scorecard both equal the core on the first 1,000 rows and on edge rows.
    @Test func configuredHistoryMatchesCoreAsRegressionModelAndScorecard() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let training = try Self.firstRows(Self.history, 1000, in: dir)
        let model = try Self.fit(training, Self.historyRoles(), scoring: Self.pointsScale)
        // The fit used what the test means to exercise.
        let features = Dictionary(uniqueKeysWithValues: model.schema.features.map { ($0.column, $0) })
        #expect(features["usage"]?.kind == .group)
        #expect(features["csat"]?.missingIndicator == "missing(csat)" && features["csat"]?.imputation == .median)
        #expect(features["plan"]?.pooledLevels?.isEmpty == false)
        #expect(features["days_late"]?.transforms?.map(\.kind) == [.clip, .log1p])
        #expect(model.scoring?.scale.kind == .points)

        let scoring = try Self.firstRows(Self.history, 1000, extra: Self.historyEdgeRows, in: dir)
        let s = try Self.score(model, path: scoring)
        #expect(s.rowCount == 1004)
        let regression = try Self.export(s, scorecard: false)
        let scorecard = try Self.export(s, scorecard: true)
        try Self.checkDocument(regression, model: model, root: "RegressionModel", records: 25)
        try Self.checkDocument(scorecard, model: model, root: "Scorecard", records: 25)
        #expect(scorecard.contains("reasonCodeAlgorithm=\"pointsBelow\"") && scorecard.contains("useReasonCodes=\"true\""))
        #expect(regression.contains("function=\"ln1p\"") && regression.contains("<MapValues"))

        let results = try Self.consume([(regression, s), (scorecard, s)])
        let gr = Self.compare(s, results[0], label: "history RegressionModel")
        let gs = Self.compare(s, results[1], reasons: true, label: "history Scorecard")
        print("PMML history RegressionModel: max |Δp| = \(gr.probability), max |Δpoints| = \(gr.score)")
        print("PMML history Scorecard: max |Δp| = \(gs.probability), max |Δpoints| = \(gs.score), reason mismatches \(gs.reasonMismatches)")
        #expect(gr.probability <= Self.tolerance)
        // Points recovered from the probability: η = ln p − ln(1 − p) keeps ~1e-13 here.
        #expect(gr.score <= 1e-7)
        #expect(gs.probability <= Self.tolerance)
        #expect(gs.score <= Self.tolerance)
        #expect(gr.bandMismatches == 0 && gs.bandMismatches == 0)
        #expect(gs.reasonMismatches == 0)
        Self.checkVerification(results[0], records: 25, label: "history RegressionModel")
        Self.checkVerification(results[1], records: 25, label: "history Scorecard")
    }

    /// Unseen levels follow the stored policy: `reference` scores as the reference level, `error`
    /// leaves the row without a score where the core refuses it.
    @Test func unseenLevelPoliciesMatchCore() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let training = try Self.firstRows(Self.history, 1000, in: dir)
        var model = try Self.fit(training, Self.historyRoles(), scoring: Self.pointsScale)
        let edges = try Self.firstRows(Self.history, 0, extra: Self.historyEdgeRows, in: dir)

        model.schema.unseenLevels = .reference
        let reference = try Self.score(model, path: edges)
        let referenceDoc = try Self.export(reference, scorecard: false, verificationRows: 4)
        let referenceCard = try Self.export(reference, scorecard: true, verificationRows: 4)

        model.schema.unseenLevels = .error
        let (table, columns) = try ScoringInput.read(path: edges, model: model)
        let scorer = Scorer(model: model)
        var refused: [Bool] = []
        for i in 0..<table.rowCount {
            let one = columns.mapValues { c -> ScoringColumn in
                switch c {
                case .numbers(let x): return .numbers([x[i]])
                case .strings(let s): return .strings([s[i]])
                }
            }
            refused.append((try? scorer.score(rowCount: 1, columns: one)) == nil)
        }
        #expect(refused == [true, true, true, false])  // platinum; missing plan (no (missing) level); government
        var errorScored = reference
        errorScored.model = model
        let errorDoc = try PMMLExport.render(model, options: ExportOptions())
        #expect(errorDoc.contains("invalidValueTreatment=\"returnInvalid\""))

        let results = try Self.consume([(referenceDoc, reference), (referenceCard, reference), (errorDoc, errorScored)])
        let g = Self.compare(reference, results[0], label: "reference RegressionModel")
        let gc = Self.compare(reference, results[1], reasons: true, label: "reference Scorecard")
        #expect(g.probability <= Self.tolerance && gc.score <= Self.tolerance && gc.reasonMismatches == 0)
        Self.checkVerification(results[0], records: 4, label: "reference RegressionModel")
        Self.checkVerification(results[1], records: 4, label: "reference Scorecard")
        for (i, out) in results[2].outputs.enumerated() {
            let p = out[PMMLExport.probabilityOutput]?.number
            if refused[i] {
                #expect(p == nil, "row \(i + 1): the core refuses it, the consumer scored \(out)")
            } else {
                let core = try scorer.score(rowCount: 1, columns: columns.mapValues { c -> ScoringColumn in
                    switch c {
                    case .numbers(let x): return .numbers([x[i]])
                    case .strings(let s): return .strings([s[i]])
                    }
                })[0]
                #expect(abs((p ?? .nan) - core.churnProbability) <= Self.tolerance)
            }
        }
    }

    /// Rounded scorecard points (each metric and the base rounded, as printed scorecards): the
    /// Scorecard's partial scores and the RegressionModel's score both round as the core does.
    @Test func roundedPointsMatchCore() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.firstRows(Self.mlc, 1000, in: dir)
        var roles = ColumnRoles(target: "churn")
        var scoring = ScoringChoice()
        scoring.scale = .points(pdo: 20, reference: 600, odds: 50, round: true)
        roles.rareLevelShare = 0.015
        roles.unseenLevels = .other
        let model = try Self.fit(data, roles, scoring: scoring)
        #expect(model.scoring?.scale.rounds == true)
        let s = try Self.score(model, path: data)
        let regression = try Self.export(s, scorecard: false)
        let scorecard = try Self.export(s, scorecard: true)
        let results = try Self.consume([(regression, s), (scorecard, s)])
        let gr = Self.compare(s, results[0], label: "rounded RegressionModel")
        let gs = Self.compare(s, results[1], probability: false, reasons: true, label: "rounded Scorecard")
        print("PMML rounded points: RegressionModel max |Δp| = \(gr.probability), |Δpoints| = \(gr.score); Scorecard |Δpoints| = \(gs.score), rows with tied reasons in another order \(gs.reasonTies)")
        #expect(gr.probability <= Self.tolerance && gr.score == 0 && gs.score == 0)
        #expect(gs.reasonMismatches == 0 && gr.bandMismatches == 0 && gs.bandMismatches == 0)
        Self.checkVerification(results[0], records: 25, label: "rounded RegressionModel")
        Self.checkVerification(results[1], records: 25, label: "rounded Scorecard")
    }

    /// Category labels full of XML's special characters survive escaping, the PMML Array quoting
    /// (a label with a quote falls back to an `or` of equalities) and the consumer.
    @Test func specialCharactersInLevelsAreEscaped() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let labels = ["a&b", "<tag>", "say \"\"hi\"\"", "it's", "x > y", "plain"]
        var rng = SeededRandom(seed: 7)
        var lines = ["segment,usage,churned"]
        for i in 0..<600 {
            // "say "hi"" and "it's" are rare: pooled into (other).
            let k = i % 50 == 0 ? 2 : (i % 45 == 1 ? 3 : [0, 1, 4, 5][i % 4])
            let usage = 10 * rng.uniform()
            let churn = rng.uniform() < 1 / (1 + exp(usage - 5 + Double(k) * 0.3)) ? 1 : 0
            lines.append("\"\(labels[k])\",\(usage),\(churn)")
        }
        let data = dir.appendingPathComponent("special.csv")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: data)
        var roles = ColumnRoles(target: "churned")
        roles.rareLevelShare = 0.05
        roles.unseenLevels = .other
        let model = try Self.fit(data.path, roles, scoring: Self.pointsScale)
        let segment = try #require(model.schema.features.first { $0.column == "segment" })
        #expect(segment.pooledLevels?.contains("say \"hi\"") == true)
        let s = try Self.score(model, path: data.path)
        let regression = try Self.export(s, scorecard: false)
        let scorecard = try Self.export(s, scorecard: true)
        try Self.checkDocument(regression, model: model, root: "RegressionModel", records: 25)
        try Self.checkDocument(scorecard, model: model, root: "Scorecard", records: 25)
        #expect(scorecard.contains("a&amp;b") && scorecard.contains("&lt;tag&gt;") && scorecard.contains("<CompoundPredicate"))
        let results = try Self.consume([(regression, s), (scorecard, s)])
        let gr = Self.compare(s, results[0], label: "special RegressionModel")
        let gs = Self.compare(s, results[1], reasons: true, label: "special Scorecard")
        #expect(gr.probability <= Self.tolerance && gs.score <= Self.tolerance && gs.probability <= Self.tolerance)
        #expect(gs.reasonMismatches == 0)
        Self.checkVerification(results[0], records: 25, label: "special RegressionModel")
        Self.checkVerification(results[1], records: 25, label: "special Scorecard")
    }

    /// The probability scale is not additive: no Scorecard from it, with the fix named.
    @Test func scorecardRefusesTheProbabilityScale() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.firstRows(Self.mlc, 300, in: dir)
        let model = try Self.fit(data, ColumnRoles(target: "churn"))
        var options = ExportOptions()
        options.scorecard = true
        #expect { _ = try PMMLExport.render(model, options: options) } throws: { "\($0)".contains("refit with --scale points") }
        // Through the exporter as the CLI calls it, too.
        #expect(throws: Diagnostic.self) { _ = try Exporter.export(model, format: .pmml, options: options) }
    }

    /// Without the Python environment the conformance tests fail with the fix, never skip.
    @Test func missingConsumerFailsWithTheFix() throws {
        let nowhere = Fixtures.temporaryDirectory().appendingPathComponent("venv/bin/python")
        #expect { _ = try PMMLConsumer.run([], python: nowhere) } throws: { "\($0)".contains("run .ci/setup") }
        #expect(FileManager.default.isExecutableFile(atPath: PMMLConsumer.python.path),
                "no \(PMMLConsumer.python.path): run .ci/setup")
    }
}
