import Foundation
import Support
import Testing
@testable import Evaluation
import MetricConfig
import Accuracy
import Scorecards
import ScoringCore
import Tabular
import TestSupport
import Training

/// `evaluate` and `compare` end to end: the numbers match the references, the candidates are
/// judged on identical rows, and nothing of a test fold reaches its training part.
@Suite struct ComparisonTests {
    static let mlc = Fixtures.dataset("mlc_churn.csv")
    static let history = Fixtures.dataset("simulated_history.csv")

    /// The plain fit on mlc_churn reproduces R's glm, so its in-sample evaluation must equal pROC's
    /// numbers on R's fitted probabilities (Tests/Reference/README.md) to 1e-9.
    @Test func evaluateMatchesPROCOnRsOwnModel() throws {
        let dir = Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("m.json").path
        var clock = Timings()
        let model = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(Self.mlc), timings: &clock).model
        try AtomicFile.write(try model.encoded(), to: path)
        let r = try ModelEvaluation.run(modelPath: path, dataPath: Self.mlc, target: nil, positive: nil)
        #expect(r.rows == 5000 && r.note != nil)  // its own training file: flagged as in-sample
        let e = r.evaluation
        #expect(abs(e.roc.auc - 0.841073145949) < 1e-9)
        #expect(abs(e.roc.lower - 0.825129663208) < 1e-9 && abs(e.roc.upper - 0.857016628689) < 1e-9)
        #expect(abs(e.logLoss - 0.305386892951) < 1e-9)
        #expect(abs(e.brierScore - 0.092462080395) < 1e-9)
        // In-sample logistic fit with an intercept: mean prediction = churn rate, recalibration slope 1.
        #expect(abs(e.calibration!.intercept) < 1e-6 && abs(e.calibration!.slope - 1) < 1e-6)
        #expect(e.bands?.map(\.count).reduce(0, +) == 5000)
    }

    static func runComparison(_ specs: [String], seed: UInt64 = 1) throws -> ComparisonReport {
        let candidates = try specs.map(Candidate.parse)
        var roles = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: .impute)
        roles.exclude = []
        var csv = CSVOptions()
        csv.textColumns = ["churned_next_month", "customer_id", "snapshot_date", "plan", "segment"]
        let table = try CSVReader.read(path: history, options: csv)
        let (rows, excluded) = try Comparison.usableRows(table, roles: roles, candidates: candidates)
        let part = table.subset(rows: rows)
        let labels = try DesignBuilder.label(part, target: roles.target, positive: nil).values
        let customers = try FoldInputs.customerKeys(part.column(named: "customer_id")!)
        let plan = try RepeatedFolds.make(labels: labels, customers: customers, k: 4, repeats: 1, seed: seed)
        // The property the comparison rests on: no customer on both sides of any fold.
        for f in plan.splits {
            #expect(Set(f.train.map { customers[$0] }).isDisjoint(with: Set(f.test.map { customers[$0] })))
        }
        let splits = plan.splits.map { EvaluationSplit(label: "fold \($0.fold + 1)", train: $0.train, test: $0.test) }
        return try Comparison.run(table: table, rows: rows, excluded: excluded, roles: roles, naValues: FitPipeline.defaultNAValues,
                                  candidates: candidates, splits: splits, design: "4-fold CV", seed: seed)
    }

    /// A heavily penalised fit's flat probabilities are named in the verdict (the table's ECE hides
    /// them when churn is rare); a plain fit's are not.
    @Test func aFlatCandidateIsNamedUnderConfident() throws {
        let report = try Self.runComparison(["plain=fit", "flat=penalty=l2,lambda=0.1"])
        let plain = try #require(report.candidates.first { $0.name == "plain" }?.pooled.calibration?.slope)
        let flat = try #require(report.candidates.first { $0.name == "flat" }?.pooled.calibration?.slope)
        #expect(flat > 1.25 && abs(plain - 1) < 0.25, "slopes \(plain), \(flat)")
        #expect(report.verdict.contains("flat: probabilities under-confident out of sample (calibration slope \(String(format: "%.2f", flat))"))
        #expect(!report.verdict.contains("plain: probabilities"))
    }

    static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    /// `compare` and `backtest` as a library call: the CV run gives exactly the figures of the same
    /// folds assembled by hand, and a backtest trains every fold only on snapshots before its test window.
    @Test func comparisonRunIsTheCommandWithoutItsPrinting() throws {
        let roles = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: .impute)
        let cv = try ComparisonRun(data: Self.history, roles: roles, naValues: FitPipeline.defaultNAValues,
                                   candidates: [try Candidate.parse("fitted=fit")], splits: ComparisonSplits(folds: 4, seed: 7),
                                   bands: HealthBands(), options: EvaluationOptions()).execute()
        let byHand = try Self.runComparison(["fitted=fit"], seed: 7)
        #expect(try Self.json(cv.comparison.candidates) == Self.json(byHand.candidates))
        #expect(cv.crossValidation?.k == 4 && cv.crossValidation?.grouped == true && cv.timeFolds == nil)
        #expect(cv.comparison.design.contains("4-fold cross-validation") && cv.comparison.design.contains("seed 7"))

        let backtest = try ComparisonRun(data: Self.history, roles: roles, naValues: FitPipeline.defaultNAValues,
                                         candidates: [try Candidate.parse("fitted=fit")],
                                         splits: ComparisonSplits(horizon: "1m", backtestFolds: 3),
                                         bands: HealthBands(), options: EvaluationOptions()).execute()
        let plan = try #require(backtest.timeFolds)
        #expect(plan.folds.count == 3 && backtest.crossValidation == nil)
        for f in plan.folds {
            #expect(f.trainLastSnapshot < f.testStart, "fold \(f.fold) trains on \(f.trainLastSnapshot), tests from \(f.testStart)")
            #expect(f.train.rows > 0 && f.test.rows > 0)
        }
        #expect(backtest.comparison.candidates[0].splits.count == 3)
    }

    /// The README's comparison: scorecard vs plain fit vs ridge with λ by inner CV.
    @Test func scorecardVersusFittedModels() throws {
        let card = Fixtures.dataset("current_scorecard.yaml")
        let report = try Self.runComparison(["current=\(card)", "fitted=fit", "ridge=penalty=l2,lambda=auto,inner-folds=3"])
        #expect(report.rows == 14323)
        #expect(report.candidates.map(\.name) == ["current", "fitted", "ridge"])
        for c in report.candidates {
            #expect(c.pooled.count == 14323 && c.splits.count == 4)
            #expect(c.pooled.roc.auc > 0.75 && c.pooled.roc.auc < 0.95)
            #expect(c.pooled.logLoss.isFinite && c.pooled.brierScore > 0)
        }
        #expect(report.candidates[0].versusFirst == nil)
        let fitted = try #require(report.candidates[1].versusFirst)
        // The fitted formula ranks better than the hand weights on this history (its data follow a logistic model).
        #expect(fitted.auc1 > fitted.auc2 && fitted.pValue < 0.05)
        #expect(report.verdict.contains("fitted ranks churners better than current"))
        let text = ReportText.comparison(report)
        #expect(text.contains("current") && text.contains("ridge") && text.contains("p vs first"))
        #expect(ReportText.comparisonCSV(report).split(separator: "\n").count == 4)
    }

    @Test func sameSeedSameNumbers() throws {
        let a = try Self.runComparison(["fitted=fit"], seed: 7)
        let b = try Self.runComparison(["fitted=fit"], seed: 7)
        #expect(a.candidates[0].pooled.roc.auc == b.candidates[0].pooled.roc.auc)
        #expect(a.candidates[0].pooled.logLoss == b.candidates[0].pooled.logLoss)
    }

    /// A scorecard's calibration is a monotone map of its score, fitted on training rows only.
    @Test func scorecardCalibrationIsMonotoneAndFittedOnTraining() throws {
        let card = try Scorecard.load(path: Fixtures.dataset("current_scorecard.yaml"))
        var csv = CSVOptions()
        csv.textColumns = ["plan", "segment", "customer_id", "snapshot_date"]
        let table = try CSVReader.read(path: Self.history, options: csv)
        let train = table.subset(rows: Array(0..<7000)), test = table.subset(rows: Array(7000..<table.rowCount))
        var roles = ColumnRoles(target: "churned_next_month")
        roles.id = "customer_id"
        let out = try Candidate(name: "card", kind: .scorecard(card, path: "card.yaml"))
            .predict(train: train, test: test, base: FitSpec(roles: roles), seed: 1)
        #expect(out.probability.count == test.rowCount)
        let order = out.health.indices.sorted { out.health[$0] < out.health[$1] }
        for (a, b) in zip(order, order.dropFirst()) { #expect(out.probability[a] >= out.probability[b]) }
        #expect(out.risk.enumerated().allSatisfy { $0.element == -out.health[$0.offset] })
    }

    @Test func badCandidateSpecsAreClear() {
        #expect { _ = try Candidate.parse("nameonly") } throws: { "\($0)".contains("NAME=SPEC") }
        #expect { _ = try Candidate.parse("x=penalty=l2") } throws: { "\($0)".contains("lambda") }
        #expect { _ = try Candidate.parse("x=penalty=ridge,lambda=1") } throws: { "\($0)".contains("penalty must be") }
        #expect { _ = try Candidate.parse("x=/nonexistent/card.yaml") } throws: { "\($0)".contains("card.yaml") }
        #expect(throws: Never.self) { _ = try Candidate.parse("x=penalty=elasticnet,alpha=0.3,lambda=auto,auto-transform") }
        // A recipe's estimator is held to the fit command's rule: ridge is α = 0.
        #expect { _ = try Candidate.parse("x=penalty=l2,alpha=0.5,lambda=0.1") } throws: { "\($0)".contains("--penalty elasticnet --alpha 0.5") }
    }

    /// A scorecard's ranking measures come from its own score (no calibration needed).
    @Test func scorecardRanksByItsScore() throws {
        let path = Fixtures.dataset("current_scorecard.yaml")
        let r = try ModelEvaluation.run(modelPath: path, dataPath: Self.history, target: "churned_next_month", positive: nil)
        let card = try Scorecard.load(path: path)
        var csv = CSVOptions()
        csv.textColumns = Set(card.categoricalColumns + ["churned_next_month"])
        let table = try CSVReader.read(path: Self.history, options: csv)
        let health = try card.score(rowCount: table.rowCount, columns: ScoringInput.columns(table, names: card.requiredColumns))
        let y = try DesignBuilder.label(table, target: "churned_next_month", positive: nil).values
        let risk = health.map { -$0 }
        #expect(r.evaluation.roc.auc == (try ROC.auc(labels: y, scores: risk)))
        #expect(r.evaluation.lift == (try Lift.table(labels: y, scores: risk, groups: 10)))
        #expect(r.evaluation.ks == (try ROC.ks(labels: y, scores: risk)))
    }

    /// A model file as a candidate is refitted with its own recipe: on its own training rows that
    /// recipe must give back the very same weights.
    @Test(arguments: ["plain", "l2", "cv"])
    func modelRecipeRefitsToTheSameWeights(_ kind: String) throws {
        let config = try MetricConfiguration.parse("""
        target: churned_next_month
        id: customer_id
        time: snapshot_date
        missing: impute
        impute: median
        rare_level_share: 0.2
        metrics:
          logins: {group: usage, healthier_when: higher, transform: log1p}
          active_days: {group: usage, healthier_when: higher}
          days_late: {healthier_when: lower, transform: clip+log1p}
          plan: {display: Plan}
        """, path: "c.yaml")
        let roles = try ColumnRoles(config: config, target: nil, path: "c.yaml")
        var clock = Timings()
        let model: ModelArtifact
        switch kind {
        case "plain": model = try FitPipeline.fit(FitSpec(roles: roles), .file(Self.history), timings: &clock).model
        case "l2": model = try FitPipeline.fit(FitSpec(roles: roles, estimator: .elasticNet(alpha: 0, lambda: 0.003)), .file(Self.history), timings: &clock).model
        default:
            let cv = Estimator(penalty: .elasticnet, alpha: 0.5, crossValidation: .init(folds: 3))
            model = try FitPipeline.fit(FitSpec(roles: roles, estimator: cv), .file(Self.history), timings: &clock).model
        }
        let decoded = try ModelArtifact.decode(try model.encoded(), path: "m.json")
        var csv = CSVOptions()
        csv.textColumns = ["churned_next_month", "customer_id", "snapshot_date", "plan", "segment"]
        let table = try CSVReader.read(path: Self.history, options: csv)
        let refit = try Candidate.refit(decoded, table: table, naValues: FitPipeline.defaultNAValues, seed: 1)
        #expect(refit.coefficients.map(\.term) == model.coefficients.map(\.term))
        let worst = zip(refit.coefficients, model.coefficients).map { abs($0.estimate - $1.estimate) }.max() ?? .nan
        #expect(worst <= 1e-12, "max |Δβ| \(worst)")
        #expect(refit.schema.features.map(\.column) == model.schema.features.map(\.column))
        #expect(refit.fit.constraints == model.fit.constraints)
    }
}

