import Foundation

/// The versioned model file: everything production needs to score, and everything an analyst needs
/// to judge the weights. Readable by the scoring core alone.
public struct ModelArtifact: Codable, Sendable, Equatable {
    public static let formatName = "healthscore-model"
    /// 2: the fit's `FitSpec` is stored (`spec`). Version 1 files (no spec) still load and score.
    public static let currentFormatVersion = 2

    public var format: String
    public var formatVersion: Int
    public var toolVersion: String
    public var createdAt: String
    public var training: TrainingSource
    public var schema: InputSchema
    public var coefficients: [Coefficient]
    /// Terms left out because they are linear combinations of earlier terms (R's NA coefficients).
    public var aliased: [String]
    public var fit: FitSummary
    public var warnings: [ModelWarning]
    /// The business reading: change in churn probability from the average customer.
    public var impacts: [MetricImpact]
    /// Score scale and health bands, frozen at fit time (nil: probability scale, no bands).
    public var scoring: ScoringSpec?
    /// What defined the fit, so a refit reproduces it (nil in format 1).
    public var spec: FitSpec?
    /// "sha256:" + hex of this file's canonical JSON without the checksum: loading refuses a file
    /// whose content no longer matches (edited or damaged).
    public var checksum: String?

    public init(toolVersion: String, createdAt: String, training: TrainingSource, schema: InputSchema,
                coefficients: [Coefficient], aliased: [String], fit: FitSummary, warnings: [ModelWarning],
                impacts: [MetricImpact]) {
        self.format = Self.formatName
        self.formatVersion = Self.currentFormatVersion
        self.toolVersion = toolVersion
        self.createdAt = createdAt
        self.training = training
        self.schema = schema
        self.coefficients = coefficients
        self.aliased = aliased
        self.fit = fit
        self.warnings = warnings
        self.impacts = impacts
    }
}

public struct TrainingSource: Codable, Sendable, Equatable {
    public var file: String
    public var sha256: String
    public var rows: Int
    public init(file: String, sha256: String, rows: Int) {
        self.file = file; self.sha256 = sha256; self.rows = rows
    }
}

public enum MissingPolicy: String, Codable, Sendable, CaseIterable {
    /// Complete cases only, as R's glm.
    case drop
    /// Mean for numbers plus a `missing(column)` indicator term; a `(missing)` level for categories.
    case impute
}

public struct InputSchema: Codable, Sendable, Equatable {
    /// Cells read as missing unless a fit says otherwise (compared ignoring case and spaces).
    public static let defaultNAValues = ["", "NA", "N/A", "NULL", "NaN", "#N/A", "<NA>"]
    public var target: TargetSpec
    public var id: String?
    public var time: String?
    public var excluded: [String]
    public var missingPolicy: MissingPolicy
    public var naValues: [String]
    public var features: [FeatureSpec]
    /// The column that grouped rows for cluster-robust standard errors, if any.
    public var clusterColumn: String?
    /// Sample-weights column and class weighting used in training (not needed to score).
    public var weightsColumn: String?
    public var classWeight: String?
    /// What scoring does with a category level training never saw (nil: error). A model fitted with
    /// rare-level pooling usually says `other`: unseen levels are rare by nature.
    public var unseenLevels: UnknownLevelPolicy?
    /// The pooling threshold that produced the features' `pooledLevels`, so a refit pools alike.
    public var rareLevelShare: Double?
    /// How the training export wrote numbers (nil: plain); scoring reads cells the same way.
    public var numberFormat: NumberFormat?
    /// The metric config's `require_trustworthy`: later commands refuse the model if its fit warned
    /// that the weights may be wrong (`ModelWarning.untrustworthyCodes`).
    public var requireTrustworthy: Bool?
    /// Columns of the training file left out because the config lists its metrics only.
    public var unlistedColumns: [String]?

