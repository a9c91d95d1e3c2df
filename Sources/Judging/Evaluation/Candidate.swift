import FitEngine
import Foundation
import MetricConfig
import Scorecards
import ScoringCore
import Tabular
import Training
import Support

/// A candidate's fit, as written on the command line: the estimator and the metric choices it
/// changes in the comparison's own `FitSpec` (`spec(base:seed:)`), which each fold then fits.
public struct FitRecipe: Sendable, Equatable {
    public var estimator = Estimator()
    /// A metric configuration replacing the comparison's own roles.
    public var config: String?
    public var autoTransform = false
    /// Explicit bounds (directions from the roles are added at fit time).
    public var bounds: [TermBound] = []

    public init() {}

    /// Folds of the inner cross-validation that picks λ for `lambda=auto` unless `inner-folds=K`.
    public static let innerFolds = 5

    /// `fit`, or comma-separated settings: `penalty=l2,lambda=auto`, `penalty=l1,lambda=0.01`,
    /// `penalty=elasticnet,alpha=0.5,lambda=auto`, `config=health.yaml`, `auto-transform`, `inner-folds=5`.
    public static func parse(_ text: String) throws -> FitRecipe {
        var r = FitRecipe()
        guard text != "fit" else { return r }
        var innerFolds = Self.innerFolds, auto = false
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            let key = kv[0], value = kv.count == 2 ? kv[1] : nil
            func bad(_ why: String) -> Diagnostic { Diagnostic(.candidate, problem: "fit recipe '\(text)': \(why)") }
            switch (key, value) {
            case ("fit", nil): continue
            case ("penalty", let v?):
                guard let p = Estimator.Penalty(rawValue: v) else { throw bad("penalty must be one of \(Estimator.Penalty.allCases.map(\.rawValue).joined(separator: ", "))") }
                r.estimator.penalty = p
            case ("alpha", let v?):
                guard let a = Double(v), (0...1).contains(a) else { throw bad("alpha must be in [0, 1]") }
                r.estimator.alpha = a
            case ("lambda", let v?):
                if v == "auto" { auto = true; r.estimator.lambda = nil } else {
                    guard let l = Double(v), l >= 0, l.isFinite else { throw bad("lambda must be a number ≥ 0 or auto") }
                    auto = false
                    r.estimator.lambda = l
                }
            case ("config", let v?): r.config = v
            case ("auto-transform", nil): r.autoTransform = true
            case ("inner-folds", let v?):
                guard let k = Int(v), k >= 2 else { throw bad("inner-folds must be an integer ≥ 2") }
                innerFolds = k
            default:
                throw bad("'\(item)' is not penalty=…, alpha=…, lambda=…|auto, config=FILE, auto-transform or inner-folds=K")
            }
        }
        if auto { r.estimator.crossValidation = .init(folds: innerFolds, seed: 1, select: .oneSE) }
        // The estimator's one rule, in the fit command's words (--lambda is lambda= here).
        if let problem = r.estimator.problem { throw Diagnostic(.candidate, problem: "fit recipe '\(text)': \(problem)") }
        return r
    }

    /// The comparison's spec with this recipe's changes; an inner cross-validation draws its folds
    /// from the comparison's `seed`.
    public func spec(base: FitSpec, seed: UInt64) throws -> FitSpec {
        var spec = base
        if let config {
            var roles = try ColumnRoles(config: MetricConfiguration.load(path: config), target: base.roles.target, path: config)
            roles.id = roles.id ?? base.roles.id
            roles.time = roles.time ?? base.roles.time
            spec.roles = roles
        }
        spec.roles.autoTransform = spec.roles.autoTransform || autoTransform
        spec.estimator = estimator
        spec.estimator.crossValidation?.seed = seed
        spec.bounds = bounds
        return spec
    }
}

