import Foundation
import FitEngine
import ScoringCore
import Support
import Tabular

/// Where the rows of a fit come from.
public enum FitSource: Sendable {
    /// One CSV file.
    case file(String)
    /// CSV files with one header, fitted as their concatenation (streamed or distributed fits).
    case files([String])
    /// A table already read, e.g. one fold's training rows (its digest is not computed).
    case table(RawTable)

    /// The files to read (none for a table).
    var paths: [String] {
        switch self {
        case .file(let p): return [p]
        case .files(let p): return p
        case .table: return []
        }
    }
}

/// How a fit runs, as opposed to what it is (`FitSpec`): these change the time and memory it takes,
/// not the model (beyond rounding).
public struct FitRun {
    /// Read the file(s) chunk by chunk, once per pass, instead of holding them (maximum likelihood).
    public var streaming: StreamingOptions?
    /// Also compute the correlation matrix of the design's terms (its strong pairs go into the model).
    public var correlations = false
    /// Cross-validation's folds spread over processes (a distributed `--lambda auto`; other estimators fit in each process alone).
    public var foldSharing: FoldSharing?
    /// The elastic net's path length and tolerances.
    public var elasticNet = ElasticNetOptions()
    /// Called as each cross-validation fold starts (fold, folds).
    public var progress: (Int, Int) -> Void = { _, _ in }
    public init(streaming: StreamingOptions? = nil, correlations: Bool = false) {
        self.streaming = streaming; self.correlations = correlations
    }
}

/// A fitted model and what the solver reports beside it.
public struct FitOutcome {
    public var model: ModelArtifact
    /// Maximum likelihood and Firth: the solver's result (iterations, fitted values).
    public var fit: LogisticFit?
    /// Elastic net: the path solver's result at the model's λ.
    public var penalized: PenalizedFit?
    /// `Estimator.crossValidation`: the λ path with its cross-validated deviance.
    public var cv: CVResult?
    public var correlations: TermCorrelations?

    public var iterationSeconds: [Double] { fit?.history.map(\.seconds) ?? [] }
}

/// Rows → design → fit → artifact: the one way a model is made, for the `fit` command, compare's
/// and backtest's candidates, and the streamed and distributed fits.
public enum FitPipeline {
    public static let defaultNAValues = CSVOptions.defaultNAValues

    /// Fits `spec` on `source`. The spec is checked first and stored in the model.
    public static func fit(_ spec: FitSpec, _ source: FitSource, run: FitRun = FitRun(), timings: inout Timings) throws -> FitOutcome {
        let spec = try spec.validated()
        var outcome: FitOutcome
        if run.streaming != nil || source.paths.count > 1 {
            guard !spec.estimator.penalty.isElasticNet else {
                throw Diagnostic(.usage, problem: "--streaming fits by maximum likelihood only; drop --penalty \(spec.estimator.penalty.rawValue) or fit in memory")
            }
            guard !run.correlations else {
                throw Diagnostic(.usage, problem: "--streaming does not write --correlations; fit in memory for the correlation matrix")
            }
            if case .table(let t) = source {
                throw Diagnostic(.usage, file: t.path, problem: "a streamed fit reads files, not a table in memory", fix: "fit the table in memory")
            }
            let result = try streamed(spec, paths: source.paths, streaming: run.streaming ?? StreamingOptions(), timings: &timings)
            outcome = FitOutcome(model: result.model, fit: result.fit)
        } else if let sharing = run.foldSharing, spec.estimator.crossValidation != nil {
            // Every process reads before any waits in a collective: a failed read is agreed on first.
            var prepared: (Design, TrainingSource)? = nil
            var failure: Error? = nil
            do {
                let (design, pending) = try prepare(source, spec: spec, timings: &timings)
                prepared = (design, try pending.resolved(timings: &timings))
            } catch { failure = error }
            try sharing.agree(failure)
            let (design, trainingSource) = prepared!
            outcome = try crossValidated(design: design, source: trainingSource, spec: spec, run: run, sharing: sharing, timings: &timings)
        } else {
            let (design, pending) = try prepare(source, spec: spec, timings: &timings)
            do {
                outcome = try inMemory(design: design, source: pending.unhashed, spec: spec, run: run, timings: &timings)
            } catch { pending.digest?.cancel(); throw error }
            outcome.model.training = try pending.resolved(timings: &timings)
        }
        outcome.model.spec = spec
        return outcome
    }

