import ArgumentParser
import CommandSupport
import Evaluation
import FitEngine
import Foundation
import Accuracy
import ScoringCore
import Tabular
import Training
import Support

/// How a comparison splits the rows: K-fold CV, or a time backtest when --horizon is given.
struct SplitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Churn look-ahead of the label (e.g. 1m, 3m, 2w, 30d, or periods for integer times): with --time, run a time backtest whose training rows' outcome windows close before each test window opens.", valueName: "h"))
    var horizon: String?

    @Option(name: .customLong("backtest-folds"), help: "Time backtest: the most recent N test windows (default: up to 6).")
    var backtestFolds: Int?

    @Option(name: .customLong("test-window"), help: "Time backtest: length of each test window (default: one snapshot period).")
    var testWindow: String?

    @Option(name: .customLong("min-train-periods"), help: "Time backtest: fewest distinct snapshot times a training part may have.")
    var minTrainPeriods: Int = 3

    @Option(help: "Cross-validation folds (stratified on the label, grouped by --id).")
    var folds: Int = 5

    @Option(help: "Repeat the cross-validation with different splits.")
    var repeats: Int = 1

    @Option(help: "Seed for the splits (and inner λ cross-validation).")
    var seed: UInt64 = 1

    @Flag(help: "No progress lines on standard error.")
    var quiet = false

    /// The splits as the library takes them.
    var plan: ComparisonSplits {
        ComparisonSplits(horizon: horizon, backtestFolds: backtestFolds, testWindow: testWindow, minTrainPeriods: minTrainPeriods,
                         folds: folds, repeats: repeats, seed: seed)
    }

    func validate() throws {
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard minTrainPeriods >= 1 else { throw ValidationError("--min-train-periods must be at least 1") }
        if let backtestFolds, backtestFolds < 1 { throw ValidationError("--backtest-folds must be at least 1") }
        if let horizon { _ = try Horizon.parse(horizon) }
        if let testWindow { _ = try Horizon.parse(testWindow, name: "--test-window") }
    }
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare scorecards and models on identical out-of-sample folds: AUC with DeLong tests, log loss, Brier, calibration, lift, band churn rates.",
        discussion: """
        Each --candidate is NAME=SPEC, where SPEC is a scorecard (.yaml, or scorecard:FILE), a fitted model \
        (.json, or model:FILE; refitted on every fold with its own recipe — frozen:FILE uses it as it is) or a fit recipe refitted on every fold: fit, penalty=l2,lambda=auto, \
        penalty=l1,lambda=0.01, penalty=elasticnet,alpha=0.5,lambda=auto, penalty=firth, config=FILE, auto-transform, \
        inner-folds=K (the folds of lambda=auto's inner cross-validation; default 5). The first candidate is the baseline \
        of the paired DeLong tests.
        """)

    @Argument(help: "Churn history CSV.")
    var data: String

    @Option(help: ArgumentHelp("A contender, NAME=SPEC (repeatable; at least one).", valueName: "name=spec"))
    var candidate: [String] = []

    @OptionGroup var roles: DataRoleOptions
    @OptionGroup var splits: SplitOptions
    @OptionGroup var report: ReportOptions

    @Option(help: "Also write one CSV row per candidate here.")
    var csv: String?

    func validate() throws {
        if candidate.isEmpty { throw ValidationError("give at least one --candidate NAME=SPEC, e.g. --candidate fitted=fit") }
        if splits.horizon != nil && roles.time == nil && roles.config == nil {
            throw ValidationError("--horizon needs --time COL (the snapshot date) for a time backtest")
        }
    }

    func run() throws {
        try runComparison(data: data, specs: candidate, roles: roles, splits: splits, report: report, csv: csv)
    }
}

