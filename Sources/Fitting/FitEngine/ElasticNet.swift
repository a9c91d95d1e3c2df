import Foundation

// Elastic-net penalised logistic regression with glmnet's objective (standardize = TRUE):
//
//   F(β₀, β̃) = (1/N)·Σᵢ vᵢ·[softplus(ηᵢ) − yᵢηᵢ] + λ·Σⱼ pfⱼ·((1−α)/2·β̃ⱼ² + α·|β̃ⱼ|),   N = Σᵢ vᵢ,
//
// with β̃ the slopes of the columns standardised by their weighted mean and 1/N standard deviation.
// The solver works on that scale and reports the original one. It runs in rounds:
//   1. proximal Newton (glmnet's IRLS): each quadratic model of F is minimised by cyclic coordinate
//      descent, which finds the model's support, then solved exactly on that support by Cholesky —
//      on a nearly collinear design coordinate descent alone crawls for thousands of sweeps;
//   2. polish: Newton's method on the smooth problem left once the active set and the signs of its
//      slopes are fixed (the L1 term is linear there), to the rounding level of the gradient;
//   3. the KKT conditions of every inactive term are checked; a violator joins and the round repeats.
// Ridge (α = 0) has no L1 part, so step 2 on all terms is the whole answer.
//
// Box constraints lⱼ ≤ βⱼ ≤ uⱼ (original scale, e.g. a sign the business knows) become
// lⱼ·sⱼ ≤ β̃ⱼ ≤ uⱼ·sⱼ on the standardised scale (sⱼ > 0). Every step respects them: coordinate descent
// clamps each coordinate's exact minimiser into its box (the 1-D model is convex, so that is the
// constrained minimiser); the Cholesky finish holds a term at a bound fixed, and the polish does too
// unless F falls as it moves inward; both stop a step where a free term reaches its bound, which then
// holds it; the KKT check allows for a bound's multiplier, and a term the bound holds against the fit
// is reported as binding. With bounds the rounds run coordinate descent for ridge too: it is what
// reliably moves a term off a bound. Without any finite bound every computation is the unconstrained
// one, operation for operation (the results are bit-for-bit those of the unbounded solver).

/// glmnet's elastic-net penalty λ·Σⱼ pfⱼ·((1−α)/2·β̃ⱼ² + α·|β̃ⱼ|) on the standardised slopes.
/// The intercept is never penalised.
public struct ElasticNetPenalty: Sendable {
    /// 0 = ridge, 1 = lasso.
    public var alpha: Double
    public var lambda: Double
    /// One factor per non-intercept design column, in design order (glmnet's `penalty.factor`);
    /// nil means all 1 and 0 leaves a term unpenalised. Rescaled, as glmnet does, to sum to the
    /// number of non-intercept columns, so λ keeps its meaning whatever the factors' overall size.
    public var penaltyFactors: [Double]?
    /// Box constraints per design column, index 0 the intercept, on the ORIGINAL scale of the design
    /// (`FitOptions.lowerBounds`/`upperBounds`' convention): −∞ / +∞ leave a side free, nil leaves
    /// every column free, and the intercept must stay free. E.g. upper bound 0 on a metric the business
    /// knows cannot raise churn. lⱼ ≤ uⱼ; lⱼ = uⱼ fixes the term. A constant column whose box excludes 0
    /// is reported at the bound nearest 0, the intercept absorbing it.
    public var lowerBounds: [Double]?
    public var upperBounds: [Double]?

    public init(alpha: Double, lambda: Double, penaltyFactors: [Double]? = nil,
                lowerBounds: [Double]? = nil, upperBounds: [Double]? = nil) {
        self.alpha = alpha
        self.lambda = lambda
        self.penaltyFactors = penaltyFactors
        self.lowerBounds = lowerBounds
        self.upperBounds = upperBounds
    }
}

