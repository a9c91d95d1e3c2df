import Support
/// # Scorecard files
///
/// A scorecard is the hand-weighted formula a customer-success team runs today, written down so it can
/// be scored like a fitted model and judged against one. Every metric earns points; the points are
/// summed to a total; the total is mapped linearly onto `scale` (0–100 unless set), from the lowest total
/// the card can give (→ scale min) to the highest (→ scale max). Higher health = healthier = lower churn
/// risk; rank by `risk` (= −health) where a metric wants "higher means more likely to churn".
///
/// ```yaml
/// scorecard: current-cs-scorecard       # name (required)
/// description: What the CS team uses today
/// scale: {min: 0, max: 100}             # optional; the default is 0–100
/// missing: zero                         # points for a missing value: zero (default) | lowest | error
/// metrics:                              # one entry per metric, in the order explanations list them
///   logins:                             # LINEAR: points = weight × value, then clamped into cap
///     weight: 0.5
///     cap: {min: 0, max: 40}            # bounds on the POINTS
///   feature_adoption:
///     weight: 20
///     range: {min: 0, max: 1}           # bounds on the VALUE (values outside are clamped to the nearest end)
///   support_tickets:                    # TIERS: the first tier holding the value wins
///     direction: lower
///     tiers:
///       - {below: 2, points: 20}        # `below` is exclusive
///       - {below: 5, points: 10}
///       - {points: 0}                   # catch-all: no bounds, must be last
///   nps:
///     tiers:
///       - {from: 9, points: 15}         # `from` is inclusive
///       - {from: 7, below: 9, points: 8}
///       - {points: 0}
///   plan:                               # LEVELS: points per category
///     levels: {enterprise: 10, pro: 5, basic: 0}
///     other: 0                          # points for a level not listed (default: an unlisted level is an error)
///   csat:
///     column: csat_avg                  # optional: the input column, when it differs from the metric's name
///     display: CSAT                     # optional: a label for reports
///     missing: 5                        # optional: this metric's missing points: zero | lowest | error | a number
///     note: anything                    # optional: ignored, for the reader
///     tiers: [...]
/// ```
///
/// Rules (each broken rule is an error naming its line, `path:line: problem. Fix: …`):
/// - Top-level keys: scorecard, description, scale, missing, metrics. Metric keys: weight, cap, range,
///   tiers, levels, other, direction, missing, column, display, note. Tier keys: from, below, points.
///   Scale, cap and range keys: min, max. Unknown keys are errors that list the valid ones.
/// - A metric is scored exactly one way: `weight` (linear), `tiers` or `levels`. `cap` and `range`
///   belong to a weight, `other` to levels, `direction` to numeric metrics.
/// - A linear weight is non-zero and needs `cap`, `range` or both so its points are bounded
///   (points = clamp_cap(weight × clamp_range(value))); without bounds the total cannot be mapped to 0–100.
/// - Tiers are written in value order, lowest first or highest first, without overlaps. A bound left
///   out continues from the previous tier (`{below: 2}, {below: 5}` means < 2, then [2, 5);
///   `{from: 9}, {from: 7}` means ≥ 9, then [7, 9)). Every value must match a tier: leave the outer
///   bound off the last tier or end with a catch-all `{points: N}`; a catch-all that can never match is
///   an error too. Tier bounds and points are finite numbers, and `from` < `below`.
/// - `direction: higher | lower` says which way is healthier. It is informational and checked: a tier
///   table must give at least as many points to every healthier value (higher for `higher`), and a
///   weight's sign must agree; a contradiction is an error naming the tier's line.
/// - Each metric must be able to give different points; the card's `scale` needs min < max.
/// - A missing value (an empty cell) earns `missing` points: `zero`, the metric's `lowest` points, a
///   number (per metric only), or `error` refuses the row. The lowest and highest totals count those
///   points too (sum over metrics of each one's lowest/highest, missing points included), so every
///   score lies on the scale.
///
/// Scoring (`Scorecard.score`) reads numbers for tiers and weights (`numericColumns`) and text for
/// levels (`categoricalColumns`); a non-number, an infinite value, an unlisted level without `other`,
/// or a missing value under `missing: error` is an error naming the 1-based row and the column.
import Foundation
import MetricConfig
import Yams

