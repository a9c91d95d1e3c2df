import FitEngine
import Foundation
import ScoringCore
import Tabular
import Testing
import TestSupport
@testable import Training

/// `fit --streaming` against the in-memory fit of the same file: chunks far smaller than the file,
/// so the design statistics are merged over many pieces and the solver sums over many blocks.
@Suite struct StreamingTests {
    static let smallChunks: StreamingOptions = { var s = StreamingOptions(); s.chunkBytes = 16 << 10; return s }()

    func both(_ path: String, _ roles: ColumnRoles, chunkBytes: Int = 16 << 10) throws -> (memory: FitOutcome, streamed: FitOutcome) {
        var clock = Timings()
        let memory = try FitPipeline.fit(FitSpec(roles: roles), .file(path), timings: &clock)
        var streaming = StreamingOptions()
        streaming.chunkBytes = chunkBytes
        let streamed = try FitPipeline.fit(FitSpec(roles: roles), .file(path), run: FitRun(streaming: streaming), timings: &clock)
        return (memory, streamed)
    }

    /// Same artifact apart from timing fields: coefficients and deviances to 1e-10, standard errors
    /// to 1e-10 or, for collinear terms, the rounding their variance inflation allows.
    func expectSameModel(_ a: ModelArtifact, _ b: ModelArtifact) {
        #expect(a.coefficients.map(\.term) == b.coefficients.map(\.term))
        for (x, y) in zip(a.coefficients, b.coefficients) {
            #expect(abs(x.estimate - y.estimate) <= 1e-10 * max(1, abs(y.estimate)), "\(x.term)")
            if let sx = x.standardError, let sy = y.standardError {
                let floor = 16 * Double.ulpOfOne * max(y.vif ?? 1, x.term == Coefficient.interceptTerm
                                                       ? (b.coefficients.compactMap(\.vif).max() ?? 1) : 1)
                #expect(relativeError(sx, sy) <= max(1e-10, floor), "standard error of \(x.term)")
            } else {
                #expect(x.standardError == nil && y.standardError == nil)
            }
        }
        #expect(a.aliased == b.aliased)
        #expect(relativeError(a.fit.deviance, b.fit.deviance) <= 1e-10)
        #expect(relativeError(a.fit.nullDeviance, b.fit.nullDeviance) <= 1e-12)
        #expect(a.fit.nObservations == b.fit.nObservations && a.fit.nDropped == b.fit.nDropped)
        #expect(a.fit.nEvents == b.fit.nEvents && a.fit.nImputedCells == b.fit.nImputedCells)
        #expect(a.fit.iterations == b.fit.iterations && a.fit.converged == b.fit.converged)
        #expect(a.training == b.training)
        // The schema: same levels, pooling, transforms; moments merged over pieces agree to rounding.
        #expect(a.schema.features.count == b.schema.features.count)
        for (f, g) in zip(a.schema.features, b.schema.features) {
            #expect(f.column == g.column && f.kind == g.kind && f.levels == g.levels && f.pooledLevels == g.pooledLevels)
            #expect(f.missingIndicator == g.missingIndicator && f.missingShare == g.missingShare && f.levelShares == g.levelShares)
            #expect(f.transforms?.map(\.kind) == g.transforms?.map(\.kind))
            for (u, v) in [(f.mean, g.mean), (f.standardDeviation, g.standardDeviation), (f.imputeValue, g.imputeValue)] {
                #expect((u == nil) == (v == nil))
                if let u, let v { #expect(abs(u - v) <= 1e-12 * max(1, abs(v)), "\(f.column)") }
            }
            for (s, t) in zip(f.transforms ?? [], g.transforms ?? []) { #expect(s.lower == t.lower && s.upper == t.upper) }
        }
        #expect(a.schema.target == b.schema.target)
        let cutsA = a.scoring?.bands.compactMap(\.minScore) ?? [], cutsB = b.scoring?.bands.compactMap(\.minScore) ?? []
        #expect(cutsA.count == cutsB.count && cutsA.count > 0)
        for (u, v) in zip(cutsA, cutsB) { #expect(abs(u - v) <= 1e-10 * max(1, abs(v))) }
        #expect(Set(a.warnings.map(\.code)).subtracting(["separation", "quasi_separation", "extreme_probabilities"])
                == Set(b.warnings.map(\.code)))
    }

    @Test func mlcChurnStreamedInSmallChunksEqualsTheInMemoryFit() throws {
        let (memory, streamed) = try both(Fixtures.dataset("mlc_churn.csv"), ColumnRoles(target: "churn"))
        expectSameModel(streamed.model, memory.model)
        #expect(memory.model.coefficients.count == 70)
    }

    @Test(arguments: [false, true])
    func simulatedCategoriesAndMissingValuesStreamLikeTheyFitInMemory(impute: Bool) throws {
        let path = try SimulatedFile.write(rows: 3_000, seed: impute ? 7 : 8)
        var roles = ColumnRoles(target: "churned", id: "customer", weights: "w")
        roles.missing = impute ? .impute : .drop
        roles.rareLevelShare = 0.02
        roles.autoTransform = impute
        if !impute {
            roles.transforms["tickets"] = [.clip, .log1p]
            roles.classWeight = .balanced
        }
        roles.impute = impute ? .mean : .median
        let (memory, streamed) = try both(path, roles, chunkBytes: 4 << 10)
        expectSameModel(streamed.model, memory.model)
        let plan = memory.model.schema.features.first { $0.column == "plan" }
        #expect(plan?.pooledLevels == ["rare"])
        if impute {
            #expect(memory.model.fit.nDropped == 30 && memory.model.fit.nImputedCells > 0)
        } else {
            #expect(memory.model.fit.nDropped > 30)
        }
    }

    @Test func aColumnWithNumbersInEarlyChunksAndTextLaterIsLearnedAsText() throws {
        // "region" holds digits for the first rows and words after: chunk by chunk the reader types it
        // numeric, then text; the streamed fit reads it again as text and matches the in-memory fit.
        // Words are the majority, so the column is a category, not a metric with stray cells.
        let path = try SimulatedFile.write(rows: 2_000, seed: 3, regionSwitchesAt: 800)
        let (memory, streamed) = try both(path, ColumnRoles(target: "churned", id: "customer", weights: "w"), chunkBytes: 8 << 10)
        expectSameModel(streamed.model, memory.model)
        #expect(memory.model.schema.features.first { $0.column == "region" }?.kind == .categorical)
    }

    /// Mostly digits with words after row 1,200: a metric with stray cells, refused by both routes
    /// with the same first offending cell (the streamed pieces merge their sightings in file order).
    @Test func aMostlyNumericColumnIsRefusedStreamedAsInMemory() throws {
        let path = try SimulatedFile.write(rows: 2_000, seed: 3, regionSwitchesAt: 1_200)
        let roles = ColumnRoles(target: "churned", id: "customer", weights: "w")
        var clock = Timings()
        var streaming = StreamingOptions()
        streaming.chunkBytes = 8 << 10
        let runs: [() throws -> FitOutcome] = [
            { try FitPipeline.fit(FitSpec(roles: roles), .file(path), timings: &clock) },
            { try FitPipeline.fit(FitSpec(roles: roles), .file(path), run: FitRun(streaming: streaming), timings: &clock) },
        ]
        for run in runs {
            #expect {
                _ = try run()
            } throws: {
                let text = "\($0)"
                return text.contains("column 'region'") && text.contains("at row 1201 (line 1202)") && text.contains("--categorical region")
            }
        }
        var declared = roles
        declared.categorical = ["region"]
        let (memory, streamed) = try both(path, declared, chunkBytes: 8 << 10)
        expectSameModel(streamed.model, memory.model)
    }

    @Test func optionsThatNeedEveryRowAreRefusedInOneLine() throws {
        let path = Fixtures.dataset("mlc_churn.csv")
        var clock = Timings()
        let firth = FitSpec(roles: ColumnRoles(target: "churn"), estimator: .firth)
        let robust = FitSpec(roles: ColumnRoles(target: "churn"), covariance: .hc0)
        var grouped = ColumnRoles(target: "churn"); grouped.correlationThreshold = 0.9
        for (spec, words) in [(firth, "firth"), (robust, "hc0"), (FitSpec(roles: grouped), "groups")] {
            #expect {
                _ = try FitPipeline.fit(spec, .file(path), run: FitRun(streaming: StreamingOptions()), timings: &clock)
            } throws: { error in
                let text = "\(error)"
                return text.contains("--streaming does not support") && text.contains(words) && text.contains("Fix:") && !text.contains("\n")
            }
        }
    }

