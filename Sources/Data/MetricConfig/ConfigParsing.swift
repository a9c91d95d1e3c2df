import Foundation
import ScoringCore
import Yams
import Support

extension MetricConfiguration {
    public static func load(path: String) throws -> MetricConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostic(.config, file: path, fileLine: nil, problem: "cannot read the metric configuration",
                              fix: "pass the path of a YAML file, e.g. one written by 'healthscore init'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Diagnostic(.config, file: path, fileLine: nil, problem: "the configuration is not UTF-8 text", fix: "save it as UTF-8")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> MetricConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            throw Diagnostic(.config, file: path, fileLine: context.mark.line,
                              problem: "\(duplicates.map { "'\($0)'" }.joined(separator: ", ")) listed twice in the mapping that starts here",
                              fix: "keep one entry per key")
        } catch let error as YamlError {
            throw Diagnostic(.config, file: path, fileLine: error.line, problem: "not valid YAML (\(error.problem))",
                              fix: "check the indentation and quoting near that line")
        }
        guard let root else {
            throw Diagnostic(.config, file: path, fileLine: nil, problem: "the configuration is empty", fix: "run 'healthscore init DATA.csv --target COL' for a starter file")
        }
        let reader = YAMLReader(path: path)
        return try reader.configuration(root)
    }
}

/// Walks the YAML tree with line numbers, so every complaint points at the line to edit.
struct YAMLReader {
    var path: String

    static let topKeys = ["version", "target", "positive", "id", "time", "weights", "missing", "impute",
                          "rare_level_share", "unseen_levels", "auto_transform", "correlation_threshold",
                          "unlisted", "metrics_only", "negative", "number_format", "require_trustworthy", "metrics"]
    static let metricKeys = ["role", "type", "display", "healthier_when", "transform", "group", "reference", "actionable", "summary", "note"]

    func fail(_ node: Node?, _ problem: String, _ fix: String) -> Diagnostic {
        Diagnostic(.config, file: path, fileLine: node?.mark?.line, problem: problem, fix: fix)
    }