extension Scorecard {
    /// Reads a scorecard file.
    public static func load(path: String) throws -> Scorecard {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostic(.scorecard, file: path, problem: "cannot read the scorecard file",
                                 fix: "pass the path of a YAML scorecard, e.g. datasets/current_scorecard.yaml")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Diagnostic(.scorecard, file: path, problem: "the scorecard is not UTF-8 text", fix: "save it as UTF-8")
        }
        return try parse(text, path: path)
    }

    /// Reads scorecard YAML; `path` names the file in errors.
    public static func parse(_ text: String, path: String) throws -> Scorecard {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            let (line, first) = CardReader.duplicateLine(in: text, keys: duplicates, firstLine: context.mark.line)
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            throw Diagnostic(.scorecard, file: path, fileLine: line,
                                 problem: "\(names) appears twice in the same mapping (first at line \(first))",
                                 fix: "keep one entry per key; two metrics need two different names (use `column:` to score one column twice)")
        } catch let error as YamlError {
            throw Diagnostic(.scorecard, file: path, fileLine: error.line,
                                 problem: "not valid YAML (\(error.problem))",
                                 fix: "check the indentation and quoting near that line")
        }
        guard let root, !CardReader.isEmpty(root) else {
            throw Diagnostic(.scorecard, file: path, fileLine: 1, problem: "the scorecard is empty",
                                 fix: "start with 'scorecard: NAME' and a 'metrics:' mapping (see datasets/current_scorecard.yaml)")
        }
        return try CardReader(path: path).card(root)
    }
}

/// Walks the YAML tree with line numbers, so every complaint points at the line to edit.
struct CardReader {
    var path: String

    static let topKeys = ["scorecard", "description", "scale", "missing", "metrics"]
    static let metricKeys = ["weight", "cap", "range", "tiers", "levels", "other", "direction", "missing", "column", "display", "note"]
    static let tierKeys = ["from", "below", "points"]
    static let boundKeys = ["min", "max"]

    func fail(_ node: Node?, _ problem: String, _ fix: String) -> Diagnostic {
        Diagnostic(.scorecard, file: path, fileLine: node?.mark?.line, problem: problem, fix: fix)
    }

    func fail(line: Int?, _ problem: String, _ fix: String) -> Diagnostic {
        Diagnostic(.scorecard, file: path, fileLine: line, problem: problem, fix: fix)
    }

    static func isEmpty(_ node: Node) -> Bool {
        if case .scalar(let s) = node, s.style == .plain || s.style == .any {
            return s.string.isEmpty || s.string == "~" || s.string == "null"
        }
        return false
    }

    // MARK: Card