    public init(target: TargetSpec, id: String?, time: String?, excluded: [String], missingPolicy: MissingPolicy,
                naValues: [String], features: [FeatureSpec]) {
        self.target = target; self.id = id; self.time = time; self.excluded = excluded
        self.missingPolicy = missingPolicy; self.naValues = naValues; self.features = features
    }
}

public struct TargetSpec: Codable, Sendable, Equatable {
    public var column: String
    /// The label value that means "churned" (coded 1).
    public var positive: String
    public var negative: [String]
    public init(column: String, positive: String, negative: [String]) {
        self.column = column; self.positive = positive; self.negative = negative
    }
}

public enum FeatureKind: String, Codable, Sendable {
    case numeric, categorical
    /// The average of several metrics' oriented standard scores, fitted as one term.
    case group
}

/// How a missing number is filled under the impute policy (the fill is learned on training rows).
public enum ImputeStatistic: String, Codable, Sendable, CaseIterable { case mean, median }

/// One metric inside a group: its standard score (t(x) − mean)/sd, times `sign` so that every
/// member of a group points the same way.
public struct GroupMember: Codable, Sendable, Equatable {
    public var column: String
    public var transforms: [MetricTransform]?
    public var mean: Double
    public var standardDeviation: Double
    public var sign: Double
    /// Impute policy: the member's fill on the transformed scale.
    public var imputeValue: Double?
    public init(column: String, transforms: [MetricTransform]?, mean: Double, standardDeviation: Double,
                sign: Double, imputeValue: Double? = nil) {
        self.column = column; self.transforms = transforms; self.mean = mean
        self.standardDeviation = standardDeviation; self.sign = sign; self.imputeValue = imputeValue
    }

    /// The oriented standard score of one (already transformed) value.
    public func standardScore(_ transformed: Double) -> Double {
        sign * (transformed - mean) / standardDeviation
    }
}

/// One input column and how it becomes design terms.
public struct FeatureSpec: Codable, Sendable, Equatable {
    public var column: String
    public var kind: FeatureKind
    /// Categorical: every level seen in training, in byte order; `reference` is coded all-zero.
    public var levels: [String]?
    public var reference: String?
    /// Numeric: training mean and 1/n standard deviation (for impacts and display).
    public var mean: Double?
    public var standardDeviation: Double?
    /// Impute policy: the value that replaces a missing number.
    public var imputeValue: Double?
    /// Impute policy: the indicator term added when the column had missing values in training.
    public var missingIndicator: String?
    public var missingShare: Double
    /// Numeric: transforms applied in order before the weight (mean, sd and imputeValue are on the
    /// transformed scale).
    public var transforms: [MetricTransform]?
    /// Impute policy, numeric: which statistic `imputeValue` is.
    public var imputation: ImputeStatistic?
    /// Categorical: training levels too rare to get their own weight, scored as `otherLevel`.
    public var pooledLevels: [String]?
    /// Group: its members; the group's value is the mean of their standard scores.
    public var members: [GroupMember]?
    /// The analyst's name for the metric (from the metric configuration).
    public var displayName: String?
    /// The business direction, "higher" or "lower" is healthier, when the analyst gave one.
    public var healthierWhen: String?
    /// Categorical: the training share of each level (aligned with `levels`), for the average customer.
    public var levelShares: [Double]?
    /// Categorical: fitted rows labelled churned, per level (with `levelShares`, a level whose rows
    /// all carry one label shows: it separates).
    public var levelChurners: [Int]?
    /// false for a metric no one can act on (plan, segment, region): it stays in the score but is
    /// never given as a reason. nil means actionable.
    public var actionable: Bool?

    public init(column: String, kind: FeatureKind, levels: [String]? = nil, reference: String? = nil,
                mean: Double? = nil, standardDeviation: Double? = nil, imputeValue: Double? = nil,
                missingIndicator: String? = nil, missingShare: Double = 0) {
        self.column = column; self.kind = kind; self.levels = levels; self.reference = reference
        self.mean = mean; self.standardDeviation = standardDeviation; self.imputeValue = imputeValue
        self.missingIndicator = missingIndicator; self.missingShare = missingShare
    }

