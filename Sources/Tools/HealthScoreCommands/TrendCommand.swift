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
