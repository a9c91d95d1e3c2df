import FitEngine
import Foundation
import ScoringCore
import Tabular

/// How `--streaming` reads the file.
public struct StreamingOptions {
    /// Bytes of CSV text parsed at a time: memory holds about one chunk, its parsed columns and
    /// its design block (≈ chunk rows × terms × 8 bytes).
    public var chunkBytes = 64 << 20
    /// Records that start in this byte range only (one shard of a distributed fit); nil: all.
    public var range: Range<Int>? = nil
    /// Element-wise sum over the processes of a distributed fit (e.g. MPI_Allreduce); nil: one process.
    public var sumAcrossProcesses: ((inout [Double]) throws -> Void)? = nil
    /// Distributed: learn the design from every record, not only `range`'s, so that every process
    /// freezes the same recipe (levels, fills, counts) without exchanging statistics.
    public var learnFromWholeFile = false
    /// Distributed: every process's values concatenated in rank order, which is file order (the
    /// training scores, for the bands' quantiles); nil: one process.
    public var gatherAcrossProcesses: (([Double]) throws -> [Double])? = nil
    public init() {}
}

extension FitPipeline {
    /// The maximum-likelihood fit of `run`, with the file read chunk by chunk instead of held: one
    /// pass learns the design (levels, transforms, fills, label coding), then the solver makes its
    /// passes over the file, then one more pass scores the training rows for the health bands
    /// (skipped when the bands have explicit cut points). Memory stays bounded by the chunk size,
    /// plus 8 bytes per fitted row for the scores and for the id hashes (`--id`), and per row of
    /// each column needing clip percentiles or a median fill.
    ///
    /// Coefficients, standard errors and deviances equal the in-memory fit's to rounding. The
    /// separation check, which needs every row's fitted value at once, is not run.
    public static func runStreaming(dataPath: String, roles: ColumnRoles, naValues: [String] = defaultNAValues,
                                    options: FitOptions = FitOptions(), bounds: [TermBound] = [],
                                    streaming: StreamingOptions = StreamingOptions(),
                                    timings: inout Timings) throws -> TrainingResult {
        try StreamingFit.checkSupported(roles: roles, options: options)
        var csv = csvOptions(roles: roles, naValues: naValues)
        var started = Timings.now()
        var statistics = try StreamingFit.learn(dataPath, roles: roles, naValues: naValues, csv: csv, streaming: streaming)
        if !statistics.mixedColumns.isEmpty {
            // Some chunk saw only numbers in a text column: learn again reading those as text everywhere.
            csv.textColumns.formUnion(statistics.textColumns)
            statistics = try StreamingFit.learn(dataPath, roles: roles, naValues: naValues, csv: csv, streaming: streaming)
        }
        csv.textColumns.formUnion(statistics.textColumns)
        let recipe = try statistics.recipe()
        let distinctIds = statistics.distinctIds
        statistics = DesignStatistics(roles: roles, naValues: naValues, path: dataPath)
        timings.record("design", since: started)

        let allBounds = TermBound.implied(by: recipe.schema, explicit: bounds)
        var options = options
        if let box = try Trainer.box(allBounds, names: recipe.termNames) {
            options.lowerBounds = box.lower
            options.upperBounds = box.upper
        }
        let source = FileRowSource(path: dataPath, csv: csv, chunkBytes: streaming.chunkBytes, range: streaming.range,
                                   recipe: recipe, sumAcrossProcesses: streaming.sumAcrossProcesses)
        started = Timings.now()
        let fit: LogisticFit
        do { fit = try LogisticRegression.fit(source: source, termNames: recipe.termNames, options: options) } catch let e as SourceFitError {
            throw TrainingError(description: "--streaming: \(e.description)")
        }
        timings.record("fit", since: started)
        for (k, seconds) in source.passSeconds.enumerated() { timings.phases.append(("pass_\(k + 1)", seconds)) }

        let scoring = roles.scoring
        var scores: [Double] = []
        if scoring.cuts == nil {
            started = Timings.now()
            scores = try source.linearPredictors(fit.coefficients.map { $0 ?? 0 }).map { scoring.scale.score(eta: min(max($0, -745), 745)) }
            if let gather = streaming.gatherAcrossProcesses { scores = try gather(scores) }
            timings.record("scores", since: started)
        }
        started = Timings.now()
        let digest = try FileDigest.sha256Hex(path: dataPath)
        timings.record("sha256", since: started)
        let facts = Trainer.DesignFacts(names: recipe.termNames, sources: recipe.termSources, schema: recipe.schema,
                                        nDropped: recipe.dropped, nImputed: recipe.imputedCells, dropReasons: recipe.dropReasons,
                                        events: recipe.events, distinctIds: distinctIds, scoring: scoring)
        let trainingSource = TrainingSource(file: (dataPath as NSString).lastPathComponent, sha256: digest,
                                            rows: recipe.rows + recipe.dropped)
        return Trainer.finish(fit: fit, facts: facts, source: trainingSource, trainingScores: scores,
                              covarianceLabel: options.covariance.name, bounds: allBounds, firth: false)
    }

    /// What the fit reads of the file: the label and clusters as text, ids hashed, times and
    /// excluded columns checked but not converted.
    static func csvOptions(roles: ColumnRoles, naValues: [String]) -> CSVOptions {
        var csv = CSVOptions()
        csv.naValues = Set(naValues)
        csv.textColumns = Set([roles.target] + [roles.cluster].compactMap { $0 }).union(roles.categorical)
        csv.skipColumns = Set(([roles.time].compactMap { $0 } + roles.exclude)
            .filter { $0 != roles.target && $0 != roles.cluster && $0 != roles.weights })
        // Ids are only compared (are rows repeated per customer?), so a hash per cell is enough.
        if let id = roles.id, id != roles.cluster { csv.hashColumns = [id] }
        return csv
    }
}

enum StreamingFit {
    /// Refuses, in one line, what needs every row at once.
    static func checkSupported(roles: ColumnRoles, options: FitOptions) throws {
        func refuse(_ what: String, _ fix: String) -> TrainingError {
            TrainingError(description: "--streaming does not support \(what). Fix: \(fix)")
        }
        if options.firth { throw refuse("--penalty firth (it needs every row's leverage)", "fit in memory, or use --penalty none") }
        if options.covariance != .model {
            throw refuse("--covariance \(options.covariance.name) (robust standard errors need every row's score)", "fit in memory, or use --covariance model")
        }
        if !roles.groups.isEmpty || roles.correlationThreshold != nil {
            throw refuse("metric groups (a group's spread is only known after a second pass over its members)",
                         "fit in memory, or leave out the groups and --group-correlated")
        }
    }

    /// One pass over the file: the design's statistics, chunk by chunk, merged in file order.
    static func learn(_ path: String, roles: ColumnRoles, naValues: [String], csv: CSVOptions,
                      streaming: StreamingOptions) throws -> DesignStatistics {
        var statistics = DesignStatistics(roles: roles, naValues: naValues, path: path, collectIds: true)
        let range = streaming.learnFromWholeFile ? nil : streaming.range
        try CSVReader.readChunks(path: path, options: csv, chunkBytes: streaming.chunkBytes, range: range) { piece, firstRecord in
            try statistics.observe(piece, recordOffset: firstRecord)
        }
        return statistics
    }
}
