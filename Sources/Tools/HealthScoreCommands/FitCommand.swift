import ArgumentParser
import CommandSupport
import FitEngine
import Foundation
import Support
import ScoringCore
import Tabular
import Training

extension Estimator.Penalty: ExpressibleByArgument {}

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit logistic-regression health-score weights from a churn history CSV.",
        discussion: "Prints a summary with standard errors, 95% intervals, the change in churn probability per metric, fit statistics and warnings.")

    @Argument(help: "Churn history CSV: one row per customer (or customer-month), a header row.")
    var data: String

    @Argument(help: ArgumentHelp("With --streaming or --distributed: more CSV files with the same header, fitted as if appended to the first.", valueName: "more-data"))
    var moreData: [String] = []

    @OptionGroup var roles: DataRoleOptions
    @OptionGroup var scoring: ScoringOptions

    @Option(help: "Write the model artifact (JSON) here.")
    var out: String?

    @Option(help: ArgumentHelp("Write the correlation matrix of the model's terms (CSV) here; the summary lists pairs with |r| ≥ 0.8.", valueName: "file.csv"))
    var correlations: String?

    @Flag(help: "Print the model artifact as JSON instead of the summary.")
    var json = false

    @Flag(help: "Print nothing but errors (with --out: just write the model); no progress lines.")
    var quiet = false

    @Flag(help: "Print phase timings (ingest, design, fit) to stderr.")
    var timings = false

    @Flag(help: "Read the file in chunks, once per pass, instead of holding it: for files larger than memory. Maximum likelihood with model standard errors only; the separation check is not run.")
    var streaming = false

    @Flag(help: "Split the rows (of one CSV or a list) across the ranks of an mpirun job, or with --lambda auto its folds (a build with --traits MPI); rank 0 writes the output.")
    var distributed = false

    @Option(help: "Newton iterations at most.")
    var maxIterations: Int = 100

    @Option(help: "none (maximum likelihood), firth (bias-reduced; finite weights under separation), or l2, l1, elasticnet (glmnet's objective; needs --lambda).")
    var penalty: Estimator.Penalty = .none

    @Option(help: ArgumentHelp("Constrain a term, e.g. --bound 'logins<=0' (more logins may not raise churn) or --bound 'days_late>=0'; repeatable. Binding bounds are reported.", valueName: "term<=v|term>=v"))
    var bound: [String] = []

    @Option(help: "Elastic-net mix: 0 = ridge, 1 = lasso (default: 0 for l2, 1 for l1, 0.5 for elasticnet).")
    var alpha: Double?

    @Option(help: "Penalty strength λ for l2/l1/elasticnet on glmnet's scale (deviance/2n + λ·penalty on standardised metrics), or auto: K-fold cross-validation, folds grouped by --id.")
    var lambda: LambdaChoice?

    @Option(help: "Folds for --lambda auto (default: 10).")
    var folds: Int?

    @Option(help: "Seed for the fold split of --lambda auto (default: 1).")
    var seed: UInt64?

    @Option(name: .customLong("lambda-select"), help: "With --lambda auto: min (lowest CV deviance) or 1se (sparsest within one standard error; the default).")
    var lambdaSelect: LambdaSelection?

    @Option(help: ArgumentHelp("Standard errors: model (inverse information), hc0, hc1 (heteroskedasticity-robust) or cluster:COL (cluster-robust, e.g. cluster:customer_id for repeated snapshots).",
                               valueName: "kind"))
    var covariance: String = "model"

    func validate() throws {
        for b in bound where TermBound(parsing: b) == nil {
            throw ValidationError("--bound '\(b)' is not TERM<=VALUE or TERM>=VALUE")
        }
        if !moreData.isEmpty && !streaming && !distributed {
            // A mistyped option's value (`--lamda auto`) lands here as a second file: say so.
            if let stray = moreData.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
                throw ValidationError("'\(stray)' is not a data file; is it the value of a mistyped option? (the arguments after the data file were \(moreData.map { "'\($0)'" }.joined(separator: " ")))")
            }
            throw ValidationError("several data files go with --streaming or --distributed; for an in-memory fit, concatenate them into one CSV")
        }
        if streaming && penalty != .none { throw ValidationError("--streaming fits by maximum likelihood only; drop --penalty \(penalty.rawValue) or fit in memory") }
        if streaming && correlations != nil { throw ValidationError("--streaming does not write --correlations; fit in memory for the correlation matrix") }
        let crossValidationFlags = [("--folds", folds != nil), ("--seed", seed != nil), ("--lambda-select", lambdaSelect != nil)].filter(\.1).map(\.0)
        if !crossValidationFlags.isEmpty && lambda != .auto {
            throw ValidationError("\(crossValidationFlags.joined(separator: " and ")) \(crossValidationFlags.count == 1 ? "goes" : "go") with --lambda auto (λ chosen by cross-validation): add --penalty l2 --lambda auto, or drop \(crossValidationFlags.count == 1 ? "it" : "them")")
        }
        // The spec's own check, on what the flags make of it before any file is read.
        let (covariance, cluster) = try covarianceChoice()
        var draft = FitSpec(roles: ColumnRoles(target: ""), estimator: estimator, covariance: covariance, maxIterations: maxIterations)
        draft.roles.cluster = cluster
        draft.bounds = bound.compactMap(TermBound.init(parsing:))
        if let problem = draft.problem { throw ValidationError(problem) }
    }

    /// The estimator the flags describe.
    var estimator: Estimator {
        var e = Estimator(penalty: penalty, alpha: alpha)
        switch lambda {
        case .value(let v)?: e.lambda = v
        case .auto?: e.crossValidation = .init(folds: folds ?? 10, seed: seed ?? 1, select: lambdaSelect ?? .oneSE)
        case nil: break
        }
        return e
    }

    /// The standard errors asked for and, for cluster:COL, the grouping column.
    func covarianceChoice() throws -> (CovarianceChoice, String?) {
        switch covariance {
        case "model": return (.model, nil)
        case "hc0": return (.hc0, nil)
        case "hc1": return (.hc1, nil)
        default:
            if covariance.hasPrefix("cluster:"), case let column = String(covariance.dropFirst("cluster:".count)), !column.isEmpty {
                return (.cluster, column)
            }
            throw ValidationError("--covariance must be model, hc0, hc1 or cluster:COLUMN (got '\(covariance)')")
        }
    }

    /// The fit the flags and the metric configuration describe: the one place they meet.
    func spec() throws -> FitSpec {
        var roles = try self.roles.resolved()
        let (covariance, cluster) = try covarianceChoice()
        roles.cluster = cluster
        return try FitSpec(roles: roles, naValues: self.roles.naValues, estimator: estimator,
                           bounds: bound.compactMap(TermBound.init(parsing:)), covariance: covariance,
                           maxIterations: maxIterations, scoring: try scoring.choice()).validated()
    }

    func run() throws {
        try AtomicFile.checkOutputs([("--out", out), ("--correlations", correlations)],
                                    inputs: ([data] + moreData).map { ("the data file", $0) } + [("--config", roles.config)])
        if distributed { try runDistributed() }
        var clock = Timings()
        let progressLine = Progress(enabled: !quiet && !json)
        var run = FitRun(correlations: correlations != nil)
        if streaming { run.streaming = StreamingOptions() }
        run.progress = { progressLine.update("cross-validation fold \($0)/\($1): λ path") }
        let outcome = try FitPipeline.fit(try spec(), streaming ? .files([data] + moreData) : .file(data), run: run, timings: &clock)
        progressLine.finish()
        if let correlations, let matrix = outcome.correlations {
            try AtomicFile.write(Data(matrix.csv().utf8), to: correlations)
        }
        try emit(outcome.model, clock: clock, iterationSeconds: outcome.iterationSeconds, written: "",
             timingTail: "blas_core=\(BLASInfo.coreName) blas_threads=\(BLASInfo.threads)") {
            if let cv = outcome.cv { printPathTable(cv) }
        }
    }

    /// Writes `--out`, prints the summary or JSON, and the `--timings` lines: one ending for every way of fitting.
    func emit(_ model: ModelArtifact, clock: Timings, iterationSeconds: [Double], written: String, timingTail: String,
              afterSummary: () -> Void = {}) throws {
        let encoded = try model.encoded()
        if let out {
            try AtomicFile.write(encoded, to: out)
        }
        if json {
            StandardOutput.write(encoded)
            print()
        } else if !quiet {
            print(ModelSummary.render(model), terminator: "")
            afterSummary()
            if let out { print("Model written to \(out)\(written)") }
        }
        if timings {
            for (name, seconds) in clock.phases { printError("timing \(name)_seconds=\(String(format: "%.4f", seconds))") }
            let perIteration = iterationSeconds.map { String(format: "%.4f", $0) }.joined(separator: ",")
            printError("timing newton_iteration_seconds=\(perIteration)")
            printError("timing \(timingTail) iterations=\(model.fit.iterations)")
        }
    }
}