    @Test func badRowsAreNamedByTheirRecordInTheWholeFile() throws {
        let dir = Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("neg.csv").path
        var text = "x,w,y\n"
        for i in 0..<2_000 { text += "\(i % 7),\(i == 1_733 ? -1 : 1),\(i % 3 == 0 ? 1 : 0)\n" }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        var clock = Timings()
        var streaming = StreamingOptions(); streaming.chunkBytes = 1 << 10
        #expect {
            _ = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "y", weights: "w")), .file(path), run: FitRun(streaming: streaming), timings: &clock)
        } throws: { error in "\(error)".contains("row 1734 (line 1735)") && "\(error)".contains("negative weight") }
    }

    @Test func momentsMergedOverPiecesEqualThoseOfTheWhole() {
        var random = SeededRandom(seed: 11)
        let values = (0..<10_001).map { i in i % 17 == 0 ? Double.nan : exp(3 * random.normal()) }
        let whole = Moments(values, thirdMoment: true)
        for size in [1, 2, 50, 999] {
            var merged = Moments()
            var start = 0
            while start < values.count {
                merged.merge(Moments(Array(values[start..<min(start + size, values.count)]), thirdMoment: true))
                start += size
            }
            #expect(merged.count == whole.count && merged.minimum == whole.minimum && merged.maximum == whole.maximum)
            #expect(relativeError(merged.mean, whole.mean) <= 1e-13)
            #expect(relativeError(merged.sd, whole.sd) <= 1e-13)
            #expect(relativeError(merged.skewness, whole.skewness) <= 1e-11)
        }
        #expect(Moments([1e308, -1e308, 1e308]).sd.isFinite)
    }
}

