import Foundation
import Support
import Accuracy
import ScoringCore

/// Plain-text renderings of evaluations and comparisons for the terminal.
public enum ReportText {
    /// `paint` colours a band label for a terminal (identity for files and pipes).
    public static func evaluation(_ e: ScoreEvaluation, title: String, note: String? = nil,
                                  paint: (String) -> String = { $0 }) -> String {
        var out = title + "\n" + String(repeating: "=", count: 100) + "\n"
        if let note { out += note + "\n" }
        let r = e.roc
        out += "Rows:          \(e.count)   churners \(e.churners) (\(pct(e.churnRate)))\n"
        out += "Ranking:       AUC \(f4(r.auc)) [\(f4(r.lower)), \(f4(r.upper))] (DeLong \(Int(100 * r.confidenceLevel))%)   "
            + "KS \(f4(e.ks.statistic))   average precision \(f4(e.averagePrecision))\n"
        out += "Probabilities: log loss \(f4(e.logLoss))   Brier \(f4(e.brierScore)) (skill \(f4(e.brierSkillScore)))\n"
        var calibration = "Calibration:   ECE \(f4(e.reliability.expectedCalibrationError))"
        if let c = e.calibration { calibration += "   intercept \(f4(c.intercept))   slope \(f4(c.slope))" }
        if let h = e.hosmerLemeshow {
            calibration += "   Hosmer–Lemeshow χ²(\(h.degreesOfFreedom)) = \(String(format: "%.2f", h.statistic)), p \(h.pValue < 0.001 ? "" : "= ")\(pValue(h.pValue))"
        }
        out += calibration + "\n"
        if let lift = e.lift {
            out += "\nLift by decile (highest risk first):\n"
            out += pad("decile", 8) + lpad("rows", 8) + lpad("churners", 10) + lpad("rate", 9) + lpad("lift", 8) + lpad("cum. share", 12) + "\n"
            for g in lift.groups {
                out += pad("\(g.group)", 8) + lpad("\(g.count)", 8) + lpad("\(g.churners)", 10) + lpad(pct(g.churnRate), 9)
                    + lpad(String(format: "%.2f", g.lift), 8) + lpad(pct(g.cumulativeShareOfChurners), 12) + "\n"
            }
        }
        out += "\nReliability (\(e.reliability.binning.rawValue) bins):\n"
        out += pad("bin", 6) + lpad("rows", 8) + lpad("predicted", 11) + lpad("observed", 10) + "\n"
        for (i, b) in e.reliability.bins.enumerated() {
            out += pad("\(i + 1)", 6) + lpad("\(b.count)", 8) + lpad(pct(b.meanPredicted), 11) + lpad(pct(b.observedRate), 10) + "\n"
        }
        if let bands = e.bands {
            out += "\nChurn rate by health band (95% Wilson interval):\n"
            for b in bands.sorted(by: { (bandOrder($0.band), $0.band) < (bandOrder($1.band), $1.band) }) {
                out += paint(pad(b.band, 10)) + lpad("\(b.count) rows", 12) + lpad(pct(b.rate), 9) + "  [\(pct(b.lower)), \(pct(b.upper))]\n"
            }
        }
        for w in e.warnings { out += "note: \(w)\n" }
        return out
    }