    /// The label given to a missing category under the impute policy.
    public static let missingLevel = "(missing)"
    /// The level that pooled rare levels (and, under the `other` policy, unseen ones) share.
    public static let otherLevel = "(other)"

    public static func levelTerm(_ column: String, _ level: String) -> String { "\(column)[\(level)]" }
    public static func indicatorTerm(_ column: String) -> String { "missing(\(column))" }
}

public struct Coefficient: Codable, Sendable, Equatable {
    public var term: String
    /// The input column the term comes from (nil for the intercept).
    public var column: String?
    public var level: String?
    public var estimate: Double
    public var standardError: Double?
    public var z: Double?
    public var pValue: Double?
    public var ciLower: Double?
    public var ciUpper: Double?
    public var oddsRatio: Double?
    /// Variance inflation factor: how much collinearity with the other terms inflates this
    /// estimate's variance (1 = none; above 10 the weight cannot be read on its own).
    public var vif: Double?

    public init(term: String, column: String?, level: String?, estimate: Double, standardError: Double?,
                z: Double?, pValue: Double?, ciLower: Double?, ciUpper: Double?, oddsRatio: Double?) {
        self.term = term; self.column = column; self.level = level; self.estimate = estimate
        self.standardError = standardError; self.z = z; self.pValue = pValue
        self.ciLower = ciLower; self.ciUpper = ciUpper; self.oddsRatio = oddsRatio
    }
    public static let interceptTerm = "(Intercept)"
}

public struct IterationSummary: Codable, Sendable, Equatable {
    public var iteration: Int
    public var deviance: Double
    public var decrement: Double
    public var stepSize: Double
    public var halvings: Int
    public init(iteration: Int, deviance: Double, decrement: Double, stepSize: Double, halvings: Int) {
        self.iteration = iteration; self.deviance = deviance; self.decrement = decrement
        self.stepSize = stepSize; self.halvings = halvings
    }
}

public struct FitSummary: Codable, Sendable, Equatable {
    public var method: String
    public var nObservations: Int
    /// Rows dropped for a missing label or (drop policy) a missing metric.
    public var nDropped: Int
    public var nImputedCells: Int
    public var nEvents: Int
    public var logLikelihood: Double
    public var nullLogLikelihood: Double
    public var deviance: Double
    public var nullDeviance: Double
    public var aic: Double
    public var bic: Double
    public var pseudoR2: Double
    public var lrStatistic: Double
    public var lrDegreesOfFreedom: Int
    public var lrPValue: Double
    public var rank: Int
    public var iterations: Int
    public var converged: Bool
    public var convergenceRule: String
    /// How standard errors were estimated: model, hc0, hc1 or cluster:COLUMN (G clusters).
    public var covariance: String = "model"
    /// none, or firth (the likelihood maximised is ℓ + ½·log|I|; logLikelihood stays the plain ℓ).
    public var penalty: String = "none"
    /// Sign and box constraints the fit respected, e.g. "logins <= 0", with " (binding)" on those the
    /// data pushed against; nil for an unconstrained fit.
    public var constraints: [String]?
    /// Elastic-net mix and strength of a penalised fit, and how λ was chosen ("value", or "cv:K:min|1se").
    public var penaltyAlpha: Double?
    public var penaltyLambda: Double?
    public var lambdaChoice: String?
    /// Term pairs with |r| ≥ 0.8 on the training rows (only when correlations were asked for).
    public var strongCorrelations: [CorrelatedPair]?
    public var history: [IterationSummary]

