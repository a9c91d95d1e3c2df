import Evaluation
import Foundation
import Accuracy
import ScoringCore
import Tabular
import Support

/// What `compare`/`backtest --json` wrote, read back for the report's comparison sections.
public struct ComparisonFile: Decodable {
    public var comparison: ComparisonReport
    public var timeFolds: TimeFoldPlanSummary?
}

/// `healthscore report`: one self-contained HTML page (inline SVG and CSS, no network).
public enum HTMLReport {
    public static func build(modelPath: String, dataPath: String, comparisonPath: String? = nil, atRisk: Int = 25,
                             allowUnsigned: Bool = false) throws -> String {
        let model = try ModelArtifact.load(path: modelPath, allowUnsigned: allowUnsigned)
        let data = try ReportData.load(model: model, dataPath: dataPath, atRisk: atRisk)
        let scored = data.sample
        let evaluation = try Accuracy.evaluate(labels: scored.labels, scores: scored.probabilities,
                                                   bands: scored.bands.contains(-1) ? nil : scored.bandNames { _ in "" })
        var comparison: ComparisonFile? = nil
        if let comparisonPath {
            guard let data = FileManager.default.contents(atPath: comparisonPath) else {
                throw Diagnostic(.report, problem: "\(comparisonPath): cannot read the comparison. Fix: pass the file written by 'healthscore compare … --json > FILE'")
            }
            do { comparison = try JSONDecoder().decode(ComparisonFile.self, from: data) } catch {
                throw Diagnostic(.report, problem: "\(comparisonPath): not a comparison written by 'healthscore compare --json' (\(error)). Fix: rerun compare with --json")
            }
        }
        var page = Page(title: "Customer health report — \(model.training.file)")
        page.header(model: model, modelPath: modelPath, dataPath: dataPath, data: data)
        page.summary(data)
        page.weights(model: model)
        page.ranking(evaluation)
        page.calibration(evaluation)
        page.lift(evaluation)
        page.bands(model: model, data: data, evaluation: evaluation)
        if let comparison { page.comparison(comparison) }
        page.atRisk(model: model, data: data)
        return page.html()
    }
}


struct Page {
    var title: String
    var sections: [String] = []

    mutating func add(_ id: String, _ heading: String, _ body: String) {
        sections.append("<section id=\"\(id)\"><h2>\(escape(heading))</h2>\(body)</section>")
    }

