import ArgumentParser
import BatchScoring
import CommandSupport
import Foundation
import History
import ScoringCore
import Tabular

struct Trend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two runs of the score history: worsened customers, advocates, upsell candidates, late invoices and the renewal forecast.",
        discussion: """
            Runs are recorded by 'healthscore score MODEL DATA --db PATH --as-of DATE'. Customers are matched by id; \
            healthy means the model's best band.

            Worsened: in both runs, score down by more than --drop points, or into a worse band by more than the median change; largest fall first; --top printed, --json all.
            Advocates: healthy now, not worsened, not late on invoices; highest score first; --top of them.
            Upsell candidates: healthy now, scored before too, score rose, not late on invoices; largest rise first; --top of them.
            Late invoices (when the run stored --late COLUMN): days late above 0, most late first; all of them.
            Renewal forecast: expected churned customers Σp with 90% and 95% intervals from the exact Poisson-binomial \
            distribution (the refined normal approximation above 10000 customers); with --revenue stored, the revenue at \
            risk Σp·rev with a skewness-corrected normal interval.
            """)

    @Option(help: ArgumentHelp("The score history written by 'healthscore score --db'.", valueName: "path"))
    var db: String

    @Option(name: .customLong("as-of"), help: ArgumentHelp("The run to report on (default: the latest).", valueName: "YYYY-MM-DD"))
    var asOf: String?

    @Option(help: ArgumentHelp("The run to compare with (default: the one before --as-of).", valueName: "YYYY-MM-DD"))
    var previous: String?

    @Option(help: ArgumentHelp("A score fall of more than this many points puts a customer on the worsened list even within a band (default: 3 × the median absolute change between the two runs, so it follows the model's scale; the header states it).", valueName: "points"))
    var drop: Double?

    @Option(help: ArgumentHelp("Rows printed per list (the advocate and upsell lists are cut there; worsened and late lists print this many and count the rest — --json has them all).", valueName: "n"))
    var top: Int = 10

    @Flag(help: "Print JSON instead of the text report.")
    var json = false

    func validate() throws {
        if let drop, !(drop.isFinite && drop >= 0) { throw ValidationError("--drop must be a number of points, 0 or more") }
        guard top >= 0 else { throw ValidationError("--top must be 0 or more") }
        for (flag, date) in [("--as-of", asOf), ("--previous", previous)] {
            if let date, !HistoryDate.isValid(date) {
                throw ValidationError("\(flag) '\(date)' is not a calendar date in the form YYYY-MM-DD")
            }
        }
    }

    func run() throws {
        do {
            let history = try HistoryDatabase(path: db, readOnly: true)
            let report = try history.trend(asOf: asOf, previous: previous, options: .init(drop: drop, top: top))
            if json {
                try printJSON(report)
            } else {
                print(Self.text(report, database: db), terminator: "")
            }
        } catch { fail(error) }
    }
}

// MARK: - Text report