    public init(method: String, nObservations: Int, nDropped: Int, nImputedCells: Int, nEvents: Int,
                logLikelihood: Double, nullLogLikelihood: Double, deviance: Double, nullDeviance: Double,
                aic: Double, bic: Double, pseudoR2: Double, lrStatistic: Double, lrDegreesOfFreedom: Int,
                lrPValue: Double, rank: Int, iterations: Int, converged: Bool, convergenceRule: String,
                history: [IterationSummary]) {
        self.method = method; self.nObservations = nObservations; self.nDropped = nDropped
        self.nImputedCells = nImputedCells; self.nEvents = nEvents; self.logLikelihood = logLikelihood
        self.nullLogLikelihood = nullLogLikelihood; self.deviance = deviance; self.nullDeviance = nullDeviance
        self.aic = aic; self.bic = bic; self.pseudoR2 = pseudoR2; self.lrStatistic = lrStatistic
        self.lrDegreesOfFreedom = lrDegreesOfFreedom; self.lrPValue = lrPValue; self.rank = rank
        self.iterations = iterations; self.converged = converged; self.convergenceRule = convergenceRule
        self.history = history
    }
}

public struct CorrelatedPair: Codable, Sendable, Equatable {
    public var a: String
    public var b: String
    public var r: Double
    public init(a: String, b: String, r: Double) { self.a = a; self.b = b; self.r = r }
}

public struct ModelWarning: Codable, Sendable, Equatable {
    /// Every code a fit writes. The file keeps the text (`code`), so a later release may add codes
    /// that this one reads as unknown text rather than refusing the model.
    public enum Code: String, CaseIterable, Sendable {
        /// Complete separation: the maximum-likelihood weights do not exist.
        case separation
        /// Quasi-complete separation: some rows are fitted at probability 0 or 1.
        case quasiSeparation = "quasi_separation"
        /// Terms that are linear combinations of earlier ones, left out of the fit.
        case aliased
        /// Newton/IRLS or the penalised solver stopped before its convergence test held.
        case notConverged = "not_converged"
        /// Fitted probabilities within 1e-7 of 0 or 1.
        case extremeProbabilities = "extreme_probabilities"
        /// The information matrix needed a ridge to be solved.
        case singularInformation = "singular_information"
        /// Rows left out for missing values (`--missing drop`) or labels outside the named values.
        case droppedRows = "dropped_rows"
        /// Terms with a variance inflation factor above 10.
        case collinear
        /// Churners are the majority: the label may be coded the wrong way round.
        case churnMajority = "churn_majority"
        /// Penalised weights: standard errors and p-values are not reported.
        case penalisedInference = "penalised_inference"
        /// A weight held at a bound the fit pushes against.
        case bindingConstraint = "binding_constraint"
        /// Customers with several rows: model standard errors are too small.
        case repeatedIDs = "repeated_ids"
        /// How λ was chosen by cross-validation, and how sure the choice is.
        case crossValidation = "cross_validation"
        /// A category whose levels are dates (the snapshot column without `--time`).
        case datesAsCategory = "dates_as_category"
    }

    /// Machine-readable: one of `Code`'s raw values (read as text, see `Code`).
    public var code: String
    public var message: String
    public var terms: [String]
    public init(code: String, message: String, terms: [String] = []) {
        self.code = code; self.message = message; self.terms = terms
    }

    public init(_ code: Code, message: String, terms: [String] = []) {
        self.init(code: code.rawValue, message: message, terms: terms)
    }

    /// Codes that say the weights (or the label's meaning) may be wrong, not only hard to read:
    /// downstream commands repeat them, and refuse the model when asked to require trust.
    public static let untrustworthyCodes: Set<String> = Set([Code.separation, .quasiSeparation, .notConverged,
                                                             .singularInformation, .churnMajority].map(\.rawValue))

    public var makesModelUntrustworthy: Bool { Self.untrustworthyCodes.contains(code) }
}

/// Churn-probability change for the average customer when one metric moves.
public struct MetricImpact: Codable, Sendable, Equatable {
    public var term: String
    /// "+1 sd" for numbers, "vs <reference>" for category levels.
    public var change: String
    public var baseProbability: Double
    public var newProbability: Double
    public var deltaProbability: Double
    public init(term: String, change: String, baseProbability: Double, newProbability: Double) {
        self.term = term; self.change = change; self.baseProbability = baseProbability
        self.newProbability = newProbability; self.deltaProbability = newProbability - baseProbability
    }
}