struct Backtest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time backtest of the health formula: expanding-window folds, each trained only on snapshots whose outcome window closed before its test window opened.",
        discussion: "Needs --time (the snapshot date) and --horizon (the label's look-ahead, e.g. 1m). Candidates are given as in 'compare'.")

    @Argument(help: "Churn history CSV with one row per customer snapshot.")
    var data: String

    @Option(help: ArgumentHelp("A contender, NAME=SPEC as in 'compare' (default: fitted=fit).", valueName: "name=spec"))
    var candidate: [String] = []

    @OptionGroup var roles: DataRoleOptions
    @OptionGroup var splits: SplitOptions
    @OptionGroup var report: ReportOptions

    @Option(help: "Also write one CSV row per candidate here.")
    var csv: String?

    func validate() throws {
        if splits.horizon == nil { throw ValidationError("backtest needs --horizon (the label's look-ahead, e.g. 1m or 3m)") }
        if roles.time == nil && roles.config == nil { throw ValidationError("backtest needs --time COL (the snapshot date)") }
    }

    func run() throws {
        try runComparison(data: data, specs: candidate.isEmpty ? ["fitted=fit"] : candidate, roles: roles, splits: splits, report: report, csv: csv)
    }
}

/// `compare` and `backtest`: parse the candidates, run, print.
func runComparison(data: String, specs: [String], roles: DataRoleOptions, splits: SplitOptions, report: ReportOptions, csv: String?) throws {
    let candidates = try specs.map(Candidate.parse)
    try AtomicFile.checkOutputs([("--csv", csv)], inputs: [("the data file", data), ("--config", roles.config)]
                                    + candidates.flatMap { c in c.inputPaths.map { ("--candidate \(c.name)", $0) } })
    // A model used as it is, judged on the file it was fitted on, is judged in sample.
    let digest = try? FileDigest.sha256Hex(path: data)
    for c in candidates {
        if case .model(let m, _, true) = c.kind, m.training.sha256 == digest {
            AfterSuccess.warnings.append("healthscore compare: warning: candidate '\(c.name)' is used as it is and was fitted on \(data) itself: its \"out-of-sample\" figures are in sample and flatter it; judge it on a later file, or refit it per fold (model:FILE)")
        }
    }
    let names = candidates.map(\.name)
    if Set(names).count != names.count { throw ValidationError("candidate names must differ (got \(names.joined(separator: ", ")))") }
    let progress = Progress(enabled: !splits.quiet && !report.json)
    let output = try ComparisonRun(data: data, roles: try roles.resolved(), naValues: roles.naValues, candidates: candidates,
                                   splits: splits.plan, bands: try report.healthBands(), options: report.evaluationOptions)
        .execute(progress: progress.update)
    progress.finish()
    try emit(output, report: report, csvPath: csv)
}

func emit(_ output: ComparisonOutput, report: ReportOptions, csvPath: String?) throws {
    if let csvPath { try AtomicFile.write(Data(ReportText.comparisonCSV(output.comparison).utf8), to: csvPath) }
    if report.json {
        try printJSON(output)
    } else {
        print(ReportText.comparison(output.comparison), terminator: "")
        if let plan = output.timeFolds {
            print("\nBacktest folds (horizon \(plan.horizon); train on snapshots whose outcome closed before the test window):")
            for f in plan.folds {
                print("  fold \(f.fold): test [\(f.testStart), \(f.testEnd)) \(f.test.rows) rows / \(f.test.customers.map(String.init) ?? "?") customers; train \(f.trainFirstSnapshot) … \(f.trainLastSnapshot), \(f.train.rows) rows; embargoed \(f.embargoed.rows) rows")
            }
            for s in plan.skipped { print("  skipped [\(s.testStart), \(s.testEnd)): \(s.reason)") }
        }
    }
}

/// One overwritten line on a terminal's standard error; silent when it is not a terminal.
final class Progress {
    let enabled: Bool
    private var shown = false
    init(enabled: Bool) { self.enabled = enabled && isatty(STDERR_FILENO) == 1 }
    func update(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
        shown = true
    }
    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