/// Format-1 files (no stored spec) from the last release: the spec read back from their schema and
/// summary is the one their fit used, so a refit on the same rows gives their weights.
@Suite struct FormatOneSpecTests {
    static let directory = Fixtures.packageRoot.appendingPathComponent("Tests/Artifacts/format1")

    static func load(_ name: String) throws -> ModelArtifact {
        try ModelArtifact.load(path: directory.appendingPathComponent(name).path)
    }

    @Test func theSpecOfEachFileIsReadBack() throws {
        let plain = FitSpec(formatOne: try Self.load("mlc_plain.json"), naValues: FitPipeline.defaultNAValues, seed: 1)
        #expect(plain.estimator == .maximumLikelihood)
        #expect(plain.bounds.contains(TermBound(term: "number_customer_service_calls", lower: 0)))
        #expect(plain.roles.transforms["total_day_minutes"] == [.log1p] && plain.roles.references["area_code"] == "area_code_415")
        let ridge = FitSpec(formatOne: try Self.load("history_ridge_points.json"), naValues: FitPipeline.defaultNAValues, seed: 7)
        #expect(ridge.estimator.penalty == .l2 && ridge.estimator.alpha == 0 && ridge.estimator.lambda == nil)
        #expect(ridge.estimator.crossValidation == .init(folds: 5, seed: 7, select: .oneSE))
        #expect(ridge.scoring.scale.kind == .points && ridge.scoring.scale.roundPoints == true)
        // Its six bounds all come from the configuration's directions: none is explicit.
        #expect(ridge.bounds.isEmpty && ridge.roles.healthierWhen.count == 6)
        let firth = FitSpec(formatOne: try Self.load("history_firth.json"), naValues: FitPipeline.defaultNAValues, seed: 1)
        #expect(firth.estimator == .firth)
        for spec in [plain, ridge, firth] { #expect(spec.problem == nil) }
    }

    @Test func aFormatOneModelRefitsToItsOwnWeights() throws {
        let model = try Self.load("mlc_plain.json")
        #expect(model.spec == nil)
        var csv = CSVOptions()
        csv.textColumns = ["churn", "area_code"]
        let table = try CSVReader.read(path: Fixtures.dataset("mlc_churn.csv"), options: csv)
        let refit = try Candidate.refit(model, table: table, naValues: FitPipeline.defaultNAValues, seed: 1)
        #expect(refit.coefficients.map(\.term) == model.coefficients.map(\.term))
        let worst = zip(refit.coefficients, model.coefficients).map { abs($0.estimate - $1.estimate) / max(1, abs($1.estimate)) }.max() ?? .nan
        // Another build's rounding, amplified by mlc's minute/charge twins (VIF up to 1e7): ~1e-11.
        // A lost transform, reference level or bound moves weights by far more than 1e-9.
        #expect(worst <= 1e-9, "max relative |Δβ| \(worst)")
        #expect(refit.fit.constraints == model.fit.constraints)
    }

    /// A model from other data is refused before any fold, naming its missing columns; a format-1
    /// model's description says what its recipe is.
    @Test func aModelCandidateNamesItsRecipeAndItsMissingColumns() throws {
        var csv = CSVOptions()
        csv.textColumns = ["churned_next_month", "customer_id", "snapshot_date", "plan", "segment"]
        let table = try CSVReader.read(path: Fixtures.dataset("simulated_history.csv"), options: csv)
        let telecom = Candidate(name: "old", kind: .model(try Self.load("mlc_plain.json"), path: "mlc_plain.json", frozen: false))
        #expect { try telecom.requireColumns(in: table) } throws: { error in
            let text = "\(error)"
            return text.contains("--candidate old") && text.contains("'churn'") && text.contains("'state'") && text.contains("(20 in all)")
                && text.contains("old=fit")
        }
        let ridge = Candidate(name: "r", kind: .model(try Self.load("history_ridge_points.json"), path: "history_ridge_points.json", frozen: false))
        try ridge.requireColumns(in: table)
        #expect(ridge.specDescription.contains("refitted with its recipe: ridge, λ by 5-fold CV (1se)"))
        #expect(ridge.specDescription.contains("missing: impute") && ridge.specDescription.contains("points scale"))
        #expect(ridge.specDescription.hasSuffix("(format 1: read back from its summary)"))
    }