    mutating func header(model: ModelArtifact, modelPath: String, dataPath: String, data: ReportData) {
        let f = model.fit
        var rows = [("Model", (modelPath as NSString).lastPathComponent), ("Data", (dataPath as NSString).lastPathComponent),
                    ("Trained on", "\(model.training.file) (\(f.nObservations) rows, \(f.nEvents) churners), \(model.createdAt)"),
                    ("Method", f.method), ("Penalty", f.penalty), ("Checksum", model.checksum ?? "—")]
        if !data.sample.excluded.isEmpty {
            rows.append(("Left out", data.sample.excluded.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: "; ")))
        }
        var body = table(["", ""], rows.map { [$0.0, $0.1] }, header: false)
        if !model.warnings.isEmpty {
            body += "<ul class=\"warnings\">" + model.warnings.map { "<li><b>\(escape($0.code))</b>: \(escape($0.message))</li>" }.joined() + "</ul>"
        }
        add("overview", "Overview", body)
    }

    mutating func summary(_ data: ReportData) {
        let n = data.sample.count
        let churners = Int(data.sample.labels.reduce(0, +))
        var body = "<p>\(n) " + (data.customers.map { "snapshots of \($0.count) customers" } ?? "customers")
            + " judged, \(churners) churned (\(pct(Double(churners) / Double(max(n, 1)))))"
            + (data.customers != nil ? "; each snapshot is judged on what followed it.</p>" : ".</p>")
        var charts = ""
        var rows: [[String]] = []
        // Metrics describe every labelled row, including those left out for a missing value.
        let described = max(data.labelledRows, 1)
        if data.labelledRows > n {
            body += "<p>The metric summaries describe all \(data.labelledRows) labelled rows, including the \(data.labelledRows - n) left out.</p>"
        }
        for m in data.metrics {
            let missing = pct(Double(m.missing) / Double(described))
            if let levels = m.levels {
                let top = levels.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(3)
                    .map { "\($0.key) \(pct(Double($0.value) / Double(described)))" }
                rows.append([m.name, "categorical (\(levels.count) levels)", top.joined(separator: ", "), "", "", "", missing])
            } else if m.moments.count > 0 {
                let lo = m.moments.minimum, hi = m.moments.maximum
                rows.append([m.name, "numeric", num(m.moments.mean), num(m.moments.sd), num(lo), num(hi), missing])
                if charts.count < 400_000 { charts += distribution(m) }
            }
        }
        body += table(["metric", "type", "mean / top levels", "sd", "min", "max", "missing"], rows)
        body += "<div class=\"grid\">" + charts + "</div>"
        add("summary", "Data summary and metric distributions", body)
    }

    /// Histogram of one metric, churned and retained customers as densities on shared bins.
    func distribution(_ m: ReportData.MetricSummary) -> String {
        let bins = m.retained.count
        let lo = m.moments.minimum, hi = m.moments.maximum
        let width = hi > lo ? (hi - lo) / Double(bins) : 1
        let nc = max(m.churned.reduce(0, +), 1), nk = max(m.retained.reduce(0, +), 1)
        let dc = m.churned.map { $0 / nc }, dk = m.retained.map { $0 / nk }
        let top = max(dc.max() ?? 0, dk.max() ?? 0, 1e-9)
        var plot = Plot(title: m.name, x: lo...(hi > lo ? hi : lo + 1), y: 0...top * 1.05, xLabel: m.name, yLabel: "share",
                        width: 360, height: 200)
        plot.left = 44; plot.bottom = 40
        plot.bars((0..<bins).map { (lo + Double($0) * width, lo + Double($0 + 1) * width, dk[$0]) }, cls: "bar-kept")
        plot.bars((0..<bins).map { (lo + (Double($0) + 0.25) * width, lo + (Double($0) + 0.75) * width, dc[$0]) }, cls: "bar-churned")
        return "<figure>" + plot.svg(legend: [("bar-kept", "retained"), ("bar-churned", "churned")]) + "</figure>"
    }

    mutating func weights(model: ModelArtifact) {
        let sd: [String: Double] = Dictionary(model.schema.features.compactMap { f in f.standardDeviation.map { (f.column, $0) } },
                                               uniquingKeysWith: { a, _ in a })
        // Per standard deviation for numbers and groups, per level change for categories: one scale to compare.
        // A points model is read in points of health score (−factor × log-odds; a loss is a risk).
        let points = model.scoring.flatMap { $0.scale.kind == .points ? $0.scale.factor : nil }
        let unit = points.map { -$0 } ?? 1
        let terms = model.coefficients.dropFirst().compactMap { c -> (String, Double, Double?, Double?)? in
            let s = (c.level == nil ? (sd[c.term] ?? 1) : 1) * unit
            let a = c.ciLower.map { $0 * s }, b = c.ciUpper.map { $0 * s }
            return (c.term + (c.level == nil && sd[c.term] != nil ? " (per sd)" : ""), c.estimate * s,
                    unit < 0 ? b : a, unit < 0 ? a : b)
        }.sorted { abs($0.1) > abs($1.1) }.prefix(30)
        guard !terms.isEmpty else { return }
        let lo = min(terms.map { $0.2 ?? $0.1 }.min() ?? 0, 0), hi = max(terms.map { $0.3 ?? $0.1 }.max() ?? 0, 0)
        let rowHeight = 18.0
        var plot = Plot(title: points == nil ? "Weights: log-odds of churn (95% intervals)" : "Weights: points of health score (95% intervals)",
                        x: lo...hi, y: 0...Double(terms.count),
                        xLabel: points == nil ? "change in log-odds of churn (per sd, or vs the reference level)"
                            : "change in health score points (per sd, or vs the reference level)", yLabel: "",
                        width: 760, height: 60 + rowHeight * Double(terms.count))
        plot.left = 240
        plot.whisker(x: 0, y0: 0, y1: Double(terms.count), cls: "zero")
        for (k, t) in terms.enumerated() {
            let y = Double(terms.count - k) - 0.5
            if let a = t.2, let b = t.3 { plot.whisker(x0: a, x1: b, y: y, cls: "interval") }
            plot.points([(t.1, y)], cls: (t.1 > 0) == (points == nil) ? "risk" : "protect", titles: ["\(t.0): \(num(t.1))"])
            plot.text(t.0, x: lo, y: y - 0.15, anchor: "end", cls: "term")
        }
        var body = "<figure>" + plot.svg(yTicks: []) + "</figure>"
        let impacts = model.impacts.sorted { abs($0.deltaProbability) > abs($1.deltaProbability) }.prefix(15)
        if !impacts.isEmpty {
            body += "<p>Change in churn probability for the average customer:</p>"
            body += table(["metric", "change", "churn probability", "Δ"],
                          impacts.map { [$0.term, $0.change, "\(pct($0.baseProbability)) → \(pct($0.newProbability))", signedPoints(100 * $0.deltaProbability)] })
        }
        add("weights", "Weights and their impact", body)
    }

    mutating func ranking(_ e: ScoreEvaluation) {
        var roc = Plot(title: "ROC curve — AUC \(f3(e.roc.auc)) [\(f3(e.roc.lower)), \(f3(e.roc.upper))]", x: 0...1, y: 0...1,
                       xLabel: "false-positive rate", yLabel: "true-positive rate", width: 420, height: 360)
        roc.line([(0, 0), (1, 1)], cls: "diagonal", dashed: true)
        roc.line(e.rocCurve.points.map { ($0.fpr, $0.tpr) }, cls: "s1")
        // Precision from the curve's rates: P·tpr / (P·tpr + N·fpr).
        let pos = Double(e.churners), neg = Double(e.count - e.churners)
        let pr = e.rocCurve.points.filter { $0.tpr > 0 }.map { ($0.tpr, pos * $0.tpr / (pos * $0.tpr + neg * $0.fpr)) }
        var prPlot = Plot(title: "Precision–recall — average precision \(f3(e.averagePrecision))", x: 0...1, y: 0...1,
                          xLabel: "recall (share of churners flagged)", yLabel: "precision", width: 420, height: 360)
        prPlot.line([(0, e.churnRate), (1, e.churnRate)], cls: "diagonal", dashed: true)
        prPlot.line(pr, cls: "s1")
        add("ranking", "Ranking: who will churn", "<div class=\"grid\"><figure>\(roc.svg())</figure><figure>\(prPlot.svg())</figure></div>"
            + "<p>KS \(f3(e.ks.statistic)); log loss \(f4(e.logLoss)); Brier \(f4(e.brierScore)) (skill \(f3(e.brierSkillScore))).</p>")
    }

    mutating func calibration(_ e: ScoreEvaluation) {
        let bins = e.reliability.bins
        let top = max(bins.map { max($0.meanPredicted, $0.observedRate) }.max() ?? 1, 0.01) * 1.05
        var plot = Plot(title: "Calibration: predicted vs observed churn", x: 0...top, y: 0...top,
                        xLabel: "mean predicted churn probability", yLabel: "observed churn rate", width: 420, height: 360)
        plot.line([(0, 0), (top, top)], cls: "diagonal", dashed: true)
        plot.line(bins.map { ($0.meanPredicted, $0.observedRate) }, cls: "s1")
        plot.points(bins.map { ($0.meanPredicted, $0.observedRate) }, cls: "s1dot",
                    titles: bins.map { "\($0.count) customers: predicted \(pct($0.meanPredicted)), observed \(pct($0.observedRate))" })
        var text = "<p>Expected calibration error \(f4(e.reliability.expectedCalibrationError))"
        if let c = e.calibration { text += "; calibration intercept \(f3(c.intercept)), slope \(f3(c.slope))" }
        if let h = e.hosmerLemeshow { text += "; Hosmer–Lemeshow χ²(\(h.degreesOfFreedom)) = \(String(format: "%.2f", h.statistic)), p = \(f3(h.pValue))" }
        add("calibration", "Calibration", "<figure>\(plot.svg())</figure>" + text + ".</p>")
    }

    mutating func lift(_ e: ScoreEvaluation) {
        guard let lift = e.lift else { return }
        let n = Double(lift.groups.count)
        var gains = Plot(title: "Cumulative gains: churners reached by working the list from the top", x: 0...1, y: 0...1,
                         xLabel: "share of customers contacted", yLabel: "share of churners reached", width: 420, height: 360)
        gains.line([(0, 0), (1, 1)], cls: "diagonal", dashed: true)
        gains.line([(0, 0)] + lift.groups.enumerated().map { (Double($0.offset + 1) / n, $0.element.cumulativeShareOfChurners) }, cls: "s1")
        let topLift = (lift.groups.map(\.lift).max() ?? 1) * 1.1
        var bars = Plot(title: "Lift by decile (top decile lift \(String(format: "%.2f", lift.topGroupLift)))", x: 0.5...(n + 0.5), y: 0...topLift,
                        xLabel: "decile of predicted risk (1 = highest)", yLabel: "lift", width: 420, height: 360)
        bars.bars(lift.groups.map { (Double($0.group) - 0.4, Double($0.group) + 0.4, $0.lift) }, cls: "bar-churned")
        bars.line([(0.5, 1), (n + 0.5, 1)], cls: "diagonal", dashed: true)
        add("lift", "Lift and gains", "<div class=\"grid\"><figure>\(gains.svg())</figure><figure>\(bars.svg(xTicks: lift.groups.map { (Double($0.group), "\($0.group)") }))</figure></div>")
    }

    mutating func bands(model: ModelArtifact, data: ReportData, evaluation e: ScoreEvaluation) {
        guard let spec = model.scoring, !spec.bands.isEmpty else { return }
        let scores = data.sample.scores
        guard let lo = scores.min(), let hi = scores.max() else { return }
        let bins = 40
        let width = hi > lo ? (hi - lo) / Double(bins) : 1
        var counts = [[Double]](repeating: [Double](repeating: 0, count: bins), count: spec.bands.count)
        for (i, s) in scores.enumerated() {
            let b = min(max(Int((s - lo) / width), 0), bins - 1)
            let k = Int(data.sample.bands[i])
            counts[k >= 0 && k < spec.bands.count ? k : spec.bands.count - 1][b] += 1
        }
        let top = (0..<bins).map { b in counts.reduce(0) { $0 + $1[b] } }.max() ?? 1
        var plot = Plot(title: "Health score by band", x: lo...(hi > lo ? hi : lo + 1), y: 0...max(top, 1) * 1.05,
                        xLabel: "health score (\(spec.scale.kind.rawValue) scale)", yLabel: "customers", width: 760, height: 300)
        for (k, band) in spec.bands.enumerated() {
            var base = [Double](repeating: 0, count: bins)
            for j in 0..<k { for b in 0..<bins { base[b] += counts[j][b] } }
            for b in 0..<bins where counts[k][b] > 0 {
                plot.bars([(lo + Double(b) * width, lo + Double(b + 1) * width, base[b] + counts[k][b])], cls: "band-\(Self.colourClass(band.colour))", base: base[b])
            }
        }
        var body = "<figure>" + plot.svg(legend: spec.bands.map { ("band-\(Self.colourClass($0.colour))", $0.label) }) + "</figure>"
        // Each cut with the churn rate of the band it opens, so a CS team reads what a band means.
        let rateOf: [String: Double] = Dictionary((e.bands ?? []).map { ($0.band, $0.rate) }, uniquingKeysWith: { a, _ in a })
        body += "<p>Bands frozen at fit (\(escape(spec.bandMethod))): " + spec.bands.map { b in
            "<span class=\"chip band-\(Self.colourClass(b.colour))\">\(escape(b.label))</span>" + (b.minScore.map { " ≥ \(num($0))" } ?? "")
                + (rateOf[b.label].map { " (churn \(pct($0)))" } ?? "")
        }.joined(separator: " · ") + "</p>"
        if spec.scale.kind == .probability, let highest = spec.bands.compactMap(\.minScore).filter(\.isFinite).max(), highest >= 90 {
            body += "<p class=\"note\">On the probability scale the health score is 100 × the chance of staying, so when few customers "
                + "churn the cuts crowd near 100 (here \(num(highest))). The same model and bands read more naturally in points: "
                + "<code>healthscore export MODEL --format json --scale points --out points.json</code> (20 points double the odds "
                + "of staying; every customer keeps their band).</p>"
        }
        if let view = data.customers {
            body += "<p>Customers at their latest snapshot (\(escape(view.firstLatest)) to \(escape(view.lastLatest))), "
                + "\(view.count) customers; \(view.churned) churned after it and are no longer customers:</p>"
            body += table(["band", "customers at latest snapshot", "churned after it", "still customers"],
                          spec.bands.enumerated().map { k, b in
                              let c = k < view.bandCounts.count ? view.bandCounts[k] : (customers: 0, churned: 0)
                              return [b.label, "\(c.customers)", "\(c.churned)", "\(c.customers - c.churned)"]
                          })
            body += "<p>The churn rates below count snapshots, each judged on what followed it.</p>"
        }
        if let rates = e.bands {
            let ordered = spec.bands.compactMap { b in rates.first { $0.band == b.label }.map { (b, $0) } }
            let ymax = (ordered.map { $0.1.upper }.max() ?? 1) * 1.1
            var chart = Plot(title: "Churn rate per band (95% Wilson intervals)", x: 0.5...(Double(ordered.count) + 0.5), y: 0...max(ymax, 0.01),
                             xLabel: "band", yLabel: "churn rate", width: 420, height: 320)
            for (k, (band, r)) in ordered.enumerated() {
                let x = Double(k + 1)
                chart.bars([(x - 0.35, x + 0.35, r.rate)], cls: "band-\(Self.colourClass(band.colour))")
                chart.whisker(x: x, y0: r.lower, y1: r.upper, cls: "interval")
            }
            body += "<div class=\"grid\"><figure>" + chart.svg(xTicks: ordered.enumerated().map { (Double($0.offset + 1), $0.element.0.label) },
                                                               yTicks: Plot.ticks(0...max(ymax, 0.01)).map { ($0, pct($0)) }) + "</figure>"
            body += table(["band", "customers", "churned", "churn rate", "95% interval"],
                          ordered.map { [$0.0.label, "\($0.1.count)", "\($0.1.churners)", pct($0.1.rate), "\(pct($0.1.lower)) – \(pct($0.1.upper))"] }) + "</div>"
        }
        add("bands", "Health bands", body)
    }

    mutating func comparison(_ c: ComparisonFile) {
        let r = c.comparison
        var body = "<p>\(escape(r.design)); \(r.rows) rows judged out of fold.</p>"
        body += table(["candidate", "AUC [95% CI]", "log loss", "Brier", "ECE", "top-decile lift", "p vs first"], r.candidates.map { x in
            let e = x.pooled
            return [x.name, "\(f3(e.roc.auc)) [\(f3(e.roc.lower)), \(f3(e.roc.upper))]", f4(e.logLoss), f4(e.brierScore),
                    f3(e.reliability.expectedCalibrationError), e.lift.map { String(format: "%.2f", $0.topGroupLift) } ?? "—",
                    x.versusFirst.map { $0.pValue < 0.001 ? "< 0.001" : f3($0.pValue) } ?? "—"]
        })
        body += "<p class=\"verdict\">" + escape(r.verdict).replacingOccurrences(of: "\n", with: "<br>") + "</p>"
        if let first = r.candidates.first, first.splits.count > 1 {
            let n = Double(first.splits.count)
            let aucs = r.candidates.flatMap { $0.splits.compactMap(\.auc) }
            let lo = (aucs.min() ?? 0.5) - 0.02, hi = (aucs.max() ?? 1) + 0.02
            var plot = Plot(title: "AUC per fold" + (c.timeFolds != nil ? " over time" : ""), x: 0.5...(n + 0.5), y: lo...min(hi, 1),
                            xLabel: c.timeFolds != nil ? "test window" : "fold", yLabel: "AUC", width: 760, height: 320)
            var legend: [(String, String)] = []
            for (k, cand) in r.candidates.enumerated() {
                let pts = cand.splits.enumerated().compactMap { s in s.element.auc.map { (Double(s.offset + 1), $0) } }
                plot.line(pts, cls: "s\(k % 4 + 1)")
                plot.points(pts, cls: "s\(k % 4 + 1)dot")
                legend.append(("fill-s\(k % 4 + 1)", cand.name))
            }
            let ticks = first.splits.enumerated().map { (Double($0.offset + 1), c.timeFolds?.folds[safe: $0.offset]?.testStart ?? "\($0.offset + 1)") }
            body += "<figure>" + plot.svg(xTicks: ticks, legend: legend) + "</figure>"
            body += table(["split"] + r.candidates.map { "\($0.name): AUC / calibration-in-the-large" }, first.splits.indices.map { i in
                [first.splits[i].split] + r.candidates.map { x in "\(x.splits[i].auc.map(f3) ?? "—") / \(String(format: "%+.4f", x.splits[i].calibrationInTheLarge))" }
            })
        }
        add(c.timeFolds != nil ? "backtest" : "comparison", c.timeFolds != nil ? "Backtest over time and comparison" : "Model comparison", body)
    }

    mutating func atRisk(model: ModelArtifact, data: ReportData) {
        let colour: [String: String] = Dictionary((model.scoring?.bands ?? []).map { ($0.label, Self.colourClass($0.colour)) }, uniquingKeysWith: { a, _ in a })
        let snapshots = data.customers != nil
        let rows = data.atRisk.map { r -> [String] in
            let e = r.explanation
            let band = e.score.band.map { "<span class=\"chip band-\(colour[$0] ?? "grey")\">\(escape($0))</span>" } ?? ""
            let reasons = e.reasons.map { "\(escape($0.displayName)) = \(escape($0.value.isEmpty ? "missing" : $0.value)) (\(String(format: "%.1f", $0.points)))" }.joined(separator: "<br>")
            return [escape(r.id)] + (snapshots ? [escape(r.snapshot ?? "")] : [])
                + [String(format: "%.1f", e.score.healthScore), pct(e.score.churnProbability), band]
                + (snapshots ? [] : [r.churned ? "churned" : "stayed"]) + [reasons]
        }
        let intro: String
        if let view = data.customers {
            intro = "<p>Each customer once, at their latest snapshot; the \(view.churned) customers who churned after theirs are not listed"
                + (view.unscored > 0 ? ", nor the \(view.unscored) whose latest snapshot the model could not score (a missing value)" : "") + ".</p>"
        } else {
            intro = "<p>The rows of this file with the highest churn probability, and what happened to them.</p>"
        }
        add("at-risk", "Customers most at risk", intro + rawTable(
            ["customer"] + (snapshots ? ["latest snapshot"] : []) + ["health score", "churn probability", "band"]
                + (snapshots ? [] : ["outcome"]) + ["top reasons (points vs the average customer)"], rows))
    }

    func html() -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title><style>\(Self.css)</style></head>
        <body><main><h1>\(escape(title))</h1>
        <nav>\(sections.compactMap { s in Self.anchor(s) }.joined(separator: " · "))</nav>
        \(sections.joined(separator: "\n"))
        <footer>Generated by healthscore. Self-contained: no scripts, no network.</footer></main></body></html>

        """
    }

    static func anchor(_ section: String) -> String? {
        guard let idRange = section.range(of: "id=\""), let end = section[idRange.upperBound...].firstIndex(of: "\""),
              let h = section.range(of: "<h2>"), let he = section.range(of: "</h2>") else { return nil }
        return "<a href=\"#\(section[idRange.upperBound..<end])\">\(section[h.upperBound..<he.lowerBound])</a>"
    }

    static func colourClass(_ colour: String) -> String {
        ["green", "yellow", "red", "orange", "blue", "grey"].contains(colour.lowercased()) ? colour.lowercased() : "grey"
    }

    static let css = """
    :root{--fg:#1d2433;--muted:#5b6475;--bg:#fff;--grid:#e3e6ec;--s1:#2f6fdb;--s2:#d9480f;--s3:#2b8a3e;--s4:#7048e8;--green:#2f9e44;--yellow:#f2b705;--red:#e03131;--orange:#f76707;--blue:#1c7ed6;--grey:#868e96}
    @media (prefers-color-scheme: dark){:root{--fg:#e6e8ee;--muted:#a4abb8;--bg:#14171f;--grid:#2a2f3a;--s1:#74a7ff;--s2:#ff8a4c;--s3:#63d471;--s4:#b197fc}}
    @media print{:root{--fg:#000;--bg:#fff;--grid:#ddd} nav{display:none} section{break-inside:avoid}}
    body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
    main{max-width:1120px;margin:0 auto;padding:24px} h1{font-size:22px} h2{font-size:18px;border-bottom:1px solid var(--grid);padding-bottom:4px;margin-top:32px}
    nav a{color:var(--s1)} table{border-collapse:collapse;margin:8px 0} td,th{padding:3px 10px;border-bottom:1px solid var(--grid);text-align:left;vertical-align:top}
    .grid{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start} figure{margin:0} svg{max-width:100%;height:auto}
    svg text{fill:var(--fg);font-size:11px} svg .title{font-size:13px;font-weight:600} svg .tick{fill:var(--muted)} svg .term{font-size:10.5px}
    svg .grid{stroke:var(--grid)} svg .frame{stroke:var(--muted)} svg .diagonal,svg .zero{stroke:var(--muted);stroke-width:1}
    svg .s1{stroke:var(--s1);stroke-width:2} svg .s2{stroke:var(--s2);stroke-width:2} svg .s3{stroke:var(--s3);stroke-width:2} svg .s4{stroke:var(--s4);stroke-width:2}
    svg .s1dot{fill:var(--s1)} svg .s2dot{fill:var(--s2)} svg .s3dot{fill:var(--s3)} svg .s4dot{fill:var(--s4)}
    .fill-s1{fill:var(--s1)} .fill-s2{fill:var(--s2)} .fill-s3{fill:var(--s3)} .fill-s4{fill:var(--s4)}
    svg .interval{stroke:var(--fg);stroke-width:1.5} svg .risk{fill:var(--red)} svg .protect{fill:var(--green)}
    .bar-kept{fill:var(--s1);opacity:.55} .bar-churned{fill:var(--s2);opacity:.85}
    .band-green{fill:var(--green);background:var(--green)} .band-yellow{fill:var(--yellow);background:var(--yellow)} .band-red{fill:var(--red);background:var(--red)}
    .band-orange{fill:var(--orange);background:var(--orange)} .band-blue{fill:var(--blue);background:var(--blue)} .band-grey{fill:var(--grey);background:var(--grey)}
    .chip{color:#000;padding:1px 8px;border-radius:9px;font-size:12px} .warnings{color:var(--s2)} .verdict{font-weight:600} footer{margin-top:40px;color:var(--muted);font-size:12px}
    """
}

func table(_ header: [String], _ rows: [[String]], header showHeader: Bool = true) -> String {
    rawTable(header.map(escape), rows.map { $0.map(escape) }, header: showHeader)
}

/// Cells already escaped (they may hold markup).
func rawTable(_ header: [String], _ rows: [[String]], header showHeader: Bool = true) -> String {
    var s = "<table>"
    if showHeader { s += "<tr>" + header.map { "<th>\($0)</th>" }.joined() + "</tr>" }
    for r in rows { s += "<tr>" + r.map { "<td>\($0)</td>" }.joined() + "</tr>" }
    return s + "</table>"
}

func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
func f3(_ x: Double) -> String { String(format: "%.3f", x) }
func f4(_ x: Double) -> String { String(format: "%.4f", x) }
func num(_ x: Double) -> String { abs(x) >= 1e5 || (abs(x) < 1e-3 && x != 0) ? String(format: "%.3g", x) : String(format: "%.4g", x) }
func signedPoints(_ x: Double) -> String { (x >= 0 ? "+" : "") + String(format: "%.2f pp", x) }

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
