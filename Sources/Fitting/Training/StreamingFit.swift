import FitEngine
import Foundation
import ScoringCore
import Tabular
import Support

/// A part of one training file: the records that start in `range` (nil: all of them).
public struct FileShard: Sendable, Equatable {
    /// Index of the file in the fit's list (its place in the concatenation).
    public var file: Int
    public var path: String
    public var range: Range<Int>?
    public init(file: Int, path: String, range: Range<Int>? = nil) { self.file = file; self.path = path; self.range = range }
}

/// How `--streaming` reads the files, and, in a distributed fit, how the processes combine.
public struct StreamingOptions {
    /// Bytes of CSV text parsed at a time: memory holds about one chunk, its parsed columns and
    /// its design block (≈ chunk rows × terms × 8 bytes).
    public var chunkBytes = 64 << 20
    /// The parts of the files this process reads, in file order (one rank's share of a
    /// distributed fit); nil: every file whole.
    public var shards: [FileShard]? = nil
    /// This process's index among `processCount` (it fingerprints files `index`, `index + count`, …).
    public var processIndex = 0
    public var processCount = 1
    /// Element-wise sum over the processes of a distributed fit (e.g. MPI_Allreduce); nil: one process.
    public var sumAcrossProcesses: ((inout [Double]) throws -> Void)? = nil
    /// Distributed: every process's values concatenated in rank order, which is file order (the
    /// training scores, for the bands' quantiles); nil: one process.
    public var gatherAcrossProcesses: (([Double]) throws -> [Double])? = nil
    /// Distributed: every process's bytes, in rank order (the design statistics each learned on its
    /// shard, the file fingerprints); nil: one process.
    public var allGatherAcrossProcesses: (([UInt8]) throws -> [[UInt8]])? = nil
    /// Distributed: every process passes its error or nil, and all throw if any failed (the
    /// failing process its own error, the others a quiet one), so none waits in a collective.
    public var agreeAcrossProcesses: ((Error?) throws -> Void)? = nil
    public init() {}

    /// Agrees on `failure` across the processes, or in one process just throws it.
    func agree(_ failure: Error?) throws {
        if let agreeAcrossProcesses { try agreeAcrossProcesses(failure) } else if let failure { throw failure }
    }
}

