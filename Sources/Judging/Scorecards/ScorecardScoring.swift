import Foundation
import ScoringCore
import Support

extension Scorecard {
    /// Health per row on `scale` (0–100 by default): higher = healthier = lower churn risk.
    /// Takes the same columns as `Scorer` (numbers with NaN for missing, text with nil for missing);
    /// throws on the first row that cannot be scored, naming row (1-based) and column.
    public func score(rowCount: Int, columns: [String: ScoringColumn]) throws -> [Double] {
        try totals(rowCount: rowCount, columns: columns).map(health(total:))
    }

    /// −health per row, for metrics that rank by "higher = more likely to churn".
    public func risk(rowCount: Int, columns: [String: ScoringColumn]) throws -> [Double] {
        try score(rowCount: rowCount, columns: columns).map { -$0 }
    }

    /// The summed points per row (before mapping onto the scale).
    public func totals(rowCount: Int, columns: [String: ScoringColumn]) throws -> [Double] {
        try points(rowCount: rowCount, columns: columns).map { $0.reduce(0, +) }
    }

    /// Points per row, per metric: `result[row][k]` is what `metrics[k]` gave that row. Use it to explain
    /// a score (each metric's points out of `metricRanges[k]`).
    public func points(rowCount: Int, columns: [String: ScoringColumn]) throws -> [[Double]] {
        guard rowCount >= 0 else {
            throw Diagnostic(.scorecard, problem: "row count \(rowCount) is negative", fix: "pass the number of rows in the input")
        }
        try checkScorable()
        let compiled = try metrics.map { try CompiledMetric($0, card: self, columns: columns, rowCount: rowCount) }
        var out: [[Double]] = []
        out.reserveCapacity(rowCount)
        var row = [Double](repeating: 0, count: compiled.count)
        for i in 0..<rowCount {
            for (k, m) in compiled.enumerated() { row[k] = try m.points(row: i) }
            out.append(row)
        }
        return out
    }

    /// A card built in code skips the file checks; refuse one whose totals cannot be mapped.
    private func checkScorable() throws {
        guard !metrics.isEmpty else {
            throw Diagnostic(.scorecard, problem: "scorecard '\(name)' has no metrics", fix: "add at least one metric")
        }
        guard scale.min.isFinite, scale.max.isFinite, scale.min < scale.max else {
            throw Diagnostic(.scorecard, problem: "scorecard '\(name)' has scale min \(ScorecardFormat.number(scale.min)) not below max \(ScorecardFormat.number(scale.max))",
                                 fix: "use e.g. scale {min: 0, max: 100}")
        }
        for (m, r) in zip(metrics, metricRanges) {
            guard let r, r.lowest.isFinite, r.highest.isFinite else {
                throw Diagnostic(.scorecard, column: m.column, problem: "metric '\(m.name)' has unbounded points",
                                     fix: "give its weight a cap or range, and its tiers/levels finite points")
            }
        }
        guard highestTotal > lowestTotal else {
            throw Diagnostic(.scorecard, problem: "scorecard '\(name)' gives every customer the same total",
                                 fix: "give the metrics points that differ between customers")
        }
    }
}

/// One metric bound to its input column.
private struct CompiledMetric {
    let metric: Scorecard.Metric
    let cells: ScoringColumn
    let missingPoints: Double?
    let levelPoints: [String: Double]

    init(_ metric: Scorecard.Metric, card: Scorecard, columns: [String: ScoringColumn], rowCount: Int) throws {
        self.metric = metric
        guard let c = columns[metric.column] else {
            throw Diagnostic(.scorecard, column: metric.column, problem: "the scorecard's metric '\(metric.name)' needs this column and the input has none",
                                 fix: "add the column '\(metric.column)' to the input, or point the metric at another with `column:`")
        }
        let count: Int
        switch c {
        case .numbers(let x): count = x.count
        case .strings(let s): count = s.count
        }
        guard count == rowCount else {
            throw Diagnostic(.scorecard, column: metric.column, problem: "the column has \(count) values for \(rowCount) rows",
                                 fix: "pass one value per row (empty for missing)")
        }
        cells = c
        missingPoints = card.missingPoints(of: metric)
        if case .levels(let levels, _) = metric.rule {
            levelPoints = Dictionary(levels.map { ($0.name, $0.points) }, uniquingKeysWith: { a, _ in a })
        } else {
            levelPoints = [:]
        }
    }