/// One contender in a comparison.
public struct Candidate: Sendable {
    public enum Kind: Sendable {
        /// Refitted on every fold's training rows.
        case recipe(FitRecipe)
        /// A fitted model: refitted on each fold with its own recipe (metrics, transforms, groups,
        /// directions, penalty) unless `frozen`, when it is used as it is.
        case model(ModelArtifact, path: String, frozen: Bool)
        /// A hand-weighted scorecard: its 0–100 score ranks; a one-variable logistic fit on each
        /// fold's training rows turns it into probabilities for log loss and Brier.
        case scorecard(Scorecard, path: String)
    }
    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) { self.name = name; self.kind = kind }

    /// `NAME=SPEC`: SPEC is a scorecard (`scorecard:FILE`, or a .yaml/.yml file), a model file
    /// (`model:FILE` or a .json file: refitted with its recipe; `frozen:FILE`: used as it is) or a fit
    /// recipe (`fit`, `penalty=l2,lambda=auto`, …).
    public static func parse(_ text: String) throws -> Candidate {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw Diagnostic(.candidate, problem: "--candidate '\(text)' is not NAME=SPEC. Fix: e.g. --candidate current=scorecard:card.yaml --candidate fitted=fit --candidate ridge=penalty=l2,lambda=auto")
        }
        let name = String(text[..<eq]), spec = String(text[text.index(after: eq)...])
        let lower = spec.lowercased()
        // A recipe naming a metric config (config=my.yaml) is a recipe whatever the file's extension.
        let isRecipe = spec.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("config=") }
        if spec.hasPrefix("scorecard:") || (!isRecipe && (lower.hasSuffix(".yaml") || lower.hasSuffix(".yml"))) {
            let path = spec.hasPrefix("scorecard:") ? String(spec.dropFirst("scorecard:".count)) : spec
            return Candidate(name: name, kind: .scorecard(try Scorecard.load(path: path), path: path))
        }
        if spec.hasPrefix("frozen:") {
            let path = String(spec.dropFirst("frozen:".count))
            return Candidate(name: name, kind: .model(try ModelArtifact.load(path: path), path: path, frozen: true))
        }
        if spec.hasPrefix("model:") || (!isRecipe && lower.hasSuffix(".json")) {
            let path = spec.hasPrefix("model:") ? String(spec.dropFirst("model:".count)) : spec
            return Candidate(name: name, kind: .model(try ModelArtifact.load(path: path), path: path, frozen: false))
        }
        do {
            return Candidate(name: name, kind: .recipe(try FitRecipe.parse(spec)))
        } catch let e as Diagnostic {
            throw Diagnostic(.candidate, problem: "--candidate \(name): \(e.description). Fix: give a scorecard .yaml, a model .json, or a recipe like fit or penalty=l2,lambda=auto")
        }
    }

    /// The files the candidate reads (a scorecard, a model, a recipe's metric config).
    public var inputPaths: [String] {
        switch kind {
        case .scorecard(_, let path), .model(_, let path, _): return [path]
        case .recipe(let r): return [r.config].compactMap { $0 }
        }
    }

    /// A short description for tables.
    public var specDescription: String {
        switch kind {
        case .scorecard(let s, let path): return "scorecard \(s.name) (\((path as NSString).lastPathComponent))"
        case .model(let model, let path, let frozen):
            let file = (path as NSString).lastPathComponent
            if frozen { return "model \(file), used as it is (not refitted)" }
            let recipe = Self.recipe(of: model, naValues: model.schema.naValues, seed: 1)
            return "model \(file), refitted with its recipe: \(recipe.summary)" + (model.spec == nil ? " (format 1: read back from its summary)" : "")
        case .recipe(let r):
            var parts = ["fit"]
            let e = r.estimator
            if e.penalty != .none { parts.append("penalty=\(e.penalty.rawValue)") }
            if let a = e.alpha { parts.append("alpha=\(a)") }
            if let l = e.lambda { parts.append("lambda=\(l)") }
            if let cv = e.crossValidation { parts.append("lambda=auto (\(cv.folds)-fold inner CV)") }
            if let c = r.config { parts.append("config=\((c as NSString).lastPathComponent)") }
            if r.autoTransform { parts.append("auto-transform") }
            return parts.joined(separator: ", ")
        }
    }
}

/// A candidate's out-of-sample output on one fold's test rows.
struct FoldPrediction {
    /// Higher = more likely to churn (the probability, or minus a scorecard's health score).
    var risk: [Double]
    /// Churn probability (a scorecard's is calibrated on the fold's training rows).
    var probability: [Double]
    /// 0–100, higher = healthier.
    var health: [Double]
    /// The model's own frozen band, when it has bands.
    var band: [String?]
}

