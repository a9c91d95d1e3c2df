import Foundation
import ScoringCore
import Testing
import Tabular
import TestSupport
import Training
@testable import Exports
@testable import ScoringCore
import Support

/// The ONNX export, run by onnxruntime (after `onnx.checker.check_model`), equals the scoring core:
/// probabilities to 1e-6 on the first 1,000 rows of mlc_churn (plain fit) and of the simulated
/// history (median impute with indicators, log1p / asinh / clip+log1p transforms, a metric group,
/// pooled rare levels, unseen levels scored as (other)), plus crafted rows with unseen levels and
/// missing values. The float32 loss is measured, and so is what an all-float32 graph would lose.
@Suite(.serialized, .tags(.onnxruntime), TagSelection.unlessSkipped(.onnxruntime)) struct ONNXExportTests {
    static let probabilityTolerance = 1e-6
    static let float32Epsilon = Double(Float.ulpOfOne) / 2  // 2⁻²⁴, unit roundoff

    // MARK: - Fixtures

    static func plainMLC() throws -> ModelArtifact {
        var clock = Timings()
        let result = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock)
        return try ModelArtifact.decode(try result.model.encoded(), path: "mlc.json")  // what production loads
    }

    static func historyRoles() -> ColumnRoles {
        var roles = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: .impute)
        roles.impute = .median
        roles.transforms = ["logins": [.log1p], "sentiment": [.asinh], "days_late": [.clip, .log1p]]
        roles.groups = [MetricGroup(name: "usage", members: [(column: "logins", sign: 1), (column: "active_days", sign: 1)])]
        // Read as categories (numbers matched as text); their rare counts pool into (other).
        roles.categorical = ["referrals", "high_severity_tickets"]
        roles.rareLevelShare = 0.02
        roles.unseenLevels = .other
        return roles
    }

    static func history() throws -> ModelArtifact {
        var clock = Timings()
        let result = try FitPipeline.fit(FitSpec(roles: historyRoles()), .file(Fixtures.dataset("simulated_history.csv")), timings: &clock)
        return try ModelArtifact.decode(try result.model.encoded(), path: "history.json")
    }

    /// The first `count` rows of a data file, as the scoring core takes them.
    static func firstRows(_ path: String, model: ModelArtifact, count: Int = 1_000) throws -> Rows {
        let (table, _) = try ScoringInput.read(path: path, model: model)
        let part = table.subset(rows: Array(0..<min(count, table.rowCount)))
        return Rows(count: part.rowCount, columns: ScoringInput.columns(part, names: Scorer(model: model).requiredColumns))
    }

    // MARK: - Tests

    @Test func mlcPlainFitMatchesCore() throws {
        let model = try Self.plainMLC()
        let rows = try Self.firstRows(Fixtures.dataset("mlc_churn.csv"), model: model)
        let run = try ONNXRuntimeHarness.run(model: try ONNXExport.render(model, options: ExportOptions()), rowCount: rows.count, columns: rows.columns)
        let gaps = try Self.compare(run, model: model, rows: rows)
        print("ONNX export, mlc_churn plain fit, \(rows.count) rows (\(run.versions)): max |Δp| = \(gaps.probability) (float32 probabilities), max |Δp| double churn_probability = \(gaps.doubleProbability), max |Δη| = \(gaps.eta), max relative error of P(churn) \(gaps.relativeChurn), of P(retained) \(gaps.relativeRetained), max |Δ health score| = \(gaps.score)")
        #expect(gaps.probability <= Self.probabilityTolerance)

        // The file describes itself.
        #expect(run.irVersion == Int(ONNXExport.irVersion))
        #expect(run.opsets == ["": 13, "ai.onnx.ml": 2])
        #expect(run.producer == "healthscore \(model.toolVersion)")
        let provenance = try Exporter.provenance(model)
        #expect(run.docString.contains(provenance) && run.graphDocString.contains(provenance))
        #expect(run.metadata["healthscore.provenance"] == provenance)
        let checksum = try model.computedChecksum()
        #expect(run.metadata["healthscore.model_checksum"] == checksum)
        #expect(run.metadata["healthscore.model_checksum"] == model.checksum)
        #expect(run.metadata["healthscore.format_version"] == String(ModelArtifact.currentFormatVersion))
        #expect(run.metadata["healthscore.format"] == ModelArtifact.formatName)
        #expect(run.outputNames == ONNXExport.outputNames)
        // One input per column the model needs: numbers as double, categories as strings.
        let scorer = Scorer(model: model)
        #expect(Set(run.inputs.keys) == Set(scorer.requiredColumns))
        for f in model.schema.features where f.kind != .group {
            #expect(run.inputs[f.column] == (f.kind == .categorical ? "string" : "double"), "input \(f.column)")
        }
    }

    /// The float32 loss in the shipped graph stays at the logistic's ~1e-7; the all-float32 graph
    /// (float inputs and coefficients, LinearClassifier over the feature vector) loses
    /// ≈ ε_f·Σ|βᵢxᵢ| in η — on mlc_churn's collinear minutes/charge pairs, more than 1e-6 in p.
    @Test func float32LossIsMeasured() throws {
        let model = try Self.plainMLC()
        let rows = try Self.firstRows(Fixtures.dataset("mlc_churn.csv"), model: model)
        let scorer = Scorer(model: model)
        let eta = try scorer.linearPredictor(rowCount: rows.count, columns: rows.columns)
        let core = try scorer.score(rowCount: rows.count, columns: rows.columns)

        // Σ|βᵢxᵢ| per row: the magnitude float32 rounding is relative to.
        var magnitude = [Double](repeating: abs(scorer.intercept), count: rows.count)
        for f in scorer.features.indices {
            let term = try scorer.featureTerm(f, rowCount: rows.count, columns: rows.columns)
            for i in 0..<rows.count { magnitude[i] += abs(term[i]) }
        }

        // The shipped graph: the only float32 steps are η → float and the logistic.
        let shipped = try ONNXRuntimeHarness.run(model: try ONNXExport.render(model, options: ExportOptions()), rowCount: rows.count, columns: rows.columns)
        let p = shipped.column("probabilities", 1)
        var shippedGap = 0.0, logisticBound = 0.0
        for i in 0..<rows.count {
            shippedGap = max(shippedGap, abs(p[i] - core[i].churnProbability))
            // float(η) rounding moves p by ≤ p(1−p)·ε_f·|η|; the MLAS logistic adds ≲ 1.5 ulp of 1.
            logisticBound = max(logisticBound, core[i].churnProbability * (1 - core[i].churnProbability) * Self.float32Epsilon * abs(eta[i]) + 1.5 * Double(Float.ulpOfOne))
        }
        #expect(shippedGap <= logisticBound, "shipped graph: max |Δp| \(shippedGap) above the float32 logistic bound \(logisticBound)")

        // The all-float32 graph.
        let float32 = try ONNXRuntimeHarness.run(model: try ONNXExport.render(model, precision: .float), rowCount: rows.count, columns: rows.columns)
        #expect(float32.inputs.values.allSatisfy { $0 == "float" || $0 == "string" })
        let p32 = float32.column("probabilities", 1)
        let eta32 = float32.column("eta")
        var gap32 = 0.0, etaGap32 = 0.0, ratio = 0.0, largest = 0.0
        for i in 0..<rows.count {
            gap32 = max(gap32, abs(p32[i] - core[i].churnProbability))
            etaGap32 = max(etaGap32, abs(eta32[i] - eta[i]))
            ratio = max(ratio, abs(eta32[i] - eta[i]) / (Self.float32Epsilon * magnitude[i]))
            largest = max(largest, magnitude[i])
        }
        print("ONNX export float32 loss, mlc_churn \(rows.count) rows: shipped graph max |Δp| = \(shippedGap) (bound \(logisticBound)); all-float32 graph max |Δp| = \(gap32), max |Δη| = \(etaGap32), max Σ|βx| = \(largest), max |Δη|/(ε_f·Σ|βx|) = \(ratio)")
        // Rounding of each input, coefficient and partial sum: a few ε_f·Σ|βᵢxᵢ| at most (the
        // worst-case bound grows with the number of terms; observed errors partly cancel).
        let terms = Double(model.coefficients.count)
        #expect(ratio <= terms + 3, "float32 η error \(ratio)·ε_f·Σ|βx| exceeds the rounding bound")
        #expect(gap32 > shippedGap, "the all-float32 graph is expected to lose more than the shipped one")
    }

    @Test func simulatedHistoryWithImputeTransformsGroupAndPoolingMatchesCore() throws {
        let model = try Self.history()
        // The fit really has what this test is about.
        let features = Dictionary(uniqueKeysWithValues: model.schema.features.map { ($0.column, $0) })
        let usage = try #require(features["usage"])
        #expect(usage.kind == .group && usage.members?.map(\.column) == ["logins", "active_days"])
        #expect(usage.members?.first?.transforms?.map(\.kind) == [.log1p])
        #expect(features["sentiment"]?.transforms?.map(\.kind) == [.asinh])
        #expect(features["days_late"]?.transforms?.map(\.kind) == [.clip, .log1p])
        #expect(features["csat"]?.missingIndicator == "missing(csat)" && features["csat"]?.imputation == .median)
        #expect(features["referrals"]?.pooledLevels == ["2", "3"])
        #expect(features["high_severity_tickets"]?.pooledLevels?.isEmpty == false)
        #expect(model.schema.unseenLevels == .other)

        var rows = try Self.firstRows(Fixtures.dataset("simulated_history.csv"), model: model)
        let missingInFirst = rows.missingCount
        #expect(missingInFirst > 0, "the first rows should include missing csat values")
        let crafted = Self.craftedHistoryRows(&rows)
        let run = try ONNXRuntimeHarness.run(model: try ONNXExport.render(model, options: ExportOptions()), rowCount: rows.count, columns: rows.columns)
        let gaps = try Self.compare(run, model: model, rows: rows)
        print("ONNX export, simulated_history (impute median, log1p/asinh/clip+log1p, group usage, pooling, unseen→other), \(rows.count) rows (1,000 + \(crafted) crafted; \(missingInFirst) missing cells in the first 1,000): max |Δp| = \(gaps.probability), max |Δp| double churn_probability = \(gaps.doubleProbability), max |Δη| = \(gaps.eta), max |Δ health score| = \(gaps.score)")
        #expect(gaps.probability <= Self.probabilityTolerance)
    }

    /// The stored unseen-level policy: `reference` scores an unseen level as the reference level;
    /// `error` (the core refuses the row) gives NaN for that row only.
    @Test func unseenLevelPolicies() throws {
        var model = try Self.history()
        var rows = try Self.firstRows(Fixtures.dataset("simulated_history.csv"), model: model, count: 50)
        _ = Self.craftedHistoryRows(&rows)

        model.schema.unseenLevels = .reference
        let reference = try ONNXRuntimeHarness.run(model: try ONNXExport.render(model, options: ExportOptions()), rowCount: rows.count, columns: rows.columns)
        #expect(reference.metadata["healthscore.unseen_levels"] == "reference")
        let gaps = try Self.compare(reference, model: model, rows: rows)
        #expect(gaps.probability <= Self.probabilityTolerance)

        model.schema.unseenLevels = .error
        let strict = try ONNXRuntimeHarness.run(model: try ONNXExport.render(model, options: ExportOptions()), rowCount: rows.count, columns: rows.columns)
        let p = strict.column("probabilities", 1)
        let bandIndex = strict.column("band_index")
        let scorer = Scorer(model: model)
        var refused = 0
        for i in 0..<rows.count {
            let one = rows.row(i)
            if let core = try? scorer.score(rowCount: 1, columns: one)[0] {
                #expect(abs(p[i] - core.churnProbability) <= Self.probabilityTolerance, "row \(i)")
            } else {
                refused += 1
                #expect(p[i].isNaN, "row \(i): the core refuses it, ONNX must give NaN (got \(p[i]))")
                #expect(bandIndex[i] == Double(model.scoring?.bands.count ?? 0))
                #expect(strict.strings["band"]?[i][0] == "")
            }
        }
        #expect(refused >= 3, "the crafted rows hold unseen levels")  // platinum, "7", "(other)" plan, missing plan
    }

    /// Under the drop policy a missing value, and (no stored policy = error) an unseen level, make
    /// the core refuse the row; ONNX marks it NaN and scores the other rows as the core does.
    @Test func refusedRowsComeOutNaN() throws {
        let model = try Self.plainMLC()
        #expect(model.schema.missingPolicy == .drop && model.schema.unseenLevels == nil)
        var rows = try Self.firstRows(Fixtures.dataset("mlc_churn.csv"), model: model, count: 3)
        rows.append(from: 0, ["total_day_minutes": .number(.nan)])
        rows.append(from: 1, ["state": .text(nil)])
        rows.append(from: 2, ["state": .text("Atlantis")])
        let run = try ONNXRuntimeHarness.run(model: try ONNXExport.render(model, options: ExportOptions()), rowCount: rows.count, columns: rows.columns)
        let p = run.column("probabilities", 1), q = run.column("probabilities", 0), score = run.column("health_score")
        let label = run.column("label"), band = run.column("band_index")
        let scorer = Scorer(model: model)
        for i in 0..<3 {
            let core = try scorer.score(rowCount: 1, columns: rows.row(i))[0]
            #expect(abs(p[i] - core.churnProbability) <= Self.probabilityTolerance)
        }
        for i in 3..<6 {
            #expect(throws: Diagnostic.self) { _ = try scorer.score(rowCount: 1, columns: rows.row(i)) }
            #expect(p[i].isNaN && q[i].isNaN && score[i].isNaN, "row \(i)")
            #expect(label[i] == 0 && band[i] == Double(model.scoring?.bands.count ?? 0), "row \(i)")
        }
    }

    /// Points scales, plain and rounded per metric as printed scorecards are, with the same bands
    /// moved onto the scale.
    @Test func pointsScalesAndBands() throws {
        let plain = try Self.plainMLC()
        let rows = try Self.firstRows(Fixtures.dataset("mlc_churn.csv"), model: plain, count: 1_000)
        for scale in [ScoreScale.points(), ScoreScale.points(round: true)] {
            var model = plain
            let spec = try #require(plain.scoring)
            model.scoring = spec.rescaled(to: scale)
            let run = try ONNXRuntimeHarness.run(model: try ONNXExport.render(model, options: ExportOptions()), rowCount: rows.count, columns: rows.columns)
            let gaps = try Self.compare(run, model: model, rows: rows)
            print("ONNX export, mlc_churn on \(scale.rounds ? "rounded " : "")points: max |Δp| = \(gaps.probability), max |Δ score| = \(gaps.score) points")
            #expect(gaps.probability <= Self.probabilityTolerance)
            #expect(gaps.score <= (scale.rounds ? 0 : 1e-6), "points differ by \(gaps.score)")
        }
    }

    @Test func protobufWireFormat() {
        var w = ONNXProtoWriter()
        w.varint(300)
        #expect(w.buffer == [0xAC, 0x02])
        w = ONNXProtoWriter()
        w.int64(1, -1)  // two's complement: ten bytes
        #expect(w.buffer == [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        w = ONNXProtoWriter()
        w.string(2, "hi")
        #expect(w.buffer == [0x12, 0x02, 0x68, 0x69])
        w = ONNXProtoWriter()
        w.float(2, 1)
        #expect(w.buffer == [0x15, 0x00, 0x00, 0x80, 0x3F])
        w = ONNXProtoWriter()
        w.packedDoubles(10, [1])
        #expect(w.buffer == [0x52, 0x08, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        w = ONNXProtoWriter()
        w.packedInt64s(7, [1, 300])
        #expect(w.buffer == [0x3A, 0x03, 0x01, 0xAC, 0x02])
        w = ONNXProtoWriter()
        w.unpackedInt64s(1, [2, 3])  // TensorProto.dims is not packed in onnx.proto
        #expect(w.buffer == [0x08, 0x02, 0x08, 0x03])
    }

    @Test func interceptOnlyModelIsRefused() throws {
        var model = try Self.plainMLC()
        model.schema.features = []
        model.coefficients = Array(model.coefficients.prefix(1))
        #expect(throws: Diagnostic.self) { _ = try ONNXExport.render(model, options: ExportOptions()) }
    }

    // MARK: - Comparison with the core

    struct Gaps {
        var probability = 0.0
        var doubleProbability = 0.0
        var eta = 0.0
        var score = 0.0
        var relativeChurn = 0.0
        var relativeRetained = 0.0
    }

    /// Every output against the core, row by row; returns the largest gaps.
    static func compare(_ run: ONNXRuntimeHarness.Run, model: ModelArtifact, rows: Rows,
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> Gaps {
        let scorer = Scorer(model: model)
        let core = try scorer.score(rowCount: rows.count, columns: rows.columns)
        let eta = try scorer.linearPredictor(rowCount: rows.count, columns: rows.columns)
        let p = run.column("probabilities", 1), q = run.column("probabilities", 0)
        let label = run.column("label"), onnxEta = run.column("eta"), pd = run.column("churn_probability")
        let score = run.column("health_score")
        #expect(p.count == rows.count && score.count == rows.count, sourceLocation: sourceLocation)
        var gaps = Gaps()
        let bands = model.scoring?.bands ?? []
        let bandIndex = run.column("band_index")
        let bandLabel = run.strings["band"]
        for i in 0..<rows.count {
            let c = core[i]
            let retained = 1 - c.churnProbability
            gaps.probability = max(gaps.probability, abs(p[i] - c.churnProbability), abs(q[i] - retained))
            gaps.relativeChurn = max(gaps.relativeChurn, abs(p[i] - c.churnProbability) / c.churnProbability)
            gaps.relativeRetained = max(gaps.relativeRetained, abs(q[i] - retained) / retained)
            gaps.doubleProbability = max(gaps.doubleProbability, abs(pd[i] - c.churnProbability))
            gaps.eta = max(gaps.eta, abs(onnxEta[i] - eta[i]))
            gaps.score = max(gaps.score, abs(score[i] - c.healthScore))
            #expect(!p[i].isNaN && !score[i].isNaN, "row \(i) came out NaN", sourceLocation: sourceLocation)
            #expect(label[i] == (eta[i] > 0 ? 1 : 0), "row \(i): label \(label[i]) for η \(eta[i])", sourceLocation: sourceLocation)
            if !bands.isEmpty {
                // Bands agree unless the score sits on a cut within float noise.
                let nearCut = bands.contains { b in b.minScore.map { abs(c.healthScore - $0) < 1e-6 } ?? false }
                if !nearCut {
                    let expected = bands.firstIndex { $0.label == c.band } ?? bands.count
                    #expect(bandIndex[i] == Double(expected), "row \(i): band \(bandIndex[i]) vs core \(expected)", sourceLocation: sourceLocation)
                    #expect(bandLabel?[i][0] == (c.band ?? ""), sourceLocation: sourceLocation)
                }
            }
        }
        // Double outputs: η up to the float32 category slopes (≤ ½ulp_f(β) each).
        #expect(gaps.eta <= 1e-6, "max |Δη| \(gaps.eta)", sourceLocation: sourceLocation)
        #expect(gaps.doubleProbability <= 1e-6, sourceLocation: sourceLocation)
        return gaps
    }

    // MARK: - Crafted rows

    /// Appends rows with unseen, pooled and literal levels and missing values to the history rows;
    /// returns how many.
    static func craftedHistoryRows(_ rows: inout Rows) -> Int {
        let before = rows.count
        rows.append(from: 0, ["plan": .text("platinum")])                       // unseen level → (other)
        rows.append(from: 1, ["referrals": .text("7")])                         // unseen number-as-text
        rows.append(from: 2, ["referrals": .text("3")])                         // pooled level → (other)
        rows.append(from: 3, ["high_severity_tickets": .text("5")])             // pooled
        rows.append(from: 4, ["plan": .text(nil)])                              // missing category, no (missing) level
        rows.append(from: 5, ["plan": .text("(other)")])                        // the pool's name typed in
        rows.append(from: 6, ["csat": .number(.nan)])                           // missing with indicator
        rows.append(from: 7, ["logins": .number(.nan)])                         // missing group member
        rows.append(from: 8, ["days_late": .number(.nan), "sentiment": .number(.nan)])
        rows.append(from: 9, ["days_late": .number(1e6), "sentiment": .number(-250.5), "logins": .number(0)])  // clipped, far tail
        rows.append(from: 10, ["sentiment": .number(1e-9), "days_late": .number(-3)])  // tiny asinh, clip from below
        var allMissing: [String: Cell] = [:]
        for (name, column) in rows.columns {
            if case .numbers = column { allMissing[name] = .number(.nan) } else { allMissing[name] = .text(nil) }
        }
        rows.append(from: 11, allMissing)
        return rows.count - before
    }

    enum Cell { case number(Double), text(String?) }

    /// Scoring columns with row-level editing.
    struct Rows {
        var count: Int
        var columns: [String: ScoringColumn]

        var missingCount: Int {
            columns.values.reduce(0) { total, column in
                switch column {
                case .numbers(let x): return total + x.filter(\.isNaN).count
                case .strings(let s): return total + s.filter { $0 == nil }.count
                }
            }
        }

        /// A copy of row `base` with some cells changed, appended.
        mutating func append(from base: Int, _ changes: [String: Cell]) {
            for (name, column) in columns {
                switch column {
                case .numbers(var x):
                    var v = x[base]
                    if case .number(let n)? = changes[name] { v = n }
                    x.append(v)
                    columns[name] = .numbers(x)
                case .strings(var s):
                    var v = s[base]
                    if case .text(let t)? = changes[name] { v = t }
                    s.append(v)
                    columns[name] = .strings(s)
                }
            }
            count += 1
        }

        /// One row as its own batch.
        func row(_ i: Int) -> [String: ScoringColumn] {
            columns.mapValues { column in
                switch column {
                case .numbers(let x): return .numbers([x[i]])
                case .strings(let s): return .strings([s[i]])
                }
            }
        }
    }
}