    func points(row i: Int) throws -> Double {
        switch metric.rule {
        case .linear(let l):
            guard let v = try number(row: i) else { return try missing(row: i) }
            return l.points(for: v)
        case .tiers(let tiers):
            guard let v = try number(row: i) else { return try missing(row: i) }
            guard let t = tiers.first(where: { $0.matches(v) }) else {
                throw Diagnostic(.scorecard, row: i + 1, column: metric.column,
                                     problem: "value \(ScorecardFormat.number(v)) matches none of the tiers of '\(metric.name)'",
                                     fix: "end the tier list with a catch-all such as {points: 0}")
            }
            return t.points
        case .levels(let levels, let other):
            guard let level = try text(row: i) else { return try missing(row: i) }
            if let p = levelPoints[level] { return p }
            if let other { return other }
            let known = levels.map(\.name)
            let shown = known.count <= 8 ? known.joined(separator: ", ") : known.prefix(8).joined(separator: ", ") + ", …"
            throw Diagnostic(.scorecard, row: i + 1, column: metric.column,
                                 problem: "level '\(level)' is not listed in the levels of '\(metric.name)' (\(shown)) and the metric has no 'other'",
                                 fix: "add '\(level)' under levels, set 'other: POINTS' for unlisted levels, or correct the value")
        }
    }

    private func missing(row i: Int) throws -> Double {
        if let missingPoints { return missingPoints }
        throw Diagnostic(.scorecard, row: i + 1, column: metric.column,
                             problem: "missing value, and the scorecard says missing: error",
                             fix: "fill the value, or set 'missing: zero' or 'missing: lowest' (for the card or for metric '\(metric.name)')")
    }

    /// The cell as a finite number, nil when missing.
    private func number(row i: Int) throws -> Double? {
        switch cells {
        case .numbers(let x):
            let v = x[i]
            if v.isNaN { return nil }
            guard v.isFinite else {
                throw Diagnostic(.scorecard, row: i + 1, column: metric.column, problem: "infinite value",
                                     fix: "replace it with a finite number, or an empty cell for missing")
            }
            return v
        case .strings(let s):
            guard let raw = s[i] else { return nil }
            let t = raw.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { return nil }
            guard let v = Double(t) else {
                throw Diagnostic(.scorecard, row: i + 1, column: metric.column, problem: "'\(raw)' is not a number",
                                     fix: "clean the value (metric '\(metric.name)' reads numbers), or leave the cell empty for missing")
            }
            guard v.isFinite else {
                throw Diagnostic(.scorecard, row: i + 1, column: metric.column, problem: "'\(raw)' is not a finite number",
                                     fix: "replace it with a finite number, or an empty cell for missing")
            }
            return v
        }
    }

    /// The cell as a level, nil when missing.
    private func text(row i: Int) throws -> String? {
        switch cells {
        case .strings(let s):
            guard let raw = s[i] else { return nil }
            let t = raw.trimmingCharacters(in: .whitespaces)
            return t.isEmpty ? nil : t
        case .numbers(let x):
            let v = x[i]
            if v.isNaN { return nil }
            guard v.isFinite else {
                throw Diagnostic(.scorecard, row: i + 1, column: metric.column, problem: "infinite value",
                                     fix: "replace it with one of the levels of '\(metric.name)', or an empty cell for missing")
            }
            return ScorecardFormat.number(v)
        }
    }
}