    /// A model fitted on every column of its file is refitted on its own metrics, not on the
    /// comparison file's other columns.
    @Test func aRefitKeepsTheModelsOwnMetrics() throws {
        var clock = Timings()
        let roles = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", exclude: ["nps", "plan"])
        let model = try FitPipeline.fit(FitSpec(roles: roles), .file(Fixtures.dataset("simulated_history.csv")), timings: &clock).model
        var stripped = model
        stripped.spec?.roles.exclude = []  // a spec that names no columns: the model's own stand
        var csv = CSVOptions()
        csv.textColumns = ["churned_next_month", "customer_id", "snapshot_date", "plan", "segment"]
        let table = try CSVReader.read(path: Fixtures.dataset("simulated_history.csv"), options: csv)
        let refit = try Candidate.refit(stripped, table: table, naValues: FitPipeline.defaultNAValues, seed: 1)
        #expect(refit.coefficients.map(\.term) == model.coefficients.map(\.term))
    }

    @Test func theRowsLeftOutSayWhichCandidatesFitCompleteCases() throws {
        var csv = CSVOptions()
        csv.textColumns = ["churned_next_month", "customer_id", "snapshot_date", "plan", "segment"]
        let table = try CSVReader.read(path: Fixtures.dataset("simulated_history.csv"), options: csv)
        let roles = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: .impute)
        let old = Candidate(name: "old", kind: .model(try Self.load("mlc_plain.json"), path: "mlc_plain.json", frozen: true))
        let (_, excluded) = try Comparison.usableRows(table, roles: roles, candidates: [try Candidate.parse("fitted=fit"), old])
        let reasons = excluded.keys.filter { $0.hasPrefix("missing ") && $0 != "missing label" }
        #expect(!reasons.isEmpty)
        for r in reasons { #expect(r.contains("old is a model fitted with --missing drop") && !r.contains("fitted,") && !r.contains("for fitted")) }
    }
}