    func card(_ root: Node) throws -> Scorecard {
        guard let top = root.mapping else {
            throw fail(root, "the scorecard must be a mapping of settings (scorecard, metrics, …)",
                       "start with 'scorecard: NAME' and a 'metrics:' mapping")
        }
        var name: String?
        var description: String?
        var scale = Scorecard.Scale()
        var missing = Scorecard.MissingPoints.zero
        var metricsKey: Node?
        var metrics: [(Scorecard.Metric, Node)] = []
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            switch key {
            case "scorecard": name = try text(value, key)
            case "description": description = try text(value, key)
            case "scale": scale = try self.scale(value)
            case "missing":
                missing = try missingPolicy(value, key, allowPoints: false)
            case "metrics":
                metricsKey = keyNode
                metrics = try self.metrics(value, key: keyNode)
            default:
                throw fail(keyNode, "unknown setting '\(key)'", "use one of: \(Self.topKeys.joined(separator: ", "))")
            }
        }
        guard let name else {
            throw fail(line: root.mark?.line ?? 1, "the scorecard has no name",
                       "add 'scorecard: NAME' at the top, e.g. scorecard: current-cs-scorecard")
        }
        guard !metrics.isEmpty else {
            throw fail(line: metricsKey?.mark?.line ?? root.mark?.line ?? 1, "the scorecard has no metrics",
                       "add a 'metrics:' mapping with at least one metric, e.g.\n  metrics:\n    nps:\n      tiers:\n        - {from: 9, points: 15}\n        - {points: 0}")
        }
        let card = Scorecard(name: name, description: description, metrics: metrics.map(\.0), scale: scale, missing: missing)
        try check(card, metricNodes: metrics.map(\.1))
        return card
    }

    func scale(_ node: Node) throws -> Scorecard.Scale {
        let b = try bounds(node, "scale")
        let s = Scorecard.Scale(min: b.min ?? 0, max: b.max ?? 100)
        guard s.min < s.max else {
            throw fail(node, "scale min (\(ScorecardFormat.number(s.min))) must be below scale max (\(ScorecardFormat.number(s.max)))",
                       "write e.g. scale: {min: 0, max: 100}")
        }
        return s
    }

    /// Rules that span several metrics.
    func check(_ card: Scorecard, metricNodes: [Node]) throws {
        var kinds: [String: (numeric: Bool, metric: String)] = [:]
        for (m, node) in zip(card.metrics, metricNodes) {
            if let earlier = kinds[m.column], earlier.numeric != m.isNumeric {
                throw fail(node, "metric '\(m.name)' reads column '\(m.column)' as \(m.isNumeric ? "numbers" : "levels"), but metric '\(earlier.metric)' reads it as \(earlier.numeric ? "numbers" : "levels")",
                           "score a column either as numbers (weight or tiers) or as levels, not both")
            }
            kinds[m.column] = (m.isNumeric, m.name)
        }
        let lo = card.lowestTotal, hi = card.highestTotal
        guard lo.isFinite, hi.isFinite, hi > lo else {
            throw fail(metricNodes.first, "the lowest and highest totals are equal (\(ScorecardFormat.number(lo))), so every customer gets the same score",
                       "give the metrics points that differ between customers")
        }
    }

    // MARK: Metrics

    func metrics(_ node: Node, key: Node) throws -> [(Scorecard.Metric, Node)] {
        if Self.isEmpty(node) { return [] }
        guard let mapping = node.mapping else {
            throw fail(node, "metrics must map metric names to their rules",
                       "write e.g.\n  metrics:\n    nps:\n      tiers:\n        - {from: 9, points: 15}\n        - {points: 0}")
        }
        var out: [(Scorecard.Metric, Node)] = []
        for (nameNode, settings) in mapping {
            guard case .scalar(let s) = nameNode, !s.string.isEmpty else {
                throw fail(nameNode, "a metric needs a name", "use the column's header name as the key")
            }
            out.append((try metric(s.string, nameNode: nameNode, settings), nameNode))
        }
        return out
    }

    func metric(_ name: String, nameNode: Node, _ settings: Node) throws -> Scorecard.Metric {
        let howTo = "give it one of: weight (with cap or range), tiers, levels — e.g. 'weight: 0.5' and 'cap: {min: 0, max: 40}'"
        if Self.isEmpty(settings) {
            throw fail(nameNode, "metric '\(name)' has no rule", howTo)
        }
        guard let fields = settings.mapping else {
            throw fail(settings, "the settings of metric '\(name)' must be a mapping", "indent its settings under the name; \(howTo)")
        }
        var keys: [String: Node] = [:]
        var values: [String: Node] = [:]
        for (keyNode, value) in fields {
            let key = keyNode.string ?? ""
            guard Self.metricKeys.contains(key) else {
                throw fail(keyNode, "unknown setting '\(key)' for metric '\(name)'", "use one of: \(Self.metricKeys.joined(separator: ", "))")
            }
            keys[key] = keyNode
            values[key] = value
        }
        let ways = ["weight", "tiers", "levels"].filter { keys[$0] != nil }
        if ways.count > 1 {
            let second = ways.compactMap { keys[$0] }.max { ($0.mark?.line ?? 0) < ($1.mark?.line ?? 0) }
            throw fail(second, "metric '\(name)' has both \(ways.joined(separator: " and ")); a metric is scored one way",
                       "keep one (weight: points = weight × value; tiers: points by band; levels: points by category), or split it into two metrics with `column:`")
        }
        guard let way = ways.first else { throw fail(nameNode, "metric '\(name)' has no rule", howTo) }
        for key in ["cap", "range"] where keys[key] != nil && way != "weight" {
            throw fail(keys[key], "'\(key)' applies to a linear weight, and metric '\(name)' uses \(way)",
                       "remove '\(key)' (tier and level points are already bounded)")
        }
        if way != "levels", let k = keys["other"] {
            throw fail(k, "'other' applies to levels, and metric '\(name)' uses \(way)", "remove 'other', or score the metric with levels")
        }

        var metric = Scorecard.Metric(name: name, rule: .tiers([]))
        if let v = values["column"] { metric.column = try text(v, "\(name).column") }
        if let v = values["display"] { metric.display = try text(v, "\(name).display") }
        if let v = values["missing"] { metric.missing = try missingPolicy(v, "\(name).missing", allowPoints: true) }
        if let v = values["direction"] {
            if way == "levels" {
                throw fail(keys["direction"], "direction applies to numeric metrics; '\(name)' is scored by levels",
                           "remove it (the points per level already say which levels are healthier)")
            }
            metric.direction = try choice(v, "\(name).direction", Scorecard.Direction.self)
        }

        switch way {
        case "weight":
            metric.rule = .linear(try linear(name, values, keys, nameNode: nameNode, direction: metric.direction))
        case "tiers":
            metric.rule = .tiers(try tiers(name, values["tiers"]!, key: keys["tiers"]!, direction: metric.direction,
                                           directionNode: keys["direction"]))
        default:
            let (levels, other) = try self.levels(name, values["levels"]!, key: keys["levels"]!, other: values["other"])
            metric.rule = .levels(levels, other: other)
        }
        return metric
    }

    func linear(_ name: String, _ values: [String: Node], _ keys: [String: Node], nameNode: Node,
                direction: Scorecard.Direction?) throws -> Scorecard.Linear {
        let weightNode = values["weight"]!
        let weight = try number(weightNode, "\(name).weight")
        guard weight != 0 else {
            throw fail(weightNode, "weight 0 gives metric '\(name)' no points for any value", "remove the metric, or give it a non-zero weight")
        }
        var l = Scorecard.Linear(weight: weight)
        if let v = values["cap"] { l.cap = try bounds(v, "\(name).cap", requireOne: true) }
        if let v = values["range"] { l.range = try bounds(v, "\(name).range", requireOne: true) }
        for (key, b) in [("cap", l.cap), ("range", l.range)] {
            if let b, let lo = b.min, let hi = b.max, lo >= hi {
                throw fail(values[key], "\(name).\(key) min (\(ScorecardFormat.number(lo))) must be below max (\(ScorecardFormat.number(hi)))",
                           "write e.g. \(key): {min: 0, max: 40}")
            }
        }
        guard let r = l.pointRange else {
            let side: String
            var lo = -Double.infinity, hi = Double.infinity
            if let range = l.range {
                let a = weight * (range.min ?? -.infinity), b = weight * (range.max ?? .infinity)
                lo = min(a, b); hi = max(a, b)
            }
            if let m = l.cap?.min { lo = max(lo, m) }
            if let m = l.cap?.max { hi = min(hi, m) }
            side = !lo.isFinite && !hi.isFinite ? "no lower or upper bound" : (!lo.isFinite ? "no lower bound" : "no upper bound")
            throw fail(keys["cap"] ?? keys["range"] ?? keys["weight"],
                       "metric '\(name)' has a linear weight whose points have \(side), so the card's highest and lowest totals (its 0–100 range) are unknown",
                       "add cap: {min: 0, max: 40} (bounds on the points) or range: {min: 0, max: 80} (bounds on the values), with both ends bounded")
        }
        guard r.lowest < r.highest else {
            throw fail(keys["cap"] ?? keys["weight"],
                       "metric '\(name)' can only give \(ScorecardFormat.number(r.lowest)) points: cap and weight × range do not overlap",
                       "make cap overlap weight × range, so different values earn different points")
        }
        if let direction, (direction == .higher) != (weight > 0) {
            throw fail(keys["direction"],
                       "direction: \(direction.rawValue), but weight \(ScorecardFormat.number(weight)) gives \(direction == .higher ? "fewer" : "more") points to higher values",
                       direction == .higher ? "make the weight positive, or write direction: lower" : "make the weight negative, or write direction: higher")
        }
        return l
    }

    func levels(_ name: String, _ node: Node, key: Node, other: Node?) throws -> ([Scorecard.Level], Double?) {
        guard let mapping = node.mapping, !mapping.isEmpty else {
            throw fail(Self.isEmpty(node) ? key : node, "\(name).levels must map each level to its points",
                       "write e.g. levels: {enterprise: 10, pro: 5, basic: 0}")
        }
        var levels: [Scorecard.Level] = []
        for (levelNode, pointsNode) in mapping {
            guard case .scalar(let s) = levelNode, !s.string.isEmpty else {
                throw fail(levelNode, "a level of '\(name)' has no name", "write each level as 'name: points'")
            }
            levels.append(Scorecard.Level(s.string, try number(pointsNode, "\(name).levels.\(s.string)")))
        }
        let otherPoints = try other.map { try number($0, "\(name).other") }
        let points = levels.map(\.points) + (otherPoints.map { [$0] } ?? [])
        if Set(points).count < 2 {
            throw fail(key, "every level of '\(name)' gets \(ScorecardFormat.number(points[0])) points, so the metric cannot tell customers apart",
                       "give healthier levels more points, or remove the metric")
        }
        return (levels, otherPoints)
    }

    // MARK: Tiers

    func tiers(_ name: String, _ node: Node, key: Node, direction: Scorecard.Direction?, directionNode: Node?) throws -> [Scorecard.Tier] {
        let example = "write e.g.\n  tiers:\n    - {below: 2, points: 20}\n    - {below: 5, points: 10}\n    - {points: 0}"
        guard let seq = node.sequence, !seq.isEmpty else {
            throw fail(Self.isEmpty(node) ? key : node, "\(name).tiers must be a non-empty list of tiers", example)
        }
        var tiers: [Scorecard.Tier] = []
        var lines: [Int?] = []
        for item in seq {
            guard let fields = item.mapping else {
                throw fail(item, "each tier of '\(name)' must be a mapping like {from: 7, below: 9, points: 8}", example)
            }
            var tier = Scorecard.Tier(points: 0)
            var hasPoints = false
            for (k, v) in fields {
                let key = k.string ?? ""
                switch key {
                case "from": tier.from = try number(v, "\(name) tier from")
                case "below": tier.below = try number(v, "\(name) tier below")
                case "points": tier.points = try number(v, "\(name) tier points"); hasPoints = true
                default:
                    throw fail(k, "unknown tier setting '\(key)' for metric '\(name)'",
                               "use one of: \(Self.tierKeys.joined(separator: ", ")) (from inclusive, below exclusive)")
                }
            }
            guard hasPoints else {
                throw fail(item, "a tier of '\(name)' has no points", "add points, e.g. {below: 2, points: 20}")
            }
            tiers.append(tier)
            lines.append(item.mark?.line)
        }
        try TierTable.check(tiers, lines: lines, keyLine: key.mark?.line, metric: name, direction: direction,
                            directionLine: directionNode?.mark?.line, path: path)
        return tiers
    }

    // MARK: Values

    func text(_ node: Node, _ label: String) throws -> String {
        guard case .scalar(let s) = node, !Self.isEmpty(node), !s.string.isEmpty else {
            throw fail(node, "\(label) must be a single value", "write e.g. \(label): name")
        }
        return s.string
    }

    func number(_ node: Node, _ label: String) throws -> Double {
        guard case .scalar(let s) = node else {
            throw fail(node, "\(label) must be a number", "write a single finite number, e.g. 10")
        }
        guard let v = node.float, v.isFinite else {
            throw fail(node, "\(label) must be a finite number, not '\(s.string)'", "write a plain number such as 10 or 0.5 (no quotes, no .inf)")
        }
        return v
    }

    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ label: String, _ type: T.Type) throws -> T where T.RawValue == String {
        let options = T.allCases.map(\.rawValue).joined(separator: ", ")
        let s = try text(node, label)
        guard let v = T(rawValue: s) else {
            throw fail(node, "\(label): '\(s)' is not one of \(options)", "write one of: \(options)")
        }
        return v
    }

    func missingPolicy(_ node: Node, _ label: String, allowPoints: Bool) throws -> Scorecard.MissingPoints {
        let options = allowPoints ? "zero, lowest, error or a number of points" : "zero, lowest, error"
        let s = try text(node, label)
        switch s {
        case "zero": return .zero
        case "lowest": return .lowest
        case "error": return .error
        default:
            if allowPoints, let v = node.float, v.isFinite { return .points(v) }
            throw fail(node, "\(label): '\(s)' is not one of \(options)", "write one of: \(options)")
        }
    }

    /// `{min: a, max: b}`; `requireOne` needs at least one end.
    func bounds(_ node: Node, _ label: String, requireOne: Bool = false) throws -> Scorecard.Bounds {
        guard let mapping = node.mapping else {
            throw fail(node, "\(label) must be a mapping with min and max", "write e.g. \(label): {min: 0, max: 40}")
        }
        var b = Scorecard.Bounds()
        for (k, v) in mapping {
            let key = k.string ?? ""
            switch key {
            case "min": b.min = try number(v, "\(label).min")
            case "max": b.max = try number(v, "\(label).max")
            default:
                throw fail(k, "unknown setting '\(key)' in \(label)", "use one of: \(Self.boundKeys.joined(separator: ", "))")
            }
        }
        if requireOne && b.min == nil && b.max == nil {
            throw fail(node, "\(label) sets neither min nor max", "write e.g. \(label): {min: 0, max: 40}")
        }
        return b
    }

    // MARK: YAML errors

    /// The line of the second occurrence of a duplicated key (Yams reports the first), and the first.
    static func duplicateLine(in text: String, keys: [String], firstLine: Int) -> (Int, Int) {
        let lines = text.components(separatedBy: "\n")
        guard let key = keys.first, firstLine >= 1, firstLine <= lines.count else { return (firstLine, firstLine) }
        let first = lines[firstLine - 1]
        let indent = first.prefix { $0 == " " || $0 == "-" }.count
        let candidates = [key + ":", "\"\(key)\":", "'\(key)':"]
        for i in firstLine..<lines.count {
            let l = lines[i]
            let body = l.dropFirst(min(indent, l.count))
            let lead = l.prefix { $0 == " " || $0 == "-" }.count
            if lead == indent, candidates.contains(where: { body.hasPrefix($0) }) { return (i + 1, firstLine) }
            // Left the mapping: a line indented less than the key (blank lines and comments aside).
            let trimmed = l.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty, !trimmed.hasPrefix("#"), lead < indent { break }
        }
        return (firstLine, firstLine)
    }

}