extension Trend {
    static func text(_ r: TrendReport, database: String) -> String {
        var out = "healthscore trend: \(r.latest.asOf) against \(r.previous.asOf) (\((database as NSString).lastPathComponent))\n"
        let c = r.customers
        out += "Customers: \(c.latest) scored, \(c.previous) before; \(c.matched) in both, \(c.new) new, \(c.gone) gone"
            + (c.unscored > 0 ? ", \(c.unscored) unscored. " : ". ")
        out += r.sameModel ? "Same model in both runs (\(short(r.latest.modelChecksum))).\n" : "Different models.\n"
        for n in r.notes { out += "Note: \(n)\n" }

        out += "\nWorsened (\(r.worsened.count)): \(r.rules.worsened)\n"
        out += table(["customer", "score before → now", "change", "band before → now", "p(churn)", "what changed (points)", "top reasons (latest run)"],
                     r.worsened.prefix(r.top).map { e in
                         [e.customerID, "\(fixed(e.previousScore ?? .nan)) → \(fixed(e.score))", signed(e.change ?? .nan),
                          "\(e.previousBand ?? "-") → \(e.band ?? "-")", String(format: "%.4f", e.churnProbability), changes(e), reasons(e)]
                     }, right: [1, 2, 4])
        out += rest(r.worsened.count, shown: r.top)

        out += "\nAdvocates (\(listCount(r.advocates.count, r.advocatesTotal))): \(r.rules.advocates)\n"
        out += table(["customer", "score", "change", "band", "p(churn)"] + (r.latest.revenueColumn != nil ? ["revenue"] : []),
                     r.advocates.map { e in
                         [e.customerID, fixed(e.score), e.change.map(signed) ?? "new", e.band ?? "-", String(format: "%.4f", e.churnProbability)]
                             + (r.latest.revenueColumn != nil ? [e.revenue.map(money) ?? "-"] : [])
                     }, right: [1, 2, 4, 5])

        out += "\nUpsell candidates (\(listCount(r.upsell.count, r.upsellTotal))): \(r.rules.upsell)\n"
        out += table(["customer", "score before → now", "change", "band before → now", "p(churn)"] + (r.latest.revenueColumn != nil ? ["revenue"] : [])
                        + ["what changed (points)"],
                     r.upsell.map { e in
                         [e.customerID, "\(fixed(e.previousScore ?? .nan)) → \(fixed(e.score))", signed(e.change ?? .nan),
                          "\(e.previousBand ?? "-") → \(e.band ?? "-")", String(format: "%.4f", e.churnProbability)]
                             + (r.latest.revenueColumn != nil ? [e.revenue.map(money) ?? "-"] : []) + [changes(e)]
                     }, right: [1, 2, 4, 5])

        if let late = r.lateInvoices {
            out += "\nLate invoices (\(late.count)): \(r.rules.lateInvoices)\n"
            out += table(["customer", "days late", "score", "band", "p(churn)"] + (r.latest.revenueColumn != nil ? ["revenue"] : []),
                         late.prefix(r.top).map { e in
                             [e.customerID, number(e.daysLate ?? 0), fixed(e.score), e.band ?? "-", String(format: "%.4f", e.churnProbability)]
                                 + (r.latest.revenueColumn != nil ? [e.revenue.map(money) ?? "-"] : [])
                         }, right: [1, 2, 4, 5])
            out += rest(late.count, shown: r.top)
        } else {
            out += "\nLate invoices: \(r.rules.lateInvoices)\n"
        }

        let f = r.forecast
        out += "\nRenewal forecast: \(f.customers) customers in the run as of \(r.latest.asOf), churn over the model's horizon\n"
        out += "  Expected churned customers: \(String(format: "%.1f", f.expectedChurned)) (sd \(String(format: "%.1f", f.standardDeviation)))\n"
        for i in f.intervals {
            out += "  \(percent(i.level)) interval: \(i.lower) to \(i.upper) customers (covers \(String(format: "%.1f", 100 * i.coverage))%)\n"
        }
        out += "  Method: \(f.method)\n"
        if let m = f.revenue {
            let share = m.totalRevenue > 0 ? String(format: " (%.1f%%)", 100 * m.expected / m.totalRevenue) : ""
            out += "  Revenue at risk (\(r.latest.revenueColumn ?? "revenue")): \(money(m.expected)) of \(money(m.totalRevenue))\(share), sd \(money(m.standardDeviation))\n"
            for i in m.intervals {
                out += "  \(percent(i.level)) interval: \(money(i.lower)) to \(money(i.upper))\n"
            }
            out += "  Method: \(m.method)\n"
        } else {
            out += "  Revenue at risk: no revenue column stored (score with --revenue COLUMN)\n"
        }
        return out
    }

    /// "… and 1,889 more (--top N prints more; --json lists all)" under a list cut at `shown` rows.
    static func rest(_ total: Int, shown: Int) -> String {
        total > shown ? "  … and \(total - shown) more (--top N prints more; --json lists all)\n" : ""
    }

    static func listCount(_ shown: Int, _ total: Int) -> String {
        shown == total ? "\(total)" : "top \(shown) of \(total)"
    }

    /// "csat 4.1 → 2.3 −9.0; logins 40 → 12 −4.2": the metrics that moved the score most.
    static func changes(_ e: TrendReport.Entry) -> String {
        guard let changes = e.changes else { return "-" }
        return changes.map { c in
            "\(c.name) \(c.before.isEmpty ? "missing" : c.before) → \(c.now.isEmpty ? "missing" : c.now) \(String(format: "%+.1f", c.points))"
        }.joined(separator: "; ")
    }

