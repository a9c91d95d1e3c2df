import Foundation
import MetricConfig
import ScoringCore
import Tabular
import Support

extension ColumnRoles {
    /// The roles a metric configuration describes. `target` is the command line's when given (flags
    /// win over the file); the caller applies its other explicit flags afterwards.
    public init(config: MetricConfiguration, target: String?, path: String) throws {
        let byRole = { (role: MetricConfiguration.Role) in config.metrics.filter { $0.role == role }.map(\.column) }
        guard let target = target ?? config.target ?? byRole(.target).first else {
            throw Diagnostic(.config, file: path, fileLine: nil, problem: "no target column", fix: "add 'target: COLUMN' to the file or pass --target")
        }
        self.init(target: target, id: config.id ?? byRole(.id).first, time: config.time ?? byRole(.time).first,
                  exclude: byRole(.exclude), positive: config.positive, missing: config.missing ?? .drop,
                  weights: config.weights ?? byRole(.weights).first)
        impute = config.impute ?? .mean
        rareLevelShare = config.rareLevelShare
        unseenLevels = config.unseenLevels
        autoTransform = config.autoTransform ?? false
        correlationThreshold = config.correlationThreshold
        configuredColumns = config.metrics.map { ($0.column, "\(path)\($0.line.map { ":\($0)" } ?? "")") }
        negatives = config.negatives
        numberFormat = config.numberFormat ?? .plain
        requireTrustworthy = config.requireTrustworthy ?? false
        for m in config.metrics where m.role == .metric {
            if let t = m.transform { transforms[m.column] = t }
            if m.type == .categorical { categorical.insert(m.column) }
            if let r = m.reference { references[m.column] = r }
            if let d = m.display { displayNames[m.column] = d }
            if !m.actionable { unactionable.insert(m.column) }
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

extension ColumnRoles {
    /// The roles that produced a model, read back from its schema: same metrics, transforms, groups,
    /// directions, imputation and pooling — what a refit of "this model" on other rows needs.
    public init(schema: InputSchema) {
        self.init(target: schema.target.column, id: schema.id, time: schema.time, exclude: schema.excluded,
                  positive: schema.target.positive, missing: schema.missingPolicy, weights: schema.weightsColumn,
                  classWeight: schema.classWeight.flatMap(ClassWeight.init(rawValue:)) ?? .none)
        impute = schema.features.compactMap(\.imputation).first ?? .mean
        rareLevelShare = schema.rareLevelShare
        unseenLevels = schema.unseenLevels
        numberFormat = schema.numberFormat ?? .plain
        var only: Set<String> = []
        for f in schema.features {
            if let d = f.displayName { displayNames[f.column] = d }
            if let h = f.healthierWhen { healthierWhen[f.column] = h }
            if f.actionable == false { unactionable.insert(f.column) }
            switch f.kind {
            case .numeric:
                transforms[f.column] = f.transforms?.map(\.kind) ?? []
                only.insert(f.column)
            case .categorical:
                categorical.insert(f.column)
                only.insert(f.column)
                // A reference chosen with --reference (not the first level in byte order) carries over.
                let named = (f.levels ?? []).filter { $0 != FeatureSpec.otherLevel && $0 != FeatureSpec.missingLevel }
                if let r = f.reference, let first = named.min(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }), r != first {
                    references[f.column] = r
                }
            case .group:
                let members = f.members ?? []
                for m in members { transforms[m.column] = m.transforms?.map(\.kind) ?? []; only.insert(m.column) }
                groups.append(MetricGroup(name: f.column, members: members.map { ($0.column, $0.sign) }))
            }
        }
        onlyColumns = only
    }
}

extension FitSpec {
    /// The spec of a format-1 model, which stored none, read back from its schema (roles, as
    /// `ColumnRoles(schema:)`), its summary's penalty, λ choice and constraint lines, and its bands.
    /// Format 2 stores the spec itself.
    public init(formatOne model: ModelArtifact, naValues: [String], seed: UInt64) {
        let f = model.fit
        var estimator = f.penalty == "firth" ? Estimator.firth : Estimator.maximumLikelihood
        if let a = f.penaltyAlpha, let l = f.penaltyLambda {
            estimator = .elasticNet(alpha: a, lambda: l)
            let parts = f.lambdaChoice?.split(separator: ":") ?? []
            if parts.count == 3, parts[0] == "cv", let k = Int(parts[1]) {
                estimator.lambda = nil
                estimator.crossValidation = .init(folds: k, seed: seed, select: LambdaSelection(rawValue: String(parts[2])) ?? .oneSE)
            }
        }
        // The summary lists every bound, the directions' too; the spec keeps the explicit ones
        // (`TermBound.implied` adds the others again at fit time).
        let implied = TermBound.implied(by: model.schema, explicit: [])
        let bounds = (f.constraints ?? []).compactMap(TermBound.init(describing:)).filter { !implied.contains($0) }
        self.init(roles: ColumnRoles(schema: model.schema), naValues: naValues, estimator: estimator, bounds: bounds)
        if let s = model.scoring { scoring = ScoringChoice(spec: s) }
    }
}

extension TermBound {
    /// Parses a format-1 summary's constraint lines ("logins <= 0.0 (binding)", "0.0 <= x <= 1.0").
    public init?(describing text: String) {
        let core = text.replacingOccurrences(of: " (binding)", with: "")
        let parts = core.components(separatedBy: " ")
        if parts.count == 3, let v = Double(parts[2]) {
            switch parts[1] {
            case "<=": self.init(term: parts[0], upper: v); return
            case ">=": self.init(term: parts[0], lower: v); return
            default: return nil
            }
        }
        if parts.count == 5, parts[1] == "<=", parts[3] == "<=", let l = Double(parts[0]), let u = Double(parts[4]) {
            self.init(term: parts[2], lower: l, upper: u); return
        }
        return nil
    }
}