/// Checks that a tier table is a clean, ordered partition of the number line (with the catch-all
/// filling what the bounded tiers leave), and that it agrees with the metric's direction.
enum TierTable {
    struct Segment { var lo: Double; var hi: Double; var points: Double; var line: Int? }

    static func check(_ tiers: [Scorecard.Tier], lines: [Int?], keyLine: Int?, metric: String,
                      direction: Scorecard.Direction?, directionLine: Int?, path: String) throws {
        func fail(_ line: Int?, _ problem: String, _ fix: String) -> Diagnostic {
            Diagnostic(.scorecard, file: path, fileLine: line ?? keyLine, problem: problem, fix: fix)
        }
        let n = ScorecardFormat.number
        var catchAll: (points: Double, line: Int?)?
        var bounded: [(tier: Scorecard.Tier, line: Int?)] = []
        for (i, t) in tiers.enumerated() {
            if t.isCatchAll {
                guard i == tiers.count - 1 else {
                    throw fail(lines[i], "the catch-all tier {points: \(n(t.points))} of '\(metric)' is not last, so the tiers after it never match",
                               "move the catch-all to the end of the list")
                }
                catchAll = (t.points, lines[i])
                continue
            }
            if let f = t.from, let b = t.below, f >= b {
                throw fail(lines[i], "the tier {from: \(n(f)), below: \(n(b))} of '\(metric)' holds no value (from is inclusive, below exclusive)",
                           "make from smaller than below")
            }
            bounded.append((t, lines[i]))
        }
        guard let first = bounded.first else {
            throw fail(lines.first ?? keyLine, "'\(metric)' has only a catch-all tier, so every customer gets the same points",
                       "add tiers with from/below bounds, or remove the metric")
        }
        // Covered so far: [L, H); the tiers holding each end; the effective interval of each tier.
        var L = first.tier.from ?? -.infinity, H = first.tier.below ?? .infinity
        var lowLine = first.line, highLine = first.line
        var ascending: Bool?
        var segments = [Segment(lo: L, hi: H, points: first.tier.points, line: first.line)]
        var gaps: [(lo: Double, hi: Double, line: Int?)] = []
        let order = "list tiers in value order, lowest first or highest first, each starting where the previous one ends"
        for (t, line) in bounded.dropFirst() {
            let lo = t.from ?? -.infinity, hi = t.below ?? .infinity
            let up = hi > H, down = lo < L
            let described = "{\(t.from.map { "from: \(n($0))" } ?? "")\(t.from != nil && t.below != nil ? ", " : "")\(t.below.map { "below: \(n($0))" } ?? "")}"
            if up && down {
                if t.from == nil {
                    throw fail(line, "the tier \(described) of '\(metric)' has no from, so it also matches values below \(n(L)), under the tiers before it",
                               "write from: \(n(H)) (where the previous tier ends), or \(order)")
                }
                if t.below == nil {
                    throw fail(line, "the tier \(described) of '\(metric)' has no below, so it also matches values of \(n(H)) or more, above the tiers before it",
                               "write below: \(n(L)) (where the previous tier starts), or \(order)")
                }
                throw fail(line, "the tier \(described) of '\(metric)' overlaps the tiers before it (which cover \(ScorecardFormat.interval(L, H)))", order)
            }
            if !up && !down {
                throw fail(line, "the tier \(described) of '\(metric)' never matches: the tiers before it already cover \(ScorecardFormat.interval(lo, hi)) (tiers overlap)",
                           "remove it or fix its bounds; \(order)")
            }
            if up {
                if ascending == false {
                    throw fail(line, "the tiers of '\(metric)' are not in order: \(described) comes after tiers for lower values, following tiers for higher ones", order)
                }
                ascending = true
                var start = H
                if let f = t.from {
                    if f < H {
                        throw fail(line, "the tier \(described) of '\(metric)' overlaps the tier at line \(highLine.map(String.init) ?? "?"), which covers values below \(n(H))",
                                   "write from: \(n(H))")
                    }
                    if f > H { gaps.append((H, f, line)) }
                    start = f
                }
                segments.append(Segment(lo: start, hi: hi, points: t.points, line: line))
                H = hi; highLine = line
            } else {
                if ascending == true {
                    throw fail(line, "the tiers of '\(metric)' are not in order: \(described) comes after tiers for higher values, following tiers for lower ones", order)
                }
                ascending = false
                var end = L
                if let b = t.below {
                    if b > L {
                        throw fail(line, "the tier \(described) of '\(metric)' overlaps the tier at line \(lowLine.map(String.init) ?? "?"), which covers values from \(n(L))",
                                   "write below: \(n(L))")
                    }
                    if b < L { gaps.append((b, L, line)) }
                    end = b
                }
                segments.append(Segment(lo: lo, hi: end, points: t.points, line: line))
                L = lo; lowLine = line
            }
        }
        if L > -.infinity { gaps.insert((-.infinity, L, lowLine), at: 0) }
        if H < .infinity { gaps.append((H, .infinity, highLine)) }
        if let catchAll {
            guard !gaps.isEmpty else {
                throw fail(catchAll.line, "the catch-all tier of '\(metric)' never matches: the tiers before it cover every value",
                           "remove the catch-all")
            }
            segments += gaps.map { Segment(lo: $0.lo, hi: $0.hi, points: catchAll.points, line: catchAll.line) }
        } else if let gap = gaps.first {
            throw fail(gap.line, "in '\(metric)', \(ScorecardFormat.interval(gap.lo, gap.hi)) match no tier",
                       "end the list with a catch-all tier such as {points: 0}, or extend the tiers to cover them")
        }
        segments.sort { $0.lo < $1.lo }
        if Set(segments.map(\.points)).count < 2 {
            throw fail(keyLine, "every tier of '\(metric)' gives \(n(segments[0].points)) points, so the metric cannot tell customers apart",
                       "give healthier values more points, or remove the metric")
        }
        guard let direction else { return }
        for (a, b) in zip(segments, segments.dropFirst()) {
            let contradicts = direction == .higher ? b.points < a.points : b.points > a.points
            guard contradicts else { continue }
            let other: Scorecard.Direction = direction == .higher ? .lower : .higher
            throw fail(b.line ?? directionLine,
                       "direction: \(direction.rawValue), but \(ScorecardFormat.interval(b.lo, b.hi)) get \(n(b.points)) points, \(direction == .higher ? "fewer" : "more") than the \(n(a.points)) for \(ScorecardFormat.interval(a.lo, a.hi)) (line \(a.line.map(String.init) ?? "?"))",
                       "give \(direction == .higher ? "higher" : "lower") values at least as many points, or write direction: \(other.rawValue)")
        }
    }
}
