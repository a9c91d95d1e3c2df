import ArgumentParser
import BatchScoring
import CommandSupport
import Foundation
import Support
import History
import ScoringCore
import Tabular

/// `score --db`: the run recorded in the score history, in one transaction with the output.
extension Score {
    /// The checks of --db, --as-of, --revenue and --late (called from `validate`).
    func validateHistoryOptions() throws {
        guard db != nil else {
            for (flag, value) in [("--as-of", asOf), ("--revenue", revenue), ("--late", late)] where value != nil {
                throw ValidationError("\(flag) needs --db PATH (the score history the run is recorded in)")
            }
            return
        }
        guard let asOf else { throw ValidationError("--db needs --as-of YYYY-MM-DD (the date the scores describe)") }
        guard HistoryDate.isValid(asOf) else { throw ValidationError("--as-of '\(asOf)' is not a calendar date in the form YYYY-MM-DD") }
    }

    /// Scores the file into the score history at `path`: one transaction (replacing an earlier run of
    /// the same date) that takes each piece's scores as they come, so memory does not grow with the
    /// file, and commits only once the output file is in place (a failed commit puts the old one
    /// back). Says so on standard error.
    /// `publish` runs just before the commit (the output held for standard output).
    func recordRun(in path: String, artifact: ModelArtifact, plan: ScoringPlan, idColumn: String?,
                   scoreFile: ((ScoreFile.Piece) throws -> Void) throws -> (ProblemTally, PreparedFile?),
                   publish: () throws -> Void) throws -> ProblemTally {
        guard let asOf else { throw ValidationError("--db needs --as-of YYYY-MM-DD") }
        let run = try RunInfo(asOf: asOf, model: artifact, modelFile: model, dataFile: data, revenueColumn: revenue,
                              lateColumn: late, idColumn: idColumn)
        var rows = HistoryRows(idColumn: idColumn, plan: plan, model: artifact, revenue: revenue, late: late, time: artifact.schema.time)
        let existed = FileManager.default.fileExists(atPath: path)
        var prepared: PreparedFile? = nil
        var installed: InstalledFile? = nil
        var tally: ProblemTally? = nil
        let outcome: HistoryDatabase.RecordOutcome
        do {
            let history = try HistoryDatabase(path: path)
            outcome = try history.writeRun(run, beforeCommit: { try publish(); installed = try prepared?.install() },
                                           commitFailed: { installed?.undo(); installed = nil }) { writer in
                (tally, prepared) = try scoreFile { piece in try rows.add(piece, path: data, to: writer) }
                if let (id, lines) = rows.firstRepeatedID { throw duplicateIdError(id, lines: lines, rows: rows) }
                writer.metrics = rows.metrics.metrics
            }
        } catch {
            if installed == nil { prepared?.discard() }
            // A history this run created holds nothing worth keeping.
            if !existed { for file in [path, path + "-journal"] { try? FileManager.default.removeItem(atPath: file) } }
            throw error
        }
        installed?.keep()
        let replaced = outcome.replacedRows.map { "; replaced the earlier run of \($0) customers" } ?? ""
        let unscored = rows.unscoredCount == 0 ? "" : " and \(rows.unscoredCount) unscored (with their problem)"
        printError("Recorded the run as of \(asOf) in \(path): \(outcome.rows) customers\(unscored)\(replaced).")
        return tally!
    }

    private func duplicateIdError(_ id: String, lines: [Int], rows: HistoryRows) -> HistoryError {
        var fix = "score one row per customer; nothing was recorded"
        if let time = rows.time, rows.snapshots.count > 1, let latest = rows.snapshots.max() {
            fix = "the file holds \(rows.snapshots.count) snapshots of '\(time)' (the latest is \(latest)): keep one snapshot per customer, e.g. the rows whose \(time) is \(latest), and score them --as-of that date; nothing was recorded"
        }
        return HistoryError(path: data, problem: "customer id '\(id)' occurs \(lines.count) times (lines \(lines.map(String.init).joined(separator: ", "))), and a run holds one score per customer",
                            fix: fix)
    }
}