    static func reasons(_ e: TrendReport.Entry) -> String {
        e.reasons.map { "\($0.name) = \($0.value.isEmpty ? "missing" : $0.value) (\(String(format: "%.1f", $0.points)) points)" }
            .joined(separator: "; ")
    }

    static func fixed(_ x: Double) -> String { x.isNaN ? "-" : String(format: "%.2f", x) }
    static func signed(_ x: Double) -> String { x.isNaN ? "-" : abs(x) < 0.005 ? "0.00" : String(format: "%+.2f", x) }
    static func percent(_ level: Double) -> String { String(format: "%g%%", 100 * level) }

    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(format: "%.1f", x)
    }

    static func short(_ checksum: String) -> String {
        let hex = checksum.hasPrefix("sha256:") ? String(checksum.dropFirst(7)) : checksum
        return "sha256:" + hex.prefix(12) + "…"
    }

    /// 1234567.8 → "1,234,568".
    static func money(_ x: Double) -> String {
        guard x.isFinite else { return "-" }
        let digits = String(Int64(abs(x).rounded()))
        var grouped = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { grouped += "," }
            grouped.append(ch)
        }
        return (x < 0 && digits != "0" ? "-" : "") + grouped
    }

    /// Columns padded to their widest cell; `right` columns right-aligned; "(none)" for no rows.
    static func table(_ header: [String], _ rows: [[String]], right: Set<Int>) -> String {
        guard !rows.isEmpty else { return "  (none)\n" }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(widths[i] - cell.count, 0))
                // The last column is not padded on the right (no trailing blanks).
                parts.append(right.contains(i) ? pad + cell : (i == cells.count - 1 ? cell : cell + pad))
            }
            return "  " + parts.joined(separator: "  ") + "\n"
        }
        return line(header) + rows.map(line).joined()
    }
}