extension FitPipeline {
    /// The maximum-likelihood fit with the files read chunk by chunk instead of held, as their
    /// concatenation: one pass learns the design (levels, transforms, fills, label coding), then the
    /// solver makes its passes over the files, then one more pass scores the training rows for the
    /// health bands (skipped when the bands have explicit cut points). Memory stays bounded by the
    /// chunk size, plus 8 bytes per fitted row for the scores and for the id hashes (`--id`), and per
    /// row of each column needing clip percentiles or a median fill.
    ///
    /// Coefficients, standard errors and deviances equal the in-memory fit's to rounding. The
    /// separation check, which needs every row's fitted value at once, is not run. The training
    /// record names the files and carries the SHA-256 of their `sha256sum` listing ("HEX  NAME"
    /// lines, in order).
    ///
    /// With `streaming.shards`, this process reads only those parts; each process learns the design
    /// statistics of its own rows, and the statistics of all processes are gathered and merged in
    /// rank order, so every process freezes the recipe one process reading every file would.
    static func streamed(_ spec: FitSpec, paths dataPaths: [String], streaming: StreamingOptions,
                         timings: inout Timings) throws -> TrainingResult {
        let roles = spec.roles, naValues = spec.naValues, bounds = spec.bounds, options = spec.fitOptions
        precondition(!dataPaths.isEmpty, "at least one training file")
        let shards = streaming.shards ?? dataPaths.indices.map { FileShard(file: $0, path: dataPaths[$0]) }
        let name = dataPaths.map { ($0 as NSString).lastPathComponent }.joined(separator: " + ")
        var csv = csvOptions(roles: roles, naValues: naValues)
        var started = Timings.now()
        var statistics = try StreamingFit.learn(shards, files: dataPaths, roles: roles, naValues: naValues, csv: csv,
                                             options: options, streaming: streaming, timings: &timings)
        if !statistics.mixedColumns.isEmpty {
            // Some chunk saw only numbers in a text column: learn again reading those as text everywhere.
            csv.textColumns.formUnion(statistics.textColumns)
            statistics = try StreamingFit.learn(shards, files: dataPaths, roles: roles, naValues: naValues, csv: csv,
                                             options: options, streaming: streaming, timings: &timings)
        }
        csv.textColumns.formUnion(statistics.textColumns)
        let recipe = try statistics.recipe()
        let distinctIds = statistics.distinctIds
        statistics = DesignStatistics(roles: roles, naValues: naValues, path: dataPaths[0])
        timings.record("design", since: started)

        let allBounds = TermBound.implied(by: recipe.schema, explicit: bounds)
        var boxed = options
        if let box = try Trainer.box(allBounds, names: recipe.termNames) {
            boxed.lowerBounds = box.lower
            boxed.upperBounds = box.upper
        }
        let source = FileRowSource(shards: shards, csv: csv, chunkBytes: streaming.chunkBytes,
                                   recipe: recipe, sumAcrossProcesses: streaming.sumAcrossProcesses)
        started = Timings.now()
        let fit: LogisticFit
        do { fit = try LogisticRegression.fit(source: source, termNames: recipe.termNames, options: boxed) } catch let e as Diagnostic {
            throw Diagnostic(.fit, problem: "--streaming: \(e.description)")
        }
        timings.record("fit", since: started)
        for (k, seconds) in source.passSeconds.enumerated() { timings.phases.append(("pass_\(k + 1)", seconds)) }

        let scoring = spec.scoring
        var scores: [Double] = []
        if scoring.cuts == nil {
            started = Timings.now()
            // A read that fails on one process is agreed on before the gather, which every process must reach.
            var failure: Error? = nil
            do {
                scores = try source.linearPredictors(fit.coefficients.map { $0 ?? 0 }).map { scoring.scale.score(eta: min(max($0, -745), 745)) }
            } catch { failure = error }
            try streaming.agree(failure)
            if let gather = streaming.gatherAcrossProcesses { scores = try gather(scores) }
            timings.record("scores", since: started)
        }
        started = Timings.now()
        let digests = try StreamingFit.digests(dataPaths, streaming: streaming)
        timings.record("sha256", since: started)
        let digest = dataPaths.count == 1 ? digests[0] : StreamingFit.listingDigest(dataPaths, digests)
        let facts = Trainer.DesignFacts(names: recipe.termNames, sources: recipe.termSources, schema: recipe.schema,
                                        nDropped: recipe.dropped, nImputed: recipe.imputedCells, dropReasons: recipe.dropReasons,
                                        events: recipe.events, distinctIds: distinctIds, scoring: scoring)
        let trainingSource = TrainingSource(file: name, sha256: digest, rows: recipe.rows + recipe.dropped)
        return Trainer.finish(fit: fit, facts: facts, source: trainingSource, trainingScores: scores,
                              covarianceLabel: options.covariance.name, bounds: allBounds, firth: false)
    }