public struct ElasticNetOptions: Sendable {
    /// A fit is converged when its KKT residual (`PenalizedFit.kktViolation`) is at most this.
    /// Absolute on purpose: on the standardised scale every component of the loss gradient,
    /// (1/N)·Σᵢ vᵢ(μᵢ − yᵢ)x̃ᵢⱼ, is at most 1 in size (Cauchy–Schwarz: unit-variance columns and
    /// |μ − y| ≤ 1), so 1e-12 is relative to the largest gradient possible, yet well above the
    /// rounding of the gradient sum itself (≈ ε·√n).
    public var kktTolerance = 1e-12
    /// Smooth (ridge) fits with at least this many rows may run their intermediate Newton steps on a
    /// sampled XᵀWX, as `FitOptions.sampledHessianMinRows`; tests move it.
    var sampledHessianMinRows = FitOptions().sampledHessianMinRows
    /// Rounds of (coordinate descent, Newton polish, KKT check) before giving up.
    public var maxRounds = 20
    /// Proximal-Newton (IRLS) iterations in one coordinate-descent phase.
    public var maxOuterIterations = 100
    /// The coordinate-descent phase stops once the decrease its quadratic model predicts is below
    /// this × (|F| + 1): by then the active set is found, and the polish solves the rest exactly.
    public var outerTolerance = 1e-10
    /// Coordinate descent on one quadratic model stops after a full sweep in which no coordinate
    /// move changed the model by more than this × (|F| + 1) (glmnet's rule, max Hⱼⱼ·Δβⱼ²).
    public var coordinateTolerance = 1e-14
    /// Cap on coordinate-descent sweeps per quadratic model (a sweep over the nonzero coordinates
    /// counts as one). Coordinate descent only has to find the model's support: an exact Cholesky
    /// finish on that support supplies the digits it would crawl towards on a collinear design.
    public var maxSweeps = 1_000
    /// The polish takes Newton steps until the KKT residual on the active set is below this, or
    /// stops falling (the rounding floor, ~1e-17 on mlc_churn and on 100k simulated rows). Newton is
    /// quadratic there, so going past `kktTolerance` costs about one pass and buys the last digits.
    public var polishTolerance = 1e-15
    /// Newton iterations per polish.
    public var maxPolishIterations = 50
    /// The default path: this many λ, log-spaced from λmax down to `lambdaMinRatio`·λmax.
    public var lambdaCount = 100
    public var lambdaMinRatio = 1e-4
    /// On a path, start each λ's working set from the sequential strong rule (Tibshirani et al.,
    /// 2012): term j is a candidate when |∂L/∂β̃ⱼ| at the previous solution ≥ α·pfⱼ·(2λ − λ_prev).
    /// A heuristic only: the KKT check afterwards adds whatever it missed.
    public var strongRule = true
    /// A term at a bound is reported in `PenalizedFit.bindingTerms` when the bound's multiplier — how
    /// fast F would fall moving the term past the bound, on the standardised scale, where a gradient
    /// component is at most 1 — exceeds this.
    public var bindingTolerance = 1e-10

    public init() {}
}

/// One penalised fit, coefficients on the original scale of the design.
public struct PenalizedFit: Sendable {
    public var termNames: [String]
    /// Index 0 is the intercept; exactly 0 for inactive terms and constant columns.
    public var coefficients: [Double]
    public var alpha: Double
    public var lambda: Double
    /// glmnet's objective F at the solution (mean loss plus penalty).
    public var objective: Double
    /// Proximal-Newton iterations plus Newton polish iterations, over all rounds.
    public var iterations: Int
    /// kktViolation ≤ `ElasticNetOptions.kktTolerance`.
    public var converged: Bool
    /// Largest KKT residual over the terms, on the standardised scale: |∂f/∂β̃ⱼ + λα·pfⱼ·sign(β̃ⱼ)| for an
    /// active term (f the smooth part, ridge included), max(0, |∂f/∂β̃ⱼ| − λα·pfⱼ) for an inactive one,
    /// |∂f/∂β̃ⱼ| for the intercept and unpenalised terms. A term at a bound counts only the directions it
    /// may move in: how fast F falls along the better of them (0 if neither lowers F).
    public var kktViolation: Double
    /// Binomial deviance 2·Σᵢ vᵢ·[softplus(ηᵢ) − yᵢηᵢ].
    public var deviance: Double
    /// Nonzero coefficients, intercept excluded (glmnet's `df`).
    public var nonZero: Int
    /// Design columns held at a bound that the fit pushes against (the bound's multiplier exceeds
    /// `ElasticNetOptions.bindingTolerance`): without the bound the term would move past it. A term
    /// at a bound of 0 that the L1 penalty alone would keep at 0 is not binding.
    public var bindingTerms: [Int] = []
}