// MARK: - score --db: recording a run

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

    /// Appends the run to the score history at `path` in one transaction (replacing an earlier run of
    /// the same date), and says so on standard error.
    func recordRun(in path: String, artifact: ModelArtifact, rows: HistoryRows, idColumn: String?,
                   beforeCommit: () throws -> Void, commitFailed: () -> Void) throws {
        guard let asOf else { throw ValidationError("--db needs --as-of YYYY-MM-DD") }
        var run = try RunInfo(asOf: asOf, model: artifact, modelFile: model, dataFile: data, revenueColumn: revenue,
                              lateColumn: late, idColumn: idColumn)
        run.metrics = rows.metrics.metrics
        // Repeated ids are refused before the history is opened (or created).
        var rowsOf: [String: [Int]] = [:]
        let ids = rows.records.map(\.customerID) + rows.unscored.map(\.customerID)
        let lines = rows.lines + rows.unscoredLines
        for (k, id) in ids.enumerated() { rowsOf[id, default: []].append(k) }
        if let repeated = ids.first(where: { rowsOf[$0]!.count > 1 }) {
            throw duplicateIdError(repeated, lines: rowsOf[repeated]!.map { lines[$0] }.sorted(), rows: rows)
        }
        let existed = FileManager.default.fileExists(atPath: path)
        let outcome: HistoryDatabase.RecordOutcome
        do {
            let history = try HistoryDatabase(path: path)
            outcome = try history.record(run, scores: rows.records, unscored: rows.unscored, beforeCommit: beforeCommit,
                                         commitFailed: commitFailed)
        } catch {
            // A history this run created holds nothing worth keeping.
            if !existed { for file in [path, path + "-journal"] { try? FileManager.default.removeItem(atPath: file) } }
            if let e = error as? HistoryError, let d = e.duplicate {
                throw duplicateIdError(d.customerID, lines: d.rows.map { rows.lines[$0 - 1] }, rows: rows)
            }
            throw error
        }
        let replaced = outcome.replacedRows.map { "; replaced the earlier run of \($0) customers" } ?? ""
        let unscored = rows.unscored.isEmpty ? "" : " and \(rows.unscored.count) unscored (with their problem)"
        printError("Recorded the run as of \(asOf) in \(path): \(outcome.rows) customers\(unscored)\(replaced).")
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

/// The scored rows of a `score --db` run, gathered piece by piece: one record per scored row, with
/// its line for messages.
struct HistoryRows {
    let idColumn: String?
    let plan: ScoringPlan
    let revenue: String?
    let late: String?
    let time: String?
    var records: [ScoreRecord] = []
    var lines: [Int] = []
    /// Rows the model could not score, with their id: kept as unscored customers of the run.
    var unscored: [UnscoredRecord] = []
    var unscoredLines: [Int] = []
    /// Every metric's points and value per customer, for trend's "what changed".
    var metrics: MetricRecorder
    /// Distinct values of the snapshot column (for the repeated-id advice).
    var snapshots: Set<String> = []

    init(idColumn: String?, plan: ScoringPlan, model: ModelArtifact, revenue: String?, late: String?, time: String?) {
        self.idColumn = idColumn; self.plan = plan; self.revenue = revenue; self.late = late; self.time = time
        metrics = MetricRecorder(metrics: RunInfo.metrics(of: model))
    }

    mutating func add(_ piece: ScoreFile.Piece, path: String) throws {
        guard let idColumn, let ids = piece.table.column(named: idColumn) else {
            throw HistoryError(path: path, problem: "no column '\(idColumn ?? "")' (the customer id column)",
                               fix: "add the customer id column to the input, or name it with --id; the score history keys every score by it")
        }
        let revenueValues = try revenue.map { try numbers(piece, column: $0, flag: "--revenue", allowNegative: false, path: path) }
        let lateValues = try late.map { try numbers(piece, column: $0, flag: "--late", allowNegative: true, path: path) }
        if let time, let t = piece.table.column(named: time), case .text(_, let levels) = t.values { snapshots.formUnion(levels) }
        let s = piece.scored
        let k = s.reasons
        for p in s.problems {
            guard let id = ids.text(at: p.row), !id.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            unscored.append(UnscoredRecord(customerID: id, problem: p.short))
            unscoredLines.append(piece.line(ofRow: p.row))
        }
        for i in 0..<piece.rowCount where s.isScored(i) {
            guard let id = ids.text(at: i), !id.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HistoryError(path: path, problem: "line \(piece.line(ofRow: i)): the customer id ('\(idColumn)') is missing",
                                   fix: "fill in the id, or remove the row")
            }
            var reasons: [Contribution] = []
            for r in 0..<k where s.reasonFeature[i * k + r] >= 0 {
                let j = Int(s.reasonFeature[i * k + r])
                reasons.append(Contribution(metric: plan.metrics[j], displayName: plan.displayNames[j],
                                            value: plan.valueText(feature: j, row: i, columns: piece.columns),
                                            points: s.reasonPoints[i * k + r]))
            }
            let band = s.band[i] >= 0 ? Int(s.band[i]) : nil
            var record = ScoreRecord(customerID: id, churnProbability: s.probability[i], healthScore: s.score[i],
                                     band: band.map { plan.bandLabels[$0] }, bandRank: band, reasons: reasons,
                                     revenue: revenueValues?[i] ?? nil, daysLate: lateValues?[i] ?? nil)
            let p = plan.featureCount
            if s.contributions.count == piece.rowCount * p {
                var cells = [Float](repeating: .nan, count: 2 * p)
                for j in 0..<p {
                    let (number, level) = plan.metricValue(feature: j, row: i, columns: piece.columns)
                    cells[2 * j] = Float(s.contributions[i * p + j])
                    cells[2 * j + 1] = metrics.cell(j, number: number, level: level)
                }
                record.metricCells = cells
            }
            records.append(record)
            lines.append(piece.line(ofRow: i))
        }
    }

    /// A column as numbers (nil for empty cells); text that is not a number is an error naming the line.
    private func numbers(_ piece: ScoreFile.Piece, column name: String, flag: String, allowNegative: Bool, path: String) throws -> [Double?] {
        guard let column = piece.table.column(named: name) else {
            throw HistoryError(path: path, problem: "no column '\(name)' for \(flag)", fix: "pass one of the header names to \(flag)")
        }
        var out: [Double?] = []
        out.reserveCapacity(piece.rowCount)
        for i in 0..<piece.rowCount {
            guard let text = column.text(at: i) else { out.append(nil); continue }
            guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite, allowNegative || v >= 0 else {
                throw HistoryError(path: path, problem: "line \(piece.line(ofRow: i)), column '\(name)': '\(text)' is not \(allowNegative ? "a number" : "a non-negative amount")",
                                   fix: "clean the value, or leave the cell empty")
            }
            out.append(v)
        }
        return out
    }
}