extension Candidate {
    /// Trains (when it is a recipe) on `train` and predicts `test`. `base`: the comparison's own spec.
    func predict(train: RawTable, test: RawTable, base: FitSpec, seed: UInt64) throws -> FoldPrediction {
        switch kind {
        case .scorecard(let card, _):
            let health = try card.score(rowCount: test.rowCount, columns: ScoringInput.columns(test, names: card.requiredColumns))
            let trainHealth = try card.score(rowCount: train.rowCount, columns: ScoringInput.columns(train, names: card.requiredColumns))
            let y = try DesignBuilder.label(train, roles: base.roles).values
            let calibration = try ScoreCalibration.fit(score: trainHealth, labels: y)
            return FoldPrediction(risk: health.map { -$0 }, probability: health.map(calibration.probability), health: health,
                                  band: health.map { _ in nil })
        case .model(let model, _, let frozen):
            if frozen { return try Self.scored(model, test) }
            return try Self.scored(try Self.refit(model, table: train, naValues: base.naValues, seed: seed), test)
        case .recipe(let recipe):
            return try Self.scored(try Self.fit(recipe.spec(base: base, seed: seed), table: train), test)
        }
    }

    /// `model` refitted on `table` with the spec it was fitted by. A format-1 file stored none: its
    /// spec is read back from its schema and summary, with the comparison's NA tokens and `seed`.
    /// The recipe's metrics are the model's own: a fit that took every column of its file takes
    /// the same columns here, not whatever else this file has.
    public static func refit(_ model: ModelArtifact, table: RawTable, naValues: [String], seed: UInt64) throws -> ModelArtifact {
        var spec = recipe(of: model, naValues: naValues, seed: seed)
        if spec.roles.onlyColumns == nil { spec.roles.onlyColumns = Set(metricColumns(of: model)) }
        return try fit(spec, table: table)
    }

    static func recipe(of model: ModelArtifact, naValues: [String], seed: UInt64) -> FitSpec {
        model.spec ?? FitSpec(formatOne: model, naValues: naValues, seed: seed)
    }

    /// The input columns behind a model's terms (a group's members, not its name).
    static func metricColumns(of model: ModelArtifact) -> [String] {
        model.schema.features.flatMap { f in f.kind == .group ? (f.members ?? []).map(\.column) : [f.column] }
    }

    /// A model candidate needs its columns in the comparison's file: all of them named in one line,
    /// before any fold runs (a model from other data would otherwise fail on fold 1 with advice
    /// about the comparison's own flags).
    public func requireColumns(in table: RawTable) throws {
        guard case .model(let model, let path, let frozen) = kind else { return }
        let needed = (frozen ? [] : [model.schema.target.column]) + Self.metricColumns(of: model)
        let missing = needed.filter { table.column(named: $0) == nil }
        guard !missing.isEmpty else { return }
        let listed = missing.prefix(6).map { "'\($0)'" }.joined(separator: ", ") + (missing.count > 6 ? ", … (\(missing.count) in all)" : "")
        throw Diagnostic(.candidate, file: table.path,
                         problem: "--candidate \(name): the model \((path as NSString).lastPathComponent) reads columns this file does not have: \(listed)",
                         fix: "compare it on a file with the model's columns (the one it was fitted on, or the same export), or give a recipe instead (e.g. \(name)=fit)")
    }

    static func scored(_ model: ModelArtifact, _ table: RawTable) throws -> FoldPrediction {
        // Levels a training fold never saw are scored as the pooled or reference level, not refused.
        let scorer = Scorer(model: model, unknownLevels: .other)
        let p = try scorer.score(rowCount: table.rowCount, columns: ScoringInput.columns(table, names: scorer.requiredColumns))
        return FoldPrediction(risk: p.map(\.churnProbability), probability: p.map(\.churnProbability), health: p.map(\.healthScore),
                              band: p.map(\.band))
    }

    static func fit(_ spec: FitSpec, table: RawTable) throws -> ModelArtifact {
        var clock = Timings()
        return try FitPipeline.fit(spec, .table(table), timings: &clock).model
    }
}
