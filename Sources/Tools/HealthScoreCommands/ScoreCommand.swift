import ArgumentParser
import BatchScoring
import CommandSupport
import Foundation
import ScoringCore
import Tabular
import Support


struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score customers with a fitted model: churn probability, health score, band and the top reasons.",
        discussion: """
            The file is read and scored piece by piece on every core, so memory does not grow with the file. A row \
            that cannot be scored (a missing value the model cannot impute, an unseen level, a cell that is not a \
            number) gets status 'unscored' and a short 'problem', and the rest are scored; standard error sums \
            the problems up with their first rows. --strict refuses the whole file instead.
            """)

    @Argument(help: "Model artifact written by 'healthscore fit --out'.")
    var model: String

    @Argument(help: "CSV with the model's metric columns (extra columns are ignored).")
    var data: String

    @Option(help: "Write the scores CSV here (default: standard output, streamed as rows are scored).")
    var out: String?

    @Option(help: ArgumentHelp("The customer id column, copied to the output and keying --db (default: the model's id column, when the file has it).", valueName: "column"))
    var id: String?

    @Option(help: ArgumentHelp("Columns copied through to the output beside the id (e.g. owner,region).", valueName: "a,b,…"))
    var keep: String?

    @Flag(help: "All or nothing: refuse the file (and write nothing) when any row cannot be scored.")
    var strict = false

    @Option(help: "Category levels not seen in training: error, reference (score as the reference level) or other (as the pooled rare levels). Default: the policy stored in the model, else error.")
    var unknownLevel: UnknownLevelPolicy?

    @OptionGroup var trust: ModelTrustOptions

    @Option(help: "Reasons per customer: the metrics costing the most points against the average customer.")
    var reasons: Int = 3

    @Option(help: ArgumentHelp("Also record the run in this score history (SQLite; created if missing), keyed by --as-of. Rerunning a date replaces that run.", valueName: "path"))
    var db: String?

    @Option(name: .customLong("as-of"), help: ArgumentHelp("With --db: the date the scores describe.", valueName: "YYYY-MM-DD"))
    var asOf: String?

    @Option(help: ArgumentHelp("With --db: store this column (annual contract value) per customer, for the revenue at risk in 'trend'.", valueName: "column"))
    var revenue: String?

    @Option(help: ArgumentHelp("With --db: store this column (days late on invoices) per customer, for the late-invoice list in 'trend'.", valueName: "column"))
    var late: String?

    func validate() throws {
        guard reasons >= 0 && reasons <= 20 else { throw ValidationError("--reasons must be between 0 and 20") }
        try validateHistoryOptions()
    }

    var keptColumns: [String] { columnList(keep) }

    func run() throws {
        returnFreedMemoryPromptly()
        var stream: AtomicFile.Stream? = nil
        var writer: BackgroundWriter? = nil
        // Before anything is written: an --out naming an input is refused as it is, not as a failed run.
        try AtomicFile.checkOutputs([("--out", out), ("--db", db)], inputs: [("the model", model), ("the data file", data)])
        do {
            let artifact = try ModelArtifact.load(path: model, allowUnsigned: trust.allowUnsigned)
            try trust.check(artifact, path: model, command: "score")
            let plan = ScoringPlan(model: artifact, unknownLevels: unknownLevel)
            let names = try CSVReader.headerNames(path: data)
            let header = Set(names)
            // Key columns: the id (named, or the model's when the file has it), the snapshot time, then --keep.
            var keys: [String] = []
            var hasID = true
            if let id { keys.append(id) } else if let id = artifact.schema.id, header.contains(id) { keys.append(id) } else { hasID = false }
            if !hasID, let modelID = artifact.schema.id, db == nil {
                let near = closestName(to: modelID, among: names).map { " (closest: '\($0)')" } ?? ""
                printError("healthscore: note: the model's id column '\(modelID)' is not in \(data)\(near): rows are keyed by their number (column 'row'); --id COLUMN names another")
            }
            if let time = artifact.schema.time, header.contains(time), !keys.contains(time) { keys.append(time) }
            for k in keptColumns where !keys.contains(k) { keys.append(k) }
            let idColumn = id ?? artifact.schema.id

            var options = ScoreFile.Options()
            options.reasons = reasons
            options.strict = strict
            options.textColumns = keys + (db != nil ? [idColumn].compactMap { $0 }.filter { !keys.contains($0) } : [])
            options.otherColumns = db != nil ? [revenue, late].compactMap { $0 } : []
            // Every metric's log-odds part, for trend's "what changed".
            options.contributions = db != nil
            options.contributionsInLogOdds = true
            let historyID = db != nil && id == nil ? artifact.schema.id : nil
            let named: [(flag: String, column: String?, role: String)] = [("--id", id, ""), ("--id", historyID, " (the model's id column; --db keys every score by it)"),
                                                                          ("--revenue", revenue, ""), ("--late", late, "")]
            for (flag, column, role) in named + keptColumns.map({ ("--keep", $0, "") }) {
                guard let column, !header.contains(column) else { continue }
                let near = closestName(to: column, among: names).map { "did you mean '\($0)'? " } ?? ""
                throw Diagnostic(.data, file: data, column: column, problem: "no column '\(column)' for \(flag)\(role)",
                                fix: "\(near)pass one of the header names to \(flag)")
            }
            let layout = ScoreCSV(plan: plan, keys: keys, rowNumber: !hasID, reasons: reasons)

            // Standard output is streamed, except under --strict and --db, where a refused file must
            // print nothing: there it is held in a temporary file until the run has succeeded.
            let held = out == nil && (strict || db != nil) ? try HeldOutput() : nil
            if let out { stream = try AtomicFile.Stream(path: out) }
            let background = BackgroundWriter { [stream, held] bytes in
                if let stream { try stream.write(bytes) }
                else if let held { try held.write(bytes) }
                else { bytes.withUnsafeBytes { StandardOutput.write(Data($0)) } }
            }
            writer = background
            try background.write(layout.header())

            /// Scores the file, then checks that something was scored and readies the output file.
            func scoreFile(_ eachPiece: (ScoreFile.Piece) throws -> Void = { _ in }) throws -> (ProblemTally, PreparedFile?) {
                let tally = try ScoreFile.run(path: data, model: artifact, plan: plan, options: options) { piece in
                    for part in layout.rows(piece, threads: options.threads) { try background.write(part) }
                    try eachPiece(piece)
                }
                try background.finish()
                if tally.scored == 0, var first = tally.firstError {
                    first.fix += "; no row of the \(tally.rows) could be scored, so "
                        + (out != nil || strict || db != nil ? "nothing was written" : "standard output holds only unscored rows")
                    throw first
                }
                let prepared = try stream?.finish()
                stream = nil
                return (tally, prepared)
            }
            let tally: ProblemTally
            if let db {
                // Scores held for standard output go out inside the transaction: a lost write records nothing.
                tally = try recordRun(in: db, artifact: artifact, plan: plan, idColumn: idColumn, scoreFile: scoreFile,
                                      publish: { try held?.copyToStandardOutput() })
            } else {
                let (scored, prepared) = try scoreFile()
                try prepared?.install().keep()
                tally = scored
                try held?.copyToStandardOutput()
            }
            for line in tally.lines(path: data, plan: plan) + tally.substitutionLines(path: data, plan: plan) {
                printError("healthscore: warning: " + line)
            }
            if tally.unscored > 0 {
                printError("healthscore: scored \(tally.scored) of \(tally.rows) rows; \(tally.unscored) marked status=unscored\(db != nil ? " (recorded in the history as unscored, with their problem)" : "").")
            }
        } catch {
            // Pieces still queued are written (or dropped) before the file goes: its descriptor must
            // not be closed under the writer thread.
            try? writer?.finish()
            stream?.abandon()
            // A scheduled job must not take last run's file for this run's.
            if let out, FileManager.default.fileExists(atPath: out) { throw OutputKept(inner: error, path: out) }
            throw error
        }
    }
}