/// A churn file with what streaming must merge: a categorical with a rare level, missing numbers,
/// a skewed count, sample weights and repeated customers.
enum SimulatedFile {
    static func write(rows: Int, seed: UInt64, regionSwitchesAt: Int? = nil) throws -> String {
        var random = SeededRandom(seed: seed)
        var text = "customer,plan,region,logins,tickets,tenure,w,churned\n"
        let plans = ["basic", "pro", "team", "enterprise"]
        for i in 0..<rows {
            let u = random.uniform()
            let plan = u < 0.01 ? "rare" : plans[Int(random.uniform() * 4)]
            let region = regionSwitchesAt.map { i < $0 ? String(1 + i % 3) : ["north", "south"][i % 2] } ?? ["north", "south", "east"][i % 3]
            let logins = random.uniform() < 0.03 ? "NA" : String(format: "%.3f", 20 + 6 * random.normal())
            let tickets = Int(exp(1.2 * random.normal()))
            let tenure = random.uniform() < 0.02 ? "" : String(Int(random.uniform() * 60))
            let w = i % 100 == 99 ? "NA" : String(format: "%.2f", 0.5 + random.uniform())
            let eta = -1 + 0.05 * ((Double(logins) ?? 20) - 20) + 0.3 * log1p(Double(tickets)) + (plan == "basic" ? 0.4 : 0)
            let y = random.uniform() < 1 / (1 + exp(-eta)) ? 1 : 0
            text += "C\(i / 3),\(plan),\(region),\(logins),\(tickets),\(tenure),\(w),\(y)\n"
        }
        let path = Fixtures.temporaryDirectory().appendingPathComponent("simulated.csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