    /// A design already built (e.g. one fold's training part) fitted by `spec`.
    static func inMemory(design: consuming Design, source: TrainingSource, spec: FitSpec, run: FitRun,
                         timings: inout Timings) throws -> FitOutcome {
        var correlations: TermCorrelations? = nil
        if run.correlations {
            let started = Timings.now()
            correlations = TermCorrelations(copy design)
            timings.record("correlations", since: started)
        }
        let bounds = TermBound.implied(by: design.schema, explicit: spec.bounds)
        var outcome: FitOutcome
        let e = spec.estimator
        if let lambda = e.lambda {
            let (model, fit) = try Trainer.trainPenalized(design: design, source: source, penalty: ElasticNetPenalty(alpha: e.mix, lambda: lambda),
                                                          bounds: bounds, scoring: spec.scoring, timings: &timings)
            outcome = FitOutcome(model: model, penalized: fit)
        } else if e.crossValidation != nil {
            outcome = try crossValidated(design: design, source: source, spec: spec, run: run, sharing: nil, timings: &timings)
        } else {
            let result = try Trainer.train(design: design, source: source, options: spec.fitOptions, bounds: bounds,
                                           scoring: spec.scoring, timings: &timings)
            outcome = FitOutcome(model: result.model, fit: result.fit)
        }
        if let correlations {
            outcome.correlations = correlations
            outcome.model.fit.strongCorrelations = correlations.pairs(atLeast: TermCorrelations.strong)
        }
        return outcome
    }

    /// Reads and designs the rows; a file's SHA-256 is computed on another thread meanwhile, and
    /// the caller joins it (`PendingSource.resolved`) when the artifact needs it.
    static func prepare(_ source: FitSource, spec: FitSpec, timings: inout Timings) throws -> (Design, PendingSource) {
        if case .table(let table) = source {
            let started = Timings.now()
            let design = try DesignBuilder.build(table, roles: spec.roles, naValues: spec.naValues)
            timings.record("design", since: started)
            return (design, PendingSource(file: (table.path as NSString).lastPathComponent, rows: table.rowCount, digest: nil))
        }
        let dataPath = source.paths[0]
        let csv = csvOptions(roles: spec.roles, naValues: spec.naValues)
        let digest = FileDigest.start(path: dataPath)
        var started = Timings.now()
        let table: RawTable
        do { table = try CSVReader.read(path: dataPath, options: csv) } catch { digest.cancel(); throw error }
        timings.record("ingest", since: started)
        let records = table.rowCount
        // Handed over, not captured by a closure: the builder frees each raw column once it is in the design.
        started = Timings.now()
        let design: Design
        do { design = try DesignBuilder.build(consume table, roles: spec.roles, naValues: spec.naValues) } catch { digest.cancel(); throw error }
        timings.record("design", since: started)
        return (design, PendingSource(file: (dataPath as NSString).lastPathComponent, rows: records, digest: digest))
    }
}

extension FitSpec {
    /// The Newton solver's settings for this spec.
    var fitOptions: FitOptions {
        var options = FitOptions()
        options.maxIterations = maxIterations
        options.firth = estimator.penalty == .firth
        switch covariance {
        case .model: options.covariance = .model
        case .hc0: options.covariance = .hc0
        case .hc1: options.covariance = .hc1
        case .cluster: options.covariance = .cluster(codes: [])
        }
        return options
    }
}

/// The training file's name and record count, and its SHA-256 still being computed (nil: a table
/// in memory, which has none).
struct PendingSource {
    let file: String
    let rows: Int
    let digest: PendingDigest?

    /// The source without its digest, for work that does not read it.
    var unhashed: TrainingSource { TrainingSource(file: file, sha256: "", rows: rows) }

    /// Waits for the digest; the `sha256` timing is the wait, not the hashing.
    func resolved(timings: inout Timings) throws -> TrainingSource {
        guard let digest else { return unhashed }
        let hex = try timings.measure("sha256") { try digest.wait() }
        return TrainingSource(file: file, sha256: hex, rows: rows)
    }
}

/// Pearson correlations between the design's terms (intercept left out).
public struct TermCorrelations: Sendable {
    public static let strong = 0.8
    public var terms: [String]
    public var matrix: SymmetricMatrix

    init(_ design: Design) {
        terms = Array(design.termNames.dropFirst())
        matrix = Correlation.matrix(columnMajor: Array(design.storage[design.rows...]), rows: design.rows, cols: terms.count)
    }

    /// Pairs with |r| ≥ threshold, strongest first.
    public func pairs(atLeast threshold: Double) -> [CorrelatedPair] {
        var out: [CorrelatedPair] = []
        for j in terms.indices { for i in terms.indices where i > j && abs(matrix[i, j]) >= threshold {
            out.append(CorrelatedPair(a: terms[j], b: terms[i], r: matrix[i, j]))
        } }
        return out.sorted { abs($0.r) > abs($1.r) }
    }

    /// The matrix as CSV: a header of terms, then one row per term.
    public func csv() -> String {
        let q = CSVBytes.quoted
        var out = "term," + terms.map(q).joined(separator: ",") + "\n"
        for i in terms.indices {
            out += q(terms[i]) + "," + terms.indices.map { String(matrix[i, $0]) }.joined(separator: ",") + "\n"
        }
        return out
    }
}
