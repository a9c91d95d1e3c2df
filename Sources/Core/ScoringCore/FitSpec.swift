import Foundation
import Support

/// Everything that defines a fit: which columns play which part and how metrics are prepared
/// (`roles`), the NA tokens, the estimator (maximum likelihood, Firth, or an elastic net at a fixed
/// or cross-validated λ), bounds, the covariance estimator and the score scale with its bands.
///
/// One value, built once from flags and a metric configuration (or by a program: metric search fits
/// thousands), checked once (`validated()`), and stored as it is in the model (format 2), so that a
/// refit of "this model" on other rows reads the spec instead of parsing the summary's texts. How a
/// fit is run — in memory, streamed, on several processes — is not part of it: those give the same
/// model to rounding.
public struct FitSpec: Codable, Sendable, Equatable {
    public var roles: ColumnRoles
    /// Cells read as missing (besides empty ones, when listed).
    public var naValues: [String]
    public var estimator: Estimator
    /// Explicit bounds; the metric configuration's directions add theirs when the design is known.
    public var bounds: [TermBound]
    /// How standard errors are estimated (`cluster` groups rows by `roles.cluster`).
    public var covariance: CovarianceChoice
    public var maxIterations: Int
    public var scoring: ScoringChoice

    public init(roles: ColumnRoles, naValues: [String] = InputSchema.defaultNAValues, estimator: Estimator = Estimator(),
                bounds: [TermBound] = [], covariance: CovarianceChoice = .model, maxIterations: Int = 100,
                scoring: ScoringChoice = ScoringChoice()) {
        self.roles = roles; self.naValues = naValues; self.estimator = estimator; self.bounds = bounds
        self.covariance = covariance; self.maxIterations = maxIterations; self.scoring = scoring
    }

    /// The spec, or the first thing wrong with it (worded with the `fit` command's flags, which
    /// build it).
    public func validated() throws -> FitSpec {
        if let problem = problem { throw Diagnostic(.usage, problem: problem) }
        return self
    }

    public var problem: String? {
        if maxIterations < 1 { return "--max-iterations must be at least 1" }
        if let p = estimator.problem { return p }
        if !bounds.isEmpty && estimator.penalty == .firth {
            return "--bound goes with --penalty none, l2, l1 or elasticnet (not firth): drop --bound, or fit with --penalty none"
        }
        if estimator.penalty.isElasticNet && covariance != .model {
            return "--covariance does not apply to penalised fits (no standard errors are reported): drop --covariance, or fit with --penalty none or firth"
        }
        if (covariance == .cluster) != (roles.cluster != nil) {
            return "--covariance cluster:COLUMN names the column that groups the rows (cluster covariance and a cluster column go together)"
        }
        return scoring.problem
    }

    /// One line for tables: the estimator, then what the recipe adds to a plain fit
    /// ("ridge, λ by 5-fold CV (1se); 6 bounds; missing: impute (median); 2 transformed metrics").
    public var summary: String {
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        var parts = [estimator.summary]
        if let only = roles.onlyColumns { parts.append(count(only.count, "metric")) }
        if !bounds.isEmpty { parts.append(count(bounds.count, "bound")) }
        if !roles.healthierWhen.isEmpty { parts.append(count(roles.healthierWhen.count, "direction")) }
        if roles.missing == .impute { parts.append("missing: impute (\(roles.impute.rawValue))") }
        let transformed = roles.transforms.values.filter { !$0.isEmpty }.count
        if transformed > 0 { parts.append(count(transformed, "transformed metric")) }
        if roles.autoTransform { parts.append("auto-transform") }
        if !roles.groups.isEmpty { parts.append(count(roles.groups.count, "metric group")) }
        if let r = roles.correlationThreshold { parts.append("groups above |r| \(r)") }
        if covariance != .model { parts.append("\(covariance.rawValue) standard errors") }
        if scoring.scale.kind == .points { parts.append("points scale") }
        return parts.joined(separator: "; ")
    }
}

/// The estimator: the penalty, and for an elastic net its mix α and its λ (a value, or chosen by
/// cross-validation).
public struct Estimator: Codable, Sendable, Equatable {
    public enum Penalty: String, Codable, Sendable, CaseIterable {
        /// Maximum likelihood.
        case none
        /// Bias-reduced likelihood: finite weights under separation.
        case firth
        /// glmnet's objective with α = 0, 1, or anything between.
        case l2, l1, elasticnet

        public var isElasticNet: Bool { self == .l2 || self == .l1 || self == .elasticnet }
        /// The mix when α is not given: ridge 0, lasso 1, elastic net ½.
        public var defaultAlpha: Double { self == .l2 ? 0 : (self == .l1 ? 1 : 0.5) }
    }