public enum ElasticNet {
    /// Minimises glmnet's objective for one (α, λ), within the penalty's bounds if it has any.
    /// `warmStart`: coefficients on the original scale (index 0 the intercept), e.g. the fit at a
    /// nearby λ; projected into the bounds.
    public static func fit(_ problem: LogisticProblem, penalty: ElasticNetPenalty,
                           options: ElasticNetOptions = .init(), warmStart: [Double]? = nil) -> PenalizedFit {
        fit(engine: PenalizedEngine(problem, penaltyFactors: penalty.penaltyFactors,
                                    lowerBounds: penalty.lowerBounds, upperBounds: penalty.upperBounds),
            termNames: problem.termNames, penalty: penalty, options: options, warmStart: warmStart)
    }

    /// The same fit, standardising the problem's design in place instead of into a copy (half the
    /// peak memory of a large fit), for a caller that no longer needs the design; with each row's
    /// linear predictor xᵢᵀβ, which the caller can then no longer compute.
    public static func fit(consuming problem: consuming LogisticProblem, penalty: ElasticNetPenalty,
                           options: ElasticNetOptions = .init()) -> (fit: PenalizedFit, eta: [Double]) {
        let names = problem.termNames
        let engine = PenalizedEngine(consuming: problem, penaltyFactors: penalty.penaltyFactors,
                                     lowerBounds: penalty.lowerBounds, upperBounds: penalty.upperBounds)
        let result = fit(engine: engine, termNames: names, penalty: penalty, options: options, warmStart: nil)
        return (result, engine.linearPredictor(originalScale: result.coefficients))
    }

    private static func fit(engine: PenalizedEngine, termNames: [String], penalty: ElasticNetPenalty,
                            options: ElasticNetOptions, warmStart: [Double]?) -> PenalizedFit {
        precondition(penalty.alpha >= 0 && penalty.alpha <= 1, "alpha must be in [0, 1]")
        precondition(penalty.lambda >= 0 && penalty.lambda.isFinite, "lambda must be finite and ≥ 0")
        let weights = engine.penaltyWeights(lambda: penalty.lambda, alpha: penalty.alpha)
        if !engine.bounded && !weights.l1.contains(where: { $0 > 0 }) {
            // Smooth: Newton from the warm start, or from logit(ȳ) with zero slopes.
            let start = warmStart.map { engine.standardised($0) } ?? engine.interceptOnlyStart()
            let ridge = engine.ridgeNewton(start: start, weights: weights, options: options)
            return engine.result(beta: ridge.beta, outcome: ridge.outcome, weights: weights, termNames: termNames)
        }
        var beta: [Double]
        if let warmStart {
            beta = engine.standardised(warmStart)
            if engine.bounded { for j in 1..<engine.p where engine.usable[j] { beta[j] = engine.project(beta[j], j) } }
        } else {
            beta = engine.nullFit(options: options).beta
        }
        let working = (0..<engine.p).map { engine.usable[$0] && (weights.l1[$0] == 0 || beta[$0] != 0) }
        let outcome = engine.solve(beta: &beta, weights: weights, working: working, options: options)
        return engine.result(beta: beta, outcome: outcome, weights: weights, termNames: termNames)
    }

