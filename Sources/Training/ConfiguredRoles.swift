import Foundation
import MetricConfig
import ScoringCore
import Tabular

extension ColumnRoles {
    /// The roles a metric configuration describes. `target` is the command line's when given (flags
    /// win over the file); the caller applies its other explicit flags afterwards.
    public init(config: MetricConfiguration, target: String?, path: String) throws {
        let byRole = { (role: MetricConfiguration.Role) in config.metrics.filter { $0.role == role }.map(\.column) }
        guard let target = target ?? config.target ?? byRole(.target).first else {
            throw ConfigError(path: path, line: nil, problem: "no target column", fix: "add 'target: COLUMN' to the file or pass --target")
        }
        self.init(target: target, id: config.id ?? byRole(.id).first, time: config.time ?? byRole(.time).first,
                  exclude: byRole(.exclude), positive: config.positive, missing: config.missing ?? .drop,
                  weights: config.weights ?? byRole(.weights).first)
        impute = config.impute ?? .mean
        rareLevelShare = config.rareLevelShare
        unseenLevels = config.unseenLevels
        autoTransform = config.autoTransform ?? false
        correlationThreshold = config.correlationThreshold
        for m in config.metrics where m.role == .metric {
            if let t = m.transform { transforms[m.column] = t }
            if m.type == .categorical { categorical.insert(m.column) }
            if let d = m.display { displayNames[m.column] = d }
            if m.healthierWhen != .unknown { healthierWhen[m.column] = m.healthierWhen.rawValue }
        }
        if config.unlisted == .exclude { onlyColumns = Set(byRole(.metric)) }
        groups = config.groups.map { name, members in
            let first = members[0].healthierWhen
            return MetricGroup(name: name, members: members.map { ($0.column, $0.healthierWhen == first ? 1.0 : -1.0) })
        }
    }
}

extension TermBound {
    /// The sign bounds implied by each metric's business direction (`healthier_when`): a metric that
    /// is healthier when higher may not raise churn risk (weight ≤ 0), and the reverse. Explicit
    /// bounds on the same term replace the implied one.
    public static func implied(by schema: InputSchema, explicit: [TermBound]) -> [TermBound] {
        let named = Set(explicit.map(\.term))
        var out = explicit
        for f in schema.features where f.kind != .categorical && !named.contains(f.column) {
            switch f.healthierWhen {
            case "higher": out.append(TermBound(term: f.column, upper: 0))
            case "lower": out.append(TermBound(term: f.column, lower: 0))
            default: break
            }
        }
        return out
    }
}