    /// K-fold cross-validation over the λ path (folds grouped by `roles.id` when set).
    public struct CrossValidation: Codable, Sendable, Equatable {
        public var folds: Int
        public var seed: UInt64
        public var select: LambdaSelection
        public init(folds: Int = 10, seed: UInt64 = 1, select: LambdaSelection = .oneSE) {
            self.folds = folds; self.seed = seed; self.select = select
        }
    }

    public var penalty: Penalty
    /// nil: the penalty's default mix.
    public var alpha: Double?
    /// A fixed λ on glmnet's scale; or
    public var lambda: Double?
    /// λ chosen by cross-validation.
    public var crossValidation: CrossValidation?

    public init(penalty: Penalty = .none, alpha: Double? = nil, lambda: Double? = nil, crossValidation: CrossValidation? = nil) {
        self.penalty = penalty; self.alpha = alpha; self.lambda = lambda; self.crossValidation = crossValidation
    }

    public static let maximumLikelihood = Estimator()
    public static let firth = Estimator(penalty: .firth)
    public static func elasticNet(alpha: Double, lambda: Double) -> Estimator {
        Estimator(penalty: alpha == 0 ? .l2 : (alpha == 1 ? .l1 : .elasticnet), alpha: alpha, lambda: lambda)
    }

    /// The elastic-net mix α in use.
    public var mix: Double { alpha ?? penalty.defaultAlpha }

    /// "maximum likelihood", "Firth", "ridge, λ = 0.01", "elastic net α = 0.5, λ by 5-fold CV (1se)".
    public var summary: String {
        let name: String
        switch penalty {
        case .none: return "maximum likelihood"
        case .firth: return "Firth"
        case .l2: name = "ridge"
        case .l1: name = "lasso"
        case .elasticnet: name = "elastic net α = \(mix)"
        }
        if let lambda { return "\(name), λ = \(lambda)" }
        if let cv = crossValidation { return "\(name), λ by \(cv.folds)-fold CV (\(cv.select.rawValue))" }
        return name
    }

    public var problem: String? {
        switch penalty {
        case .none, .firth:
            let given = penalty == .none ? "no --penalty" : "--penalty firth"
            if lambda != nil || crossValidation != nil {
                return "--lambda goes with --penalty l2, l1 or elasticnet, and \(given) was given: add --penalty l2 (ridge), l1 (lasso) or elasticnet, or drop --lambda"
            }
            if alpha != nil { return "--alpha goes with --penalty elasticnet, and \(given) was given: add --penalty elasticnet --lambda VALUE|auto, or drop --alpha" }
        case .l2, .l1, .elasticnet:
            if (lambda == nil) == (crossValidation == nil) { return "--penalty \(penalty.rawValue) needs --lambda: a number ≥ 0, or auto (chosen by cross-validation)" }
            if let lambda, !(lambda >= 0 && lambda.isFinite) { return "--lambda must be a number ≥ 0, or auto" }
            if let cv = crossValidation, cv.folds < 2 { return "--folds must be at least 2" }
            if let alpha, !(0...1).contains(alpha) { return "--alpha must be between 0 and 1" }
            // l2 and l1 are the two ends of the mix: a different α would make the name lie.
            if let alpha, penalty != .elasticnet, alpha != penalty.defaultAlpha {
                return "--penalty \(penalty.rawValue) is α = \(Int(penalty.defaultAlpha)) (\(penalty == .l2 ? "ridge" : "lasso")), and --alpha \(alpha) asks for a mix: use --penalty elasticnet --alpha \(alpha), or drop --alpha"
            }
        }
        return nil
    }
}

/// Which cross-validated λ the final model is fitted at.
public enum LambdaSelection: String, Codable, Sendable, CaseIterable {
    /// The λ with the smallest mean test deviance.
    case min
    /// glmnet's default for reporting: the sparsest model within one standard error of the minimum.
    case oneSE = "1se"
}

/// Standard errors: the inverse information, heteroskedasticity-robust (HC0, HC1), or
/// cluster-robust by `ColumnRoles.cluster`.
public enum CovarianceChoice: String, Codable, Sendable, CaseIterable {
    case model, hc0, hc1, cluster
}

/// A bound on one term, original scale: `term <= value` or `term >= value`.
public struct TermBound: Codable, Sendable, Equatable {
    public var term: String
    public var lower: Double?
    public var upper: Double?
    public init(term: String, lower: Double? = nil, upper: Double? = nil) { self.term = term; self.lower = lower; self.upper = upper }

    /// Parses `logins<=0`, `days_late>=0` or `plan[pro]<=0.5`.
    public init?(parsing text: String) {
        for (op, isUpper) in [("<=", true), (">=", false)] {
            if let r = text.range(of: op), let v = Double(text[r.upperBound...].trimmingCharacters(in: .whitespaces)), v.isFinite {
                let term = text[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
                guard !term.isEmpty else { return nil }
                self.init(term: term, lower: isUpper ? nil : v, upper: isUpper ? v : nil)
                return
            }
        }
        return nil
    }
}