    public static func comparison(_ c: ComparisonReport) -> String {
        var out = "Out-of-sample comparison: \(c.design)\n" + String(repeating: "=", count: 120) + "\n"
        out += "Rows judged: \(c.rows) (out of fold)"
        if !c.excludedRows.isEmpty {
            out += "; left out: " + c.excludedRows.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: "; ")
        }
        out += "\nBands: each fitted model's own (frozen at fit: training quartiles by default); scorecards: unhealthy < \(num(c.bands.poor)) ≤ at_risk < \(num(c.bands.good)) ≤ healthy\n\n"
        out += pad("candidate", 18) + lpad("AUC [95% CI]", 22) + lpad("log loss", 10) + lpad("Brier", 8) + lpad("ECE", 7)
            + lpad("top-10% lift", 13) + lpad("churn unhealthy/at_risk/healthy", 32) + lpad("p vs first", 12) + "\n"
        out += String(repeating: "-", count: 120) + "\n"
        for r in c.candidates {
            let e = r.pooled
            let auc = "\(f3(e.roc.auc)) [\(f3(e.roc.lower)), \(f3(e.roc.upper))]"
            let rates = HealthBandsOrder.rates(e.bands)
            out += pad(r.name, 18) + lpad(auc, 22) + lpad(f4(e.logLoss), 10) + lpad(f4(e.brierScore), 8)
                + lpad(f3(e.reliability.expectedCalibrationError), 7) + lpad(e.lift.map { String(format: "%.2f", $0.topGroupLift) } ?? "n/a", 13)
                + lpad(rates, 32) + lpad(r.versusFirst.map { pValue($0.pValue) } ?? "—", 12) + "\n"
        }
        out += "\n" + c.verdict + "\n"
        out += "\nCandidates:\n"
        for r in c.candidates {
            var line = "  \(r.name): \(r.spec)"
            if r.aucByRepetition.count > 1 {
                let m = r.aucByRepetition.reduce(0, +) / Double(r.aucByRepetition.count)
                let sd = (r.aucByRepetition.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(r.aucByRepetition.count - 1)).squareRoot()
                line += "; AUC over \(r.aucByRepetition.count) repetitions \(f3(m)) ± \(f3(sd))"
            }
            out += line + "\n"
        }
        out += "\nPer split (AUC / calibration-in-the-large, predicted − observed churn rate):\n"
        out += pad("split", 34) + c.candidates.map { lpad($0.name, 22) }.joined() + "\n"
        for (i, s) in (c.candidates.first?.splits ?? []).enumerated() {
            out += pad(s.split, 34) + c.candidates.map { r in
                let m = r.splits[i]
                return lpad("\(m.auc.map(f3) ?? "n/a") / \(String(format: "%+.3f", m.calibrationInTheLarge))", 22)
            }.joined() + "\n"
        }
        return out
    }

    /// One row per candidate, for spreadsheets.
    public static func comparisonCSV(_ c: ComparisonReport) -> String {
        var out = "candidate,spec,rows,auc,auc_lower,auc_upper,log_loss,brier,brier_skill,ece,calibration_slope,top_decile_lift,churn_unhealthy,churn_at_risk,churn_healthy,delong_z_vs_first,delong_p_vs_first\n"
        for r in c.candidates {
            let e = r.pooled
            func band(_ name: String) -> String { e.bands?.first { $0.band == name }.map { "\($0.rate)" } ?? "" }
            let fields: [String] = [
                r.name, r.spec, "\(e.count)", "\(e.roc.auc)", "\(e.roc.lower)", "\(e.roc.upper)", "\(e.logLoss)", "\(e.brierScore)",
                "\(e.brierSkillScore)", "\(e.reliability.expectedCalibrationError)", e.calibration.map { "\($0.slope)" } ?? "",
                e.lift.map { "\($0.topGroupLift)" } ?? "", band("unhealthy"), band("at_risk"), band("healthy"),
                r.versusFirst.map { "\($0.z)" } ?? "", r.versusFirst.map { "\($0.pValue)" } ?? "",
            ]
            out += fields.map(CSVBytes.quoted).joined(separator: ",") + "\n"
        }
        return out
    }

    static func bandOrder(_ b: String) -> Int { HealthBands.order.firstIndex(of: b) ?? 99 }
    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
    static func f3(_ x: Double) -> String { String(format: "%.3f", x) }
    /// Four decimals; a value that rounds to zero prints as 0.0000, not -0.0000.
    static func f4(_ x: Double) -> String {
        let text = String(format: "%.4f", x)
        return text == "-0.0000" ? "0.0000" : text
    }
    static func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
    static func num(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
    static func pValue(_ p: Double) -> String { p < 0.001 ? "< 0.001" : String(format: "%.3f", p) }
}

enum HealthBandsOrder {
    /// "12.3% / 5.0% / 1.2%" in unhealthy, at_risk, healthy order (n/a for an empty band).
    static func rates(_ bands: [BandChurnRate]?) -> String {
        ["unhealthy", "at_risk", "healthy"].map { name in
            bands?.first { $0.band == name }.map { ReportText.pct($0.rate) } ?? "n/a"
        }.joined(separator: " / ")
    }
}
