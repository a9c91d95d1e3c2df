import ArgumentParser
import CommandSupport
import FitEngine
import Foundation
import ScoringCore
import Tabular
import Training

enum PenaltyChoice: String, ExpressibleByArgument, CaseIterable {
    case none, firth, l2, l1, elasticnet

    var defaultAlpha: Double { self == .l2 ? 0 : (self == .l1 ? 1 : 0.5) }
}

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
    var penalty: PenaltyChoice = .none

    @Option(help: ArgumentHelp("Constrain a term, e.g. --bound 'logins<=0' (more logins may not raise churn) or --bound 'days_late>=0'; repeatable. Binding bounds are reported.", valueName: "term<=v|term>=v"))
    var bound: [String] = []

    @Option(help: "Elastic-net mix: 0 = ridge, 1 = lasso (default: 0 for l2, 1 for l1, 0.5 for elasticnet).")
    var alpha: Double?

    @Option(help: "Penalty strength λ for l2/l1/elasticnet on glmnet's scale (deviance/2n + λ·penalty on standardised metrics), or auto: K-fold cross-validation, folds grouped by --id.")
    var lambda: LambdaChoice?

    @Option(help: "Folds for --lambda auto.")
    var folds: Int = 10

    @Option(help: "Seed for the fold split of --lambda auto.")
    var seed: UInt64 = 1

    @Option(name: .customLong("lambda-select"), help: "With --lambda auto: min (lowest CV deviance) or 1se (sparsest within one standard error).")
    var lambdaSelect: LambdaSelection = .oneSE

    @Option(help: ArgumentHelp("Standard errors: model (inverse information), hc0, hc1 (heteroskedasticity-robust) or cluster:COL (cluster-robust, e.g. cluster:customer_id for repeated snapshots).",
                               valueName: "kind"))
    var covariance: String = "model"

    func validate() throws {
        guard maxIterations >= 1 else { throw ValidationError("--max-iterations must be at least 1") }
        _ = try covarianceChoice()
        for b in bound where TermBound(parsing: b) == nil {
            throw ValidationError("--bound '\(b)' is not TERM<=VALUE or TERM>=VALUE")
        }
        if !bound.isEmpty && penalty == .firth { throw ValidationError("--bound goes with --penalty none, l2, l1 or elasticnet (not firth)") }
        if !moreData.isEmpty && !streaming && !distributed {
            // A mistyped option's value (`--lamda auto`) lands here as a second file: say so.
            if let stray = moreData.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
                throw ValidationError("'\(stray)' is not a data file; is it the value of a mistyped option? (the arguments after the data file were \(moreData.map { "'\($0)'" }.joined(separator: " ")))")
            }
            throw ValidationError("several data files go with --streaming or --distributed; for an in-memory fit, concatenate them into one CSV")
        }
        if streaming && penalty != .none { throw ValidationError("--streaming fits by maximum likelihood only; drop --penalty \(penalty.rawValue) or fit in memory") }
        if streaming && correlations != nil { throw ValidationError("--streaming does not write --correlations; fit in memory for the correlation matrix") }
        switch penalty {
        case .none, .firth:
            guard alpha == nil, lambda == nil else { throw ValidationError("--alpha and --lambda go with --penalty l2, l1 or elasticnet") }
        case .l2, .l1, .elasticnet:
            guard let lambda else {
                throw ValidationError("--penalty \(penalty.rawValue) needs --lambda: a number ≥ 0, or auto")
            }
            if lambda == .auto && folds < 2 { throw ValidationError("--folds must be at least 2") }
            if let alpha, !(0...1).contains(alpha) { throw ValidationError("--alpha must be between 0 and 1") }
            guard covariance == "model" else { throw ValidationError("--covariance does not apply to penalised fits (no standard errors are reported)") }
        }
    }

    /// The estimator and, for cluster:COL, the grouping column.
    func covarianceChoice() throws -> (CovarianceEstimator, String?) {
        switch covariance {
        case "model": return (.model, nil)
        case "hc0": return (.hc0, nil)
        case "hc1": return (.hc1, nil)
        default:
            if covariance.hasPrefix("cluster:"), case let column = String(covariance.dropFirst("cluster:".count)), !column.isEmpty {
                return (.cluster(codes: []), column)
            }
            throw ValidationError("--covariance must be model, hc0, hc1 or cluster:COLUMN (got '\(covariance)')")
        }
    }

    func run() throws {
        try AtomicFile.checkOutputs([("--out", out), ("--correlations", correlations)],
                                    inputs: ([data] + moreData).map { ("the data file", $0) } + [("--config", roles.config)])
        if distributed { try runDistributed() }
        var options = FitOptions()
        options.maxIterations = maxIterations
        let (estimator, clusterColumn) = try covarianceChoice()
        options.covariance = estimator
        options.firth = penalty == .firth
        var clock = Timings()
        let model: ModelArtifact
        var iterationSeconds: [Double] = []
        var cvResult: CVResult? = nil
        let progressLine = Progress(enabled: !quiet && !json)
        let termBounds = bound.compactMap(TermBound.init(parsing:))
        var columnRoles = try roles.resolved()
        columnRoles.scoring = try scoring.choice()
        columnRoles.cluster = clusterColumn
        if let lambda, [.l2, .l1, .elasticnet].contains(penalty) {
            let mix = alpha ?? penalty.defaultAlpha
            switch lambda {
            case .auto:
                let result = try FitPipeline.runCrossValidated(dataPath: data, roles: columnRoles, naValues: roles.naValues,
                                                               alpha: mix, folds: folds, seed: seed, select: lambdaSelect,
                                                               bounds: termBounds,
                                                               progress: { progressLine.update("cross-validation fold \($0)/\($1): λ path") },
                                                               timings: &clock)
                progressLine.finish()
                model = result.model
                cvResult = result.cv
            case .value(let value):
                model = try FitPipeline.runPenalized(dataPath: data, roles: columnRoles, naValues: roles.naValues,
                                                     penalty: ElasticNetPenalty(alpha: mix, lambda: value), bounds: termBounds,
                                                     timings: &clock).model
            }
        } else if streaming {
            let result = try FitPipeline.runStreaming(dataPaths: [data] + moreData, roles: columnRoles, naValues: roles.naValues, options: options,
                                                      bounds: termBounds, timings: &clock)
            model = result.model
            iterationSeconds = result.fit.history.map(\.seconds)
        } else {
            let result = try FitPipeline.run(dataPath: data, roles: columnRoles, naValues: roles.naValues, options: options,
                                             bounds: termBounds, correlations: correlations != nil,
                                             timings: &clock)
            model = result.model
            if let correlations, let matrix = result.correlations {
                try AtomicFile.write(Data(matrix.csv().utf8), to: correlations)
            }
            iterationSeconds = result.fit.history.map(\.seconds)
        }
        try emit(model, clock: clock, iterationSeconds: iterationSeconds, written: "",
             timingTail: "blas_core=\(BLASInfo.coreName) blas_threads=\(BLASInfo.threads)") {
            if let cvResult { printPathTable(cvResult) }
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
