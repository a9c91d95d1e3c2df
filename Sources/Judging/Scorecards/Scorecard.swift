// Hand-weighted scorecards (the formula a customer-success team runs today), read from YAML and scored.
//
// The file format is documented at the top of ScorecardParsing.swift; scoring lives in ScorecardScoring.swift.
import Foundation

/// A hand-weighted health scorecard in the style of customer-success platforms (Gainsight, ChurnZero,
/// Totango): every metric earns points by a rule written down by the team, the points are summed, and
/// the total is mapped linearly onto `scale` (0–100 by default) from the lowest to the highest total the
/// card can give. Higher health = healthier = lower churn risk.
public struct Scorecard: Sendable, Equatable {
    /// The `scorecard:` name.
    public var name: String
    public var description: String?
    /// In the order the file lists them.
    public var metrics: [Metric]
    public var scale: Scale
    /// Points for a missing value, for metrics that do not set their own `missing:`.
    public var missing: MissingPoints

    public init(name: String, description: String? = nil, metrics: [Metric], scale: Scale = Scale(),
                missing: MissingPoints = .zero) {
        self.name = name
        self.description = description
        self.metrics = metrics
        self.scale = scale
        self.missing = missing
    }

    /// The output range the total is mapped onto.
    public struct Scale: Sendable, Equatable {
        public var min: Double
        public var max: Double
        public init(min: Double = 0, max: Double = 100) { self.min = min; self.max = max }
    }

    /// What a missing value earns.
    public enum MissingPoints: Sendable, Equatable, CustomStringConvertible {
        /// Zero points (the metric's range then includes 0, so the card's lowest/highest totals do too).
        case zero
        /// The metric's lowest points.
        case lowest
        /// Refuse the row, naming row and column.
        case error
        /// A fixed number of points (only on a metric: `missing: 5`).
        case points(Double)

        public var description: String {
            switch self {
            case .zero: return "zero"
            case .lowest: return "lowest"
            case .error: return "error"
            case .points(let p): return ScorecardFormat.number(p)
            }
        }
    }

    /// Which way is healthier for a numeric metric.
    public enum Direction: String, Sendable, Equatable, CaseIterable {
        case higher, lower
    }

    public struct Metric: Sendable, Equatable {
        /// The key under `metrics:`.
        public var name: String
        /// The input column (the name unless `column:` says otherwise).
        public var column: String
        public var display: String?
        public var direction: Direction?
        /// Overrides the card's `missing:` for this metric.
        public var missing: MissingPoints?
        public var rule: Rule

        public init(name: String, column: String? = nil, display: String? = nil, direction: Direction? = nil,
                    missing: MissingPoints? = nil, rule: Rule) {
            self.name = name
            self.column = column ?? name
            self.display = display
            self.direction = direction
            self.missing = missing
            self.rule = rule
        }

        /// True for tiers and linear weights (the column is read as numbers), false for levels.
        public var isNumeric: Bool {
            if case .levels = rule { return false }
            return true
        }

        /// The lowest and highest points the rule itself can give (missing values aside);
        /// nil when unbounded (a linear weight with neither cap nor range) or empty.
        public var rulePoints: PointRange? {
            switch rule {
            case .linear(let l): return l.pointRange
            case .tiers(let tiers):
                let p = tiers.map(\.points)
                guard let lo = p.min(), let hi = p.max() else { return nil }
                return PointRange(lowest: lo, highest: hi)
            case .levels(let levels, let other):
                let p = levels.map(\.points) + (other.map { [$0] } ?? [])
                guard let lo = p.min(), let hi = p.max() else { return nil }
                return PointRange(lowest: lo, highest: hi)
            }
        }
    }

    /// How a metric turns a value into points.
    public enum Rule: Sendable, Equatable {
        /// points = weight × value (value clamped into `range`), then clamped into `cap`.
        case linear(Linear)
        /// The first tier whose bounds hold the value gives its points.
        case tiers([Tier])
        /// Points per category level; `other` for a level not listed (nil: an unlisted level is an error).
        case levels([Level], other: Double?)
    }

    /// Optional lower and upper ends; a missing end is unbounded.
    public struct Bounds: Sendable, Equatable {
        public var min: Double?
        public var max: Double?
        public init(min: Double? = nil, max: Double? = nil) { self.min = min; self.max = max }

        func clamp(_ x: Double) -> Double {
            var v = x
            if let min, v < min { v = min }
            if let max, v > max { v = max }
            return v
        }
    }

    public struct Linear: Sendable, Equatable {
        public var weight: Double
        /// Clamp on the points.
        public var cap: Bounds?
        /// Clamp on the value (the range the data can take).
        public var range: Bounds?
        public init(weight: Double, cap: Bounds? = nil, range: Bounds? = nil) {
            self.weight = weight; self.cap = cap; self.range = range
        }

        public func points(for value: Double) -> Double {
            let v = range?.clamp(value) ?? value
            let p = weight * v
            return cap?.clamp(p) ?? p
        }

