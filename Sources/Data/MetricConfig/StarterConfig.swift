import Foundation
import ScoringCore

/// What `healthscore init` learned about one column, for the starter configuration.
public struct ColumnProfile: Sendable {
    public var name: String
    public var role: MetricConfiguration.Role
    public var type: MetricConfiguration.MetricType
    public var missingShare: Double
    /// Numeric columns.
    public var mean: Double?
    public var sd: Double?
    public var min: Double?
    public var max: Double?
    public var skew: Double?
    /// Mean among churners and among the others (numeric), or the churn rate per level's spread.
    public var churnerMean: Double?
    public var otherMean: Double?
    /// Categorical columns: distinct levels and the most frequent ones with their shares.
    public var levels: Int?
    public var topLevels: [(level: String, share: Double)] = []
    public var proposedTransform: [MetricTransform.Kind] = []
    /// Other numeric columns correlated above the init threshold, with r.
    public var correlated: [(column: String, r: Double)] = []
    /// A name shared by the metrics linked through `correlated` (connected components).
    public var proposedGroup: String?
    /// An identifier (distinct in nearly every row) or a snapshot date, which are roles, not metrics.
    public var looksLike: Kind?
    /// Categorical: the most common level, when it is not already the default reference.
    public var proposedReference: String?
    /// A text column that is really numbers: what `fit` will say about it, with the fix.
    public var numericAdvice: String?
    public enum Kind: Sendable { case identifier, date }
    public init(name: String, role: MetricConfiguration.Role, type: MetricConfiguration.MetricType, missingShare: Double) {
        self.name = name; self.role = role; self.type = type; self.missingShare = missingShare
    }
}

public enum StarterConfig {
    /// A commented YAML file that, unedited, fits what `fit` infers (plus the proposed transforms);
    /// the analyst fills in directions and groups.
    public static func render(dataFile: String, rows: Int, target: String, positive: String, negatives: [String] = [], churnRate: Double,
                              id: String?, time: String?, profiles: [ColumnProfile],
                              proposed: (id: String?, time: String?) = (nil, nil)) -> String {
        var out = """
        # healthscore metric configuration: the health formula's definition.
        # Written by `healthscore init` from \(dataFile) (\(rows) rows, churn rate \(fmt(100 * churnRate))%).
        # Per metric: healthier_when (higher | lower | unknown) becomes a sign constraint on its weight;
        # transform (none | log1p | asinh | clip, chains like clip+log1p) is learned at fit time;
        # metrics sharing a group are averaged (standard scores) into one term. `summary` is for you.
        version: 1
        target: \(quote(target))
        positive: \(quote(positive))

        """
        if !negatives.isEmpty { out += "negative: [\(negatives.map(quote).joined(separator: ", "))]\n" }
        if let id { out += "id: \(quote(id))" + (proposed.id != nil ? "   # proposed: a different value in (nearly) every row or an id-like name; check it\n" : "\n") }
        if let time { out += "time: \(quote(time))" + (proposed.time != nil ? "   # proposed: every value is a date; check it\n" : "\n") }
        out += """
        missing: \(profiles.contains { $0.role == .metric && $0.missingShare > 0 } ? "impute" : "drop")   # drop | impute
        impute: median       # mean | median (with --missing impute)
        unseen_levels: error # error | reference | other
        # rare_level_share: 0.01        # pool category levels rarer than this into (other)
        # correlation_threshold: 0.9    # average metrics correlated above |r| into groups
        metrics:

        """
        for p in profiles where p.role != .target && p.name != id && p.name != time {
            out += "  \(quote(p.name)):\n"
            if let advice = p.numericAdvice { out += "    # \(advice.replacingOccurrences(of: "\n", with: " "))\n" }
            if p.role != .metric {
                let why = p.looksLike == .identifier ? "   # another identifier-like column" : p.looksLike == .date ? "   # another date column" : ""
                out += "    role: \(p.role == .id || p.role == .time ? MetricConfiguration.Role.exclude.rawValue : p.role.rawValue)\(why)\n"
            }
            out += "    type: \(p.type.rawValue)\n"
            if p.role == .metric && p.type == .numeric {
                var hint = ""
                if let c = p.churnerMean, let o = p.otherMean, c != o {
                    hint = "   # churners average \(fmt(c)) vs \(fmt(o)): the data suggest \(c > o ? "lower" : "higher")"
                }
                out += "    healthier_when: unknown\(hint)\n"
                out += "    transform: \(p.proposedTransform.isEmpty ? "none" : p.proposedTransform.map(\.rawValue).joined(separator: "+"))"
                if !p.proposedTransform.isEmpty, let s = p.skew { out += "   # skew \(fmt(s))" }
                out += "\n"
                if let g = p.proposedGroup {
                    let partners = p.correlated.map { "\($0.column) (r = \(String(format: "%.4f", $0.r)))" }.joined(separator: ", ")
                    out += "    # group: \(quote(g))   # correlated with \(partners)\n"
                }
            }
            var stats: [String] = []
            if let v = p.mean { stats.append("mean: \(fmt(v))") }
            if let v = p.sd { stats.append("sd: \(fmt(v))") }
            if let v = p.min { stats.append("min: \(fmt(v))") }
            if let v = p.max { stats.append("max: \(fmt(v))") }
            if let v = p.skew { stats.append("skew: \(fmt(v))") }
            if let l = p.levels { stats.append("levels: \(l)") }
            stats.append("missing_share: \(fmt(p.missingShare))")
            out += "    summary: {\(stats.joined(separator: ", "))}\n"
            if !p.topLevels.isEmpty {
                out += "    # most frequent: " + p.topLevels.map { "\($0.level) \(fmt(100 * $0.share))%" }.joined(separator: ", ") + "\n"
            }
            if let r = p.proposedReference {
                out += "    # reference: \(quote(r))   # proposed: compare the other levels with the most common one (default: the first in byte order)\n"
            }
            if p.levels != nil {
                out += "    # actionable: false   # a plan, segment or region no CSM can change: kept in the score, never given as a reason\n"
            }
        }
        return out
    }

    static func fmt(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e12 { return String(Int64(x)) }
        let a = abs(x)
        if a >= 1e6 || a < 1e-3 { return String(format: "%.4g", x) }
        return String(format: a >= 100 ? "%.2f" : "%.4g", x)
    }

    /// Plain when YAML reads it back as the same string, else double-quoted.
    static func quote(_ s: String) -> String {
        let plain = s.range(of: #"^[A-Za-z_][A-Za-z0-9_.\-]*$"#, options: .regularExpression) != nil
        let reserved: Set<String> = ["yes", "no", "true", "false", "on", "off", "null", "y", "n", "~"]
        if plain && !reserved.contains(s.lowercased()) { return s }
        return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