/// A failure after which the previous output file is still in place.
struct OutputKept: Error, CustomStringConvertible {
    var inner: Error
    var path: String
    var description: String { "\(inner) (\(path) still holds the previous output; it was not replaced)" }
}

/// Standard output held back until the command has succeeded (under --strict and --db), in an
/// anonymous temporary file rather than in memory, so a million rows cost no memory.
final class HeldOutput: @unchecked Sendable {
    private let file: UnsafeMutablePointer<FILE>

    init() throws {
        guard let f = tmpfile() else {
            throw Diagnostic(.usage, problem: "cannot create a temporary file to hold standard output (\(String(cString: strerror(errno)))). Fix: free space in the temporary directory, set TMPDIR to a writable directory, or write to a file with --out")
        }
        file = f
    }

    deinit { fclose(file) }

    func write(_ bytes: [UInt8]) throws {
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == bytes.count else {
            throw Diagnostic(.usage, problem: "holding standard output in a temporary file failed (\(String(cString: strerror(errno)))). Fix: free space in the temporary directory, set TMPDIR to a writable directory, or write to a file with --out")
        }
    }

    func copyToStandardOutput() throws {
        guard fflush(file) == 0 else { throw Diagnostic(.usage, problem: "holding standard output in a temporary file failed. Fix: write to a file with --out") }
        rewind(file)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try StandardOutput.writeOrThrow(Data($0.prefix(n))) }
        }
    }
}