    /// What the fit reads of the file: the label and clusters as text, ids hashed, times and
    /// excluded columns checked but not converted.
    static func csvOptions(roles: ColumnRoles, naValues: [String]) -> CSVOptions {
        var csv = CSVOptions()
        csv.naValues = Set(naValues)
        csv.numberFormat = roles.numberFormat
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
        func refuse(_ what: String, _ fix: String) -> Diagnostic {
            Diagnostic(.fit, problem: "--streaming does not support \(what). Fix: \(fix)")
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

    /// One pass over this process's shards: the design's statistics, chunk by chunk, merged in file
    /// order; then, in a distributed fit, every process's statistics merged in rank order. Errors
    /// before the exchange (a bad file, a bad cell) are agreed on first, so all processes stop.
    static func learn(_ shards: [FileShard], files: [String], roles: ColumnRoles, naValues: [String], csv: CSVOptions,
                      options: FitOptions, streaming: StreamingOptions, timings: inout Timings) throws -> DesignStatistics {
        let label = files.count == 1 ? files[0] : files.joined(separator: " + ")
        var statistics = DesignStatistics(roles: roles, naValues: naValues, path: label, collectIds: true)
        var failure: Error? = nil
        do {
            try checkSupported(roles: roles, options: options)
            if files.count > 1 { try checkHeaders(files) }
            for shard in shards {
                try CSVReader.readChunks(path: shard.path, options: csv, chunkBytes: streaming.chunkBytes, range: shard.range) { piece, firstRecord in
                    try statistics.observe(piece, recordOffset: firstRecord)
                }
            }
        } catch { failure = error }
        try streaming.agree(failure)
        guard let gather = streaming.allGatherAcrossProcesses else { return statistics }
        let started = Timings.now()
        let parts = try gather(statistics.serialized())
        defer { timings.record("statistics_exchange", since: started) }
        return try DesignStatistics.merging(parts, roles: roles, naValues: naValues, path: label)
    }

    /// The files of a list must share the first file's header (names and order), or their rows
    /// would not line up; checked before any row is read, one header each.
    static func checkHeaders(_ files: [String]) throws {
        var first: [String]? = nil
        for path in files {
            let names = try header(path)
            guard let expected = first else { first = names; continue }
            if names != expected {
                let k = (0..<min(names.count, expected.count)).first { names[$0] != expected[$0] } ?? min(names.count, expected.count)
                let detail = k < min(names.count, expected.count)
                    ? "column \(k + 1) is '\(names[k])' where \((files[0] as NSString).lastPathComponent) has '\(expected[k])'"
                    : "it has \(names.count) columns where \((files[0] as NSString).lastPathComponent) has \(expected.count)"
                throw Diagnostic(.data, file: path, line: 1, problem: "the header differs from the first file's: \(detail)",
                                fix: "give every file of the list the same header row, columns in the same order")
            }
        }
    }

    /// The column names of a CSV file's header (its first piece is parsed, then reading stops).
    static func header(_ path: String) throws -> [String] {
        struct Stop: Error {}
        var names: [String] = []
        var options = CSVOptions()
        options.threads = 1
        do {
            try CSVReader.readChunks(path: path, options: options, chunkBytes: 4096) { piece, _ in
                names = piece.columns.map(\.name)
                throw Stop()
            }
        } catch is Stop {}
        return names
    }

    /// SHA-256 of each file; process i of K fingerprints files i, i + K, …, and all exchange theirs.
    static func digests(_ files: [String], streaming: StreamingOptions) throws -> [String] {
        var mine: [String] = []
        var failure: Error? = nil
        do {
            for i in files.indices where i % streaming.processCount == streaming.processIndex {
                mine.append("\(i) \(try FileDigest.sha256Hex(path: files[i]))")
            }
        } catch { failure = error }
        try streaming.agree(failure)
        var lines = mine
        if let gather = streaming.allGatherAcrossProcesses {
            lines = try gather(Array(mine.joined(separator: "\n").utf8)).flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init) }
        }
        var out = [String](repeating: "", count: files.count)
        for line in lines {
            let parts = line.split(separator: " ")
            if parts.count == 2, let i = Int(parts[0]), out.indices.contains(i) { out[i] = String(parts[1]) }
        }
        if let missing = out.firstIndex(where: \.isEmpty) {
            throw Diagnostic(.fit, problem: "\(files[missing]): no process reported its SHA-256; every process must run the same healthscore with the same file list")
        }
        return out
    }

    /// The SHA-256 of the `sha256sum` listing of the files ("HEX  NAME\n" per file, in order): what
    /// `sha256sum a.csv b.csv | sha256sum` prints when run in their directory.
    static func listingDigest(_ files: [String], _ digests: [String]) -> String {
        let listing = zip(files, digests).map { "\($1)  \(($0 as NSString).lastPathComponent)\n" }.joined()
        return SHA256.hex(of: Data(listing.utf8))
    }
}