    /// The smallest λ at which every penalised slope is zero: max over penalised j of
    /// |∂L/∂β̃ⱼ| / (α·pfⱼ) at the fit with only the intercept and unpenalised terms. For α = 0 no
    /// finite λ zeroes a slope; like glmnet we then use α = 0.001 to place the top of the path.
    ///
    /// With bounds (original scale, as in `ElasticNetPenalty`) the null fit is the constrained one:
    /// each penalised slope sits at the point of its box nearest 0 — 0 itself when the box holds it —
    /// which is where it goes as λ → ∞, and the intercept and unpenalised terms are fitted within
    /// their boxes. λmax is then the smallest λ at which no penalised slope moves from there: per term
    /// only the gradient component in a direction the box allows counts, e.g. for a slope at 0 with
    /// box [0, ∞), max(0, −∂L/∂β̃ⱼ)/(α·pfⱼ); a slope held at a bound b ≠ 0 resists with the whole
    /// penalty slope, α + (1 − α)·|b̃|, per unit of λ·pfⱼ.
    public static func lambdaMax(_ problem: LogisticProblem, alpha: Double, penaltyFactors: [Double]? = nil,
                                 lowerBounds: [Double]? = nil, upperBounds: [Double]? = nil) -> Double {
        let engine = PenalizedEngine(problem, penaltyFactors: penaltyFactors, lowerBounds: lowerBounds, upperBounds: upperBounds)
        let null = engine.nullFit(options: .init())
        return engine.lambdaMax(gradient: null.point.gradient, beta: null.beta, alpha: alpha)
    }

    /// Fits a sequence of λ with warm starts (each fit starts at the previous solution), so give
    /// `lambdas` in decreasing order. Default: `options.lambdaCount` values log-spaced from λmax
    /// down to `options.lambdaMinRatio`·λmax. Bounds as in `ElasticNetPenalty` hold at every λ; the
    /// path then starts at the constrained null fit and λmax is read there (see `lambdaMax`).
    ///
    /// `stopEarly` (only for a generated grid): glmnet's early exit: after at least 5 λ, stop once the
    /// deviance ratio 1 − D/D_null exceeds 0.999 or rises by less than 1e-5 from one λ to the next (the smaller λ
    /// would only fit noise).
    public static func path(_ problem: LogisticProblem, alpha: Double, lambdas: [Double]? = nil,
                            penaltyFactors: [Double]? = nil, lowerBounds: [Double]? = nil, upperBounds: [Double]? = nil,
                            options: ElasticNetOptions = .init(), stopEarly: Bool = false) -> [PenalizedFit] {
        precondition(alpha >= 0 && alpha <= 1, "alpha must be in [0, 1]")
        let engine = PenalizedEngine(problem, penaltyFactors: penaltyFactors, lowerBounds: lowerBounds, upperBounds: upperBounds)
        let null = engine.nullFit(options: options)
        let top = engine.lambdaMax(gradient: null.point.gradient, beta: null.beta, alpha: alpha)
        let grid: [Double]
        if let lambdas {
            grid = lambdas
        } else {
            let count = max(1, options.lambdaCount)
            grid = (0..<count).map { k in
                count == 1 ? top : top * pow(options.lambdaMinRatio, Double(k) / Double(count - 1))
            }
        }
        var beta = null.beta
        var gradient = null.point.gradient
        var previousLambda = top
        let nullDeviance = 2 * engine.weightSum * null.point.loss
        var everActive = (0..<engine.p).map { beta[$0] != 0 }
        var fits: [PenalizedFit] = []
        fits.reserveCapacity(grid.count)
        for lambda in grid {
            precondition(lambda >= 0 && lambda.isFinite, "lambda must be finite and ≥ 0")
            let weights = engine.penaltyWeights(lambda: lambda, alpha: alpha)
            var working = (0..<engine.p).map { engine.usable[$0] && (weights.l1[$0] == 0 || everActive[$0]) }
            if options.strongRule {
                let cut = 2 * lambda - previousLambda
                for j in 0..<engine.p where engine.usable[j] && abs(gradient[j]) >= alpha * engine.factors[j] * cut {
                    working[j] = true
                }
            }
            let outcome = engine.solve(beta: &beta, weights: weights, working: working, options: options)
            fits.append(engine.result(beta: beta, outcome: outcome, weights: weights, termNames: problem.termNames))
            gradient = outcome.point.gradient
            previousLambda = lambda
            for j in 0..<engine.p where beta[j] != 0 { everActive[j] = true }
            if stopEarly && lambdas == nil && fits.count >= 5 && nullDeviance > 0 {
                let ratio = 1 - fits[fits.count - 1].deviance / nullDeviance
                let before = 1 - fits[fits.count - 2].deviance / nullDeviance
                if ratio > 0.999 || ratio - before < 1e-5 { break }
            }
        }
        return fits
    }
}
