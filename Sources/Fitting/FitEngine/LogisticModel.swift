/// An unpenalised logistic-regression problem: immutable inputs kept apart from solver state.
public struct LogisticProblem: Sendable {
    /// n×p design; column 0 must be the intercept (all ones).
    public var design: Matrix
    /// 0/1 outcome per row.
    public var response: [Double]
    /// Optional non-negative prior (frequency) weights per row.
    public var weights: [Double]?
    /// Names used in warnings; `termNames[0]` is the intercept.
    public var termNames: [String]

    public init(design: Matrix, response: [Double], weights: [Double]? = nil, termNames: [String]) {
        precondition(design.rows == response.count, "design rows and response length differ")
        precondition(design.cols == termNames.count, "design columns and term names differ")
        self.design = design
        self.response = response
        self.weights = weights
        self.termNames = termNames
    }
}

public struct FitOptions: Sendable {
    /// Newton iterations at most; separated data need up to ~40 before the decrement settles.
    public var maxIterations = 100
    /// Stop when half the Newton decrement, gᵀH⁻¹g/2 (the gain in log-likelihood a Newton step
    /// predicts), falls below `tolerance·(|ℓ| + 1)`: by default the rounding of ℓ itself.
    /// Newton converges quadratically, so this costs about one iteration more than a loose rule.
    public var tolerance = Double.ulpOfOne
    /// A term is aliased when 1 − R² of its column on the earlier columns is below this.
    /// Exact duplicates land near 1e-15, mlc_churn's charge-vs-minutes columns near 1e-7.
    public var aliasTolerance = 1e-10
    /// Halvings of the Newton step before the line search gives up.
    public var maxHalvings = 30
    /// The covariance reported with the coefficients.
    public var covariance: CovarianceEstimator = .model
    /// Firth's bias-reduced likelihood (ℓ + ½·log|I|) instead of the plain one.
    public var firth = false
    /// Box constraints per design column on the original scale (−∞/+∞ = free), e.g. a sign the
    /// business already knows; the intercept must stay free.
    public var lowerBounds: [Double]?
    public var upperBounds: [Double]?
    /// Fits with at least this many rows (and n/8 ≥ 30·k²) run their intermediate Newton steps on
    /// a sampled XᵀWX (`HessianSampling`); tests lower it to reach the sampled path on small data,
    /// or raise it to `Int.max` for the exact path.
    var sampledHessianMinRows = 200_000
    public init() {}
}

/// One Newton iteration, for diagnostics (glum-style).
public struct IterationRecord: Sendable, Codable {
    public var iteration: Int
    public var deviance: Double
    /// gᵀH⁻¹g at the start of the iteration.
    public var decrement: Double
    public var stepSize: Double
    public var halvings: Int
    public var seconds: Double
}

/// What a fit found that the analyst must know; values, not thrown errors.
public enum FitWarning: Sendable, Equatable {
    /// Terms (by design column) that are linear combinations of earlier ones and were left out.
    case aliased(terms: [Int])
    /// The likelihood has no finite maximum: `complete` when every row is predicted perfectly.
    case separation(complete: Bool, terms: [Int], perfectlyPredictedRows: Int)
    /// Rows with fitted probability within 1e-7 of 0 or 1 without a separating direction.
    case extremeFittedProbabilities(rows: Int)
    /// `limit`: the iteration limit of the run (the fit may stop before it when no step lowers the objective).
    case notConverged(iterations: Int, decrement: Double, limit: Int)
    /// The weighted information matrix became numerically singular during the fit; a ridge of the
    /// given relative size was added to take the step.
    case singularInformation(ridge: Double)
}

/// A fitted logistic regression on the original (unstandardised) scale of the design.
public struct LogisticFit: Sendable {
    public var termNames: [String]
    /// nil for aliased terms.
    public var coefficients: [Double?]
    /// nil for aliased terms, or when the information matrix could not be inverted.
    public var standardErrors: [Double?]
    /// Covariance over the non-aliased terms, in the order of `activeTerms`.
    public var covariance: SymmetricMatrix?
    public var activeTerms: [Int]
    public var aliasedTerms: [Int]
    public var nObservations: Int
    /// Σ prior weights (equals nObservations without weights).
    public var weightSum: Double
    public var deviance: Double
    public var nullDeviance: Double
    public var logLikelihood: Double { -deviance / 2 }
    public var nullLogLikelihood: Double { -nullDeviance / 2 }
    public var rank: Int { activeTerms.count }
    public var iterations: Int
    public var converged: Bool
    public var history: [IterationRecord]
    public var warnings: [FitWarning]
    /// Fitted churn probability per training row; empty for a fit over a `RowBlockSource`, which
    /// keeps no per-row state (score the rows again with the coefficients).
    public var fittedProbabilities: [Double]
    /// Terms held at a bound with the likelihood pushing against it: the data disagree with the prior.
    public var bindingTerms: [Int] = []
    /// Largest KKT residual of the constrained problem (projected gradient, standardised scale, per row).
    public var kktResidual: Double = 0
    /// Variance inflation factor per term (nil for the intercept and aliased terms): 1/(1 − R²) of the
    /// term's column on the other active columns, in the fit's weighting.
    public var varianceInflation: [Double?] = []
    /// Newton iterations whose step came from a sampled XᵀWX (`HessianSampling`); the last
    /// iteration and the covariance always use the exact information.
    public var sampledIterations = 0
    /// Newton steps on the sampled rows alone before the full-data iterations (`SampleWarmStart`).
    public var sampleStartIterations = 0
    /// Column means and standard deviations used for internal standardisation (intercept: 0, 1).
    public var columnMeans: [Double]
    public var columnScales: [Double]
}
