import ArgumentParser
import CommandSupport
import Evaluation
import Foundation
import ScoringCore
import Training


struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score customers with a fitted model: churn probability, health score, band and the top reasons.")

    @Argument(help: "Model artifact written by 'healthscore fit --out'.")
    var model: String

    @Argument(help: "CSV with the model's metric columns (extra columns are ignored).")
    var data: String

    @Option(help: "Write the scores CSV here (default: standard output).")
    var out: String?

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

    func run() throws {
        do {
            try AtomicFile.checkOutputs([("--out", out), ("--db", db)], inputs: [("the model", model), ("the data file", data)])
            let artifact = try ModelArtifact.load(path: model, allowUnsigned: trust.allowUnsigned)
            try trust.check(artifact, path: model, command: "score")
            let (table, columns) = try ScoringInput.read(path: data, model: artifact)
            let scorer = Scorer(model: artifact, unknownLevels: unknownLevel)
            let explained: [Explanation]
            do {
                explained = try scorer.explain(rowCount: table.rowCount, columns: columns, reasons: reasons)
            } catch let e as ScoringError {
                var located = e
                if let row = e.row { located.problem = "line \(table.line(ofRecord: row)): " + e.problem }
                throw DataFileError(path: data, inner: located)
            }
            // Key columns, when the model names them and the input has them: id and snapshot time.
            let keys = [artifact.schema.id, artifact.schema.time].compactMap { $0.flatMap { table.column(named: $0) } }
            var csv = (keys.isEmpty ? "row" : keys.map { CSVField.quote($0.name) }.joined(separator: ","))
                + ",churn_probability,health_score,band" + (0..<reasons).map { ",reason_\($0 + 1)" }.joined() + "\n"
            csv.reserveCapacity(explained.count * (56 + 40 * reasons))
            for (i, e) in explained.enumerated() {
                let key = keys.isEmpty ? String(i + 1) : keys.map { CSVField.quote($0.text(at: i) ?? "") }.joined(separator: ",")
                let s = e.score
                csv += "\(key),\(s.churnProbability),\(ModelSummary.fixed(s.healthScore, 2)),\(CSVField.quote(s.band ?? ""))"
                for r in 0..<reasons {
                    csv += "," + (r < e.reasons.count ? CSVField.quote(Self.reasonText(e.reasons[r])) : "")
                }
                csv += "\n"
            }
            let data = Data(csv.utf8)
            guard let db else {
                if let out { try AtomicFile.write(data, to: out) } else { StandardOutput.write(data) }
                return
            }
            // The history and the CSV are one unit: the run is committed only once the CSV is in
            // place, and a failed commit puts the old CSV back.
            let prepared = try out.map { try AtomicFile.prepare(data, to: $0) }
            var installed: InstalledFile? = nil
            do {
                try recordRun(in: db, artifact: artifact, table: table, explained: explained,
                              beforeCommit: { installed = try prepared?.install() },
                              commitFailed: { installed?.undo(); installed = nil })
            } catch {
                if installed == nil { prepared?.discard() }
                throw error
            }
            installed?.keep()
            if out == nil { StandardOutput.write(data) }
        } catch { fail(error) }
    }
}


extension Score {
    /// "Support calls = 5 (−7.4 points)".
    static func reasonText(_ c: Contribution) -> String {
        "\(c.displayName) = \(c.value.isEmpty ? "missing" : c.value) (\(String(format: "%.1f", c.points)) points)"
    }
}

enum CSVField {
    /// RFC 4180 quoting, only when the field needs it.
    static func quote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