    func configuration(_ root: Node) throws -> MetricConfiguration {
        guard let top = root.mapping else {
            throw fail(root, "the configuration must be a mapping of settings", "start from 'healthscore init DATA.csv --target COL'")
        }
        var config = MetricConfiguration()
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            switch key {
            case "version":
                guard value.int == 1 else { throw fail(value, "version \(value.string ?? "?") is not supported", "use version: 1") }
            case "target": config.target = try text(value, key)
            case "positive": config.positive = try text(value, key)
            case "id": config.id = try text(value, key)
            case "time": config.time = try text(value, key)
            case "weights": config.weights = try text(value, key)
            case "missing": config.missing = try choice(value, key, MissingPolicy.self)
            case "impute": config.impute = try choice(value, key, ImputeStatistic.self)
            case "unseen_levels": config.unseenLevels = try choice(value, key, UnknownLevelPolicy.self)
            case "unlisted": config.unlisted = try choice(value, key, MetricConfiguration.Unlisted.self)
            case "metrics_only":
                guard let b = value.bool else { throw fail(value, "metrics_only must be true or false", "write metrics_only: true to fit exactly the listed metrics") }
                config.unlisted = b ? .exclude : .include
            case "negative":
                if let list = value.sequence {
                    config.negatives = try list.map { try text($0, key) }
                } else {
                    config.negatives = try text(value, key).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                }
            case "number_format": config.numberFormat = try choice(value, key, NumberFormat.self)
            case "require_trustworthy":
                guard let b = value.bool else { throw fail(value, "require_trustworthy must be true or false", "write require_trustworthy: true") }
                config.requireTrustworthy = b
            case "auto_transform":
                guard let b = value.bool else { throw fail(value, "auto_transform must be true or false", "write auto_transform: true") }
                config.autoTransform = b
            case "rare_level_share":
                config.rareLevelShare = try number(value, key, in: 0..<1)
            case "correlation_threshold":
                config.correlationThreshold = try number(value, key, in: 0..<1, open: true)
            case "metrics":
                config.metrics = try metrics(value)
            default:
                throw fail(keyNode, "unknown setting '\(key)'", "use one of: \(Self.topKeys.joined(separator: ", "))")
            }
        }
        try check(config, root: root)
        return config
    }

    func metrics(_ node: Node) throws -> [MetricConfiguration.Metric] {
        if case .scalar(let s) = node, s.string.isEmpty || s.string == "~" || s.string == "null" { return [] }
        guard let mapping = node.mapping else {
            throw fail(node, "metrics must map column names to settings", "write e.g.\n  metrics:\n    logins:\n      healthier_when: higher")
        }
        var out: [MetricConfiguration.Metric] = []
        for (nameNode, settings) in mapping {
            guard let column = nameNode.string, !column.isEmpty else {
                throw fail(nameNode, "a metric needs a column name", "use the column's header name as the key")
            }
            var m = MetricConfiguration.Metric(column: column)
            m.line = nameNode.mark?.line
            if case .scalar(let s) = settings, s.string.isEmpty || s.string == "~" || s.string == "null" {
                out.append(m); continue
            }
            guard let fields = settings.mapping else {
                throw fail(settings, "the settings of metric '\(column)' must be a mapping", "indent its settings under the name, e.g. 'healthier_when: higher'")
            }
            for (keyNode, value) in fields {
                let key = keyNode.string ?? ""
                let label = "\(column).\(key)"
                switch key {
                case "role": m.role = try choice(value, label, MetricConfiguration.Role.self)
                case "type": m.type = try choice(value, label, MetricConfiguration.MetricType.self)
                case "display": m.display = try text(value, label)
                case "healthier_when": m.healthierWhen = try choice(value, label, MetricConfiguration.Direction.self)
                case "group": m.group = try text(value, label)
                case "reference": m.reference = try text(value, label)
                case "actionable":
                    guard let b = value.bool else {
                        throw fail(value, "\(label) must be true or false", "write actionable: false for a metric no one can change (plan, segment, region)")
                    }
                    m.actionable = b
                case "transform": m.transform = try transform(value, label)
                case "summary", "note": break  // written by `init` for the analyst; not read
                default:
                    throw fail(keyNode, "unknown setting '\(key)' for metric '\(column)'", "use one of: \(Self.metricKeys.joined(separator: ", "))")
                }
            }
            out.append(m)
        }
        return out
    }

    /// `none`, one kind, a chain `clip+log1p`, or a YAML list of kinds.
    func transform(_ node: Node, _ label: String) throws -> [MetricTransform.Kind] {
        let items: [Node]
        if let seq = node.sequence { items = Array(seq) } else { items = [node] }
        var kinds: [MetricTransform.Kind] = []
        for item in items {
            guard let s = item.string else { throw fail(item, "\(label) must be text", "write none, log1p, asinh, clip or a chain like clip+log1p") }
            if s == "none" && items.count == 1 { return [] }
            for part in s.split(separator: "+") {
                let name = part.trimmingCharacters(in: .whitespaces)
                guard let kind = MetricTransform.Kind(rawValue: name) else {
                    throw fail(item, "\(label): '\(name)' is not a transform", "use none, log1p, asinh, clip or a chain like clip+log1p")
                }
                kinds.append(kind)
            }
        }
        return kinds
    }

    func text(_ node: Node, _ label: String) throws -> String {
        guard case .scalar(let s) = node, !s.string.isEmpty else {
            throw fail(node, "\(label) must be a single value", "write e.g. \(label): name")
        }
        return s.string
    }

    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ label: String, _ type: T.Type) throws -> T where T.RawValue == String {
        let s = try text(node, label)
        guard let v = T(rawValue: s) else {
            throw fail(node, "\(label): '\(s)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))",
                       "write one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }

    func number(_ node: Node, _ label: String, in range: Range<Double>, open: Bool = false) throws -> Double {
        guard let v = node.float, v.isFinite, range.contains(v), !(open && v == range.lowerBound) else {
            throw fail(node, "\(label) must be a number in \(open ? "(" : "[")\(range.lowerBound), \(range.upperBound))", "write e.g. \(label): 0.9")
        }
        return v
    }

    /// Rules that span several entries.
    func check(_ config: MetricConfiguration, root: Node) throws {
        var seen: Set<String> = []
        for m in config.metrics {
            let here = Diagnostic(.config, file: path, fileLine: m.line, problem: "", fix: "")
            func fail(_ problem: String, _ fix: String) -> Diagnostic {
                var e = here; e.problem = problem; e.fix = fix; return e
            }
            if !seen.insert(m.column).inserted { throw fail("metric '\(m.column)' is listed twice", "keep one entry per column") }
            if m.type == .categorical {
                if m.healthierWhen != .unknown {
                    throw fail("healthier_when applies to numeric metrics; '\(m.column)' is categorical",
                               "remove it, or bound a level's term with --bound '\(m.column)[LEVEL]<=0'")
                }
                if let t = m.transform, !t.isEmpty { throw fail("'\(m.column)' is categorical and cannot be transformed", "remove its transform") }
                if m.group != nil { throw fail("groups average numeric metrics; '\(m.column)' is categorical", "remove its group") }
            }
            if m.role != .metric && (m.group != nil || m.healthierWhen != .unknown) {
                throw fail("'\(m.column)' has role \(m.role.rawValue) but also a group or direction", "give those to metrics only")
            }
            let topLevel: [(MetricConfiguration.Role, String?)] = [(.target, config.target), (.id, config.id), (.time, config.time), (.weights, config.weights)]
            for (role, value) in topLevel where m.role == role && value != nil && value != m.column {
                throw fail("'\(m.column)' has role \(role.rawValue) but the file's \(role.rawValue) is '\(value!)'", "name one \(role.rawValue) column")
            }
        }
        for (name, members) in config.groups {
            let directions = Set(members.map(\.healthierWhen))
            if directions.contains(.unknown) && directions.count > 1 {
                throw Diagnostic(.config, file: path, fileLine: members.first?.line,
                                  problem: "group '\(name)' mixes metrics with and without healthier_when",
                                  fix: "give every member of '\(name)' a direction (they are turned to point the same way), or none")
            }
            if members.count < 2 {
                throw Diagnostic(.config, file: path, fileLine: members.first?.line, problem: "group '\(name)' has one member",
                                  fix: "a group averages two or more metrics; remove 'group: \(name)' or add members")
            }
        }
    }

}

extension YamlError {
    /// The line a parse error points at, when libyaml gave one.
    public var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        default: return nil
        }
    }

    /// The problem in one line, without libyaml's snippet.
    public var problem: String {
        switch self {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): return problem
        default: return "\(self)".split(separator: "\n").first.map(String.init) ?? "parse error"
        }
    }
}