        /// weight × range, intersected with cap; nil when an end is unbounded or the two do not meet.
        public var pointRange: PointRange? {
            var lo = -Double.infinity, hi = Double.infinity
            if let range {
                let a = weight * (range.min ?? -.infinity), b = weight * (range.max ?? .infinity)
                // weight is non-zero for a parsed card; 0 × ∞ would be NaN.
                if weight != 0 { lo = Swift.min(a, b); hi = Swift.max(a, b) } else { lo = 0; hi = 0 }
            }
            if let cap {
                if let m = cap.min { lo = Swift.max(lo, m) }
                if let m = cap.max { hi = Swift.min(hi, m) }
                // Clamping into cap pulls every value into it even where weight × range lies outside.
                if let m = cap.min, hi < m { hi = m }
                if let m = cap.max, lo > m { lo = m }
            }
            guard lo.isFinite, hi.isFinite, lo <= hi else { return nil }
            return PointRange(lowest: lo, highest: hi)
        }
    }

    /// `from` inclusive, `below` exclusive; a tier with neither is the catch-all.
    public struct Tier: Sendable, Equatable {
        public var from: Double?
        public var below: Double?
        public var points: Double
        public init(from: Double? = nil, below: Double? = nil, points: Double) {
            self.from = from; self.below = below; self.points = points
        }
        public var isCatchAll: Bool { from == nil && below == nil }
        public func matches(_ x: Double) -> Bool {
            (from.map { x >= $0 } ?? true) && (below.map { x < $0 } ?? true)
        }
    }

    public struct Level: Sendable, Equatable {
        public var name: String
        public var points: Double
        public init(_ name: String, _ points: Double) { self.name = name; self.points = points }
    }

    public struct PointRange: Sendable, Equatable {
        public var lowest: Double
        public var highest: Double
        public init(lowest: Double, highest: Double) { self.lowest = lowest; self.highest = highest }
    }
}

extension Scorecard {
    /// Every input column the card reads, in metric order, each once.
    public var requiredColumns: [String] {
        var seen: Set<String> = []
        return metrics.map(\.column).filter { seen.insert($0).inserted }
    }

    /// Columns read as numbers (tiers and linear weights).
    public var numericColumns: [String] {
        var seen: Set<String> = []
        return metrics.filter(\.isNumeric).map(\.column).filter { seen.insert($0).inserted }
    }

    /// Columns read as text (levels), so the CLI keeps them as strings.
    public var categoricalColumns: [String] {
        var seen: Set<String> = []
        return metrics.filter { !$0.isNumeric }.map(\.column).filter { seen.insert($0).inserted }
    }

    public func metric(_ name: String) -> Metric? { metrics.first { $0.name == name } }

    /// The missing policy that applies to a metric.
    public func missingPolicy(of metric: Metric) -> MissingPoints { metric.missing ?? missing }

    /// Points a missing value of `metric` earns; nil under `missing: error` (or an unbounded rule).
    public func missingPoints(of metric: Metric) -> Double? {
        switch missingPolicy(of: metric) {
        case .zero: return 0
        case .points(let p): return p
        case .lowest: return metric.rulePoints?.lowest
        case .error: return nil
        }
    }

    /// Lowest and highest points per metric (in metric order), counting what a missing value earns;
    /// nil for a metric whose points are unbounded.
    public var metricRanges: [PointRange?] {
        metrics.map { m in
            guard var r = m.rulePoints else { return nil }
            if let p = missingPoints(of: m) {
                r.lowest = Swift.min(r.lowest, p)
                r.highest = Swift.max(r.highest, p)
            }
            return r
        }
    }

    /// The lowest total the card can give (maps to `scale.min`); −∞ when a metric is unbounded.
    public var lowestTotal: Double { metricRanges.reduce(0) { $0 + ($1?.lowest ?? -.infinity) } }
    /// The highest total the card can give (maps to `scale.max`); +∞ when a metric is unbounded.
    public var highestTotal: Double { metricRanges.reduce(0) { $0 + ($1?.highest ?? .infinity) } }

    /// A total mapped linearly onto the scale: lowest → scale.min, highest → scale.max (clamped).
    public func health(total: Double) -> Double {
        let lo = lowestTotal, hi = highestTotal
        guard hi > lo, lo.isFinite, hi.isFinite, total.isFinite else { return scale.min }
        let share = Swift.min(Swift.max((total - lo) / (hi - lo), 0), 1)
        return scale.min + (scale.max - scale.min) * share
    }
}


/// Number and interval text for messages.
enum ScorecardFormat {
    static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    static func interval(_ lo: Double, _ hi: Double) -> String {
        switch (lo.isFinite, hi.isFinite) {
        case (false, false): return "every value"
        case (false, true): return "values below \(number(hi))"
        case (true, false): return "values of \(number(lo)) or more"
        case (true, true): return "values in [\(number(lo)), \(number(hi)))"
        }
    }
}
