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
        let history = try HistoryDatabase(path: db, readOnly: true)
        let report = try history.trend(asOf: asOf, previous: previous, options: .init(drop: drop, top: top))
        if json {
            try printJSON(report)
        } else {
            print(Self.text(report, database: db), terminator: "")
        }
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
        // "What changed" compares with the previous run; the reasons compare with the average customer.
        let changed = "what changed since \(r.previous.asOf) (points)"
        out += table(["customer", "score before → now", "change", "band before → now", "p(churn)", changed, "top reasons now (vs the average customer)"],
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
                        + [changed],
                     r.upsell.map { e in
                         [e.customerID, "\(fixed(e.previousScore ?? .nan)) → \(fixed(e.score))", signed(e.change ?? .nan),
                          "\(e.previousBand ?? "-") → \(e.band ?? "-")", String(format: "%.4f", e.churnProbability)]
                             + (r.latest.revenueColumn != nil ? [e.revenue.map(money) ?? "-"] : []) + [changes(e)]
                     }, right: Set([1, 2, 4] + (r.latest.revenueColumn != nil ? [5] : [])))

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

/// The rows of a `score --db` run, handed to the history piece by piece: one record per scored row,
/// one unscored record (with its problem) per row the model could not score. Keeps only what the
/// whole run needs: each id's first line (a repeated id is reported with all its lines, and the
/// run is not recorded), the metric levels seen, and the snapshot values.
struct HistoryRows {
    let idColumn: String?
    let plan: ScoringPlan
    let revenue: String?
    let late: String?
    let time: String?
    private var firstLine: [String: Int32] = [:]
    /// Ids seen more than once, with every line, in the order the repeats were found.
    private var repeated: [String: [Int]] = [:]
    private var repeatedOrder: [String] = []
    private(set) var unscoredCount = 0
    /// Every metric's points and value per customer, for trend's "what changed".
    var metrics: MetricRecorder
    /// Distinct values of the snapshot column (for the repeated-id advice).
    var snapshots: Set<String> = []

    init(idColumn: String?, plan: ScoringPlan, model: ModelArtifact, revenue: String?, late: String?, time: String?) {
        self.idColumn = idColumn; self.plan = plan; self.revenue = revenue; self.late = late; self.time = time
        metrics = MetricRecorder(metrics: RunInfo.metrics(of: model))
    }

    /// The first id that occurs more than once, with its lines.
    var firstRepeatedID: (String, [Int])? {
        repeatedOrder.first.map { ($0, repeated[$0]!.sorted()) }
    }

    /// Whether the id is new to the run; a repeat is noted (with its line), and nothing more is
    /// written, since the run will be refused.
    private mutating func isFirst(_ id: String, line: Int) -> Bool {
        guard let first = firstLine[id] else {
            firstLine[id] = Int32(clamping: line)
            return repeatedOrder.isEmpty
        }
        if repeated[id] == nil { repeated[id] = [Int(first)]; repeatedOrder.append(id) }
        repeated[id]!.append(line)
        return false
    }

    mutating func add(_ piece: ScoreFile.Piece, path: String, to writer: RunWriter) throws {
        guard let idColumn, let ids = piece.table.column(named: idColumn) else {
            throw HistoryError(path: path, problem: "no column '\(idColumn ?? "")' (the customer id column)",
                               fix: "add the customer id column to the input, or name it with --id; the score history keys every score by it")
        }
        let revenueValues = try revenue.map { try numbers(piece, column: $0, flag: "--revenue", allowNegative: false, path: path) }
        let lateValues = try late.map { try numbers(piece, column: $0, flag: "--late", allowNegative: true, path: path) }
        if let time, let t = piece.table.column(named: time), case .text(_, let levels) = t.values { snapshots.formUnion(levels) }
        let s = piece.scored
        let k = s.reasons
        var problem = 0
        for i in 0..<piece.rowCount {
            guard let id = ids.text(at: i), !id.trimmingCharacters(in: .whitespaces).isEmpty else {
                if !s.isScored(i) { continue }
                throw HistoryError(path: path, problem: "line \(piece.line(ofRow: i)): the customer id ('\(idColumn)') is missing",
                                   fix: "fill in the id, or remove the row")
            }
            let line = piece.line(ofRow: i)
            guard s.isScored(i) else {
                while problem < s.problems.count && s.problems[problem].row < i { problem += 1 }
                unscoredCount += 1
                if isFirst(id, line: line) { try writer.add(UnscoredRecord(customerID: id, problem: s.problems[problem].short)) }
                continue
            }
            guard isFirst(id, line: line) else { continue }
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
            try writer.add(record, row: line)
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
