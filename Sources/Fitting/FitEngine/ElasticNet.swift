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

// MARK: - The engine

/// The standardised problem shared by every λ of a path, with scratch space for η, √w and residuals.
final class PenalizedEngine {
    let n: Int
    let p: Int
    /// Standardised design, column-major; column 0 is the intercept, constant columns are zero.
    let x: [Double]
    let y: [Double]
    let rowWeights: [Double]?
    let weightSum: Double
    let scaling: Standardization
    /// Rescaled penalty factor per design column; 0 for the intercept.
    let factors: [Double]
    /// false for constant columns, whose coefficient stays 0 (they cannot move the fit).
    let usable: [Bool]
    /// The box per design column on the standardised scale, lⱼ·sⱼ ≤ β̃ⱼ ≤ uⱼ·sⱼ; −∞/+∞ for free sides,
    /// the intercept and constant columns.
    let lower: [Double]
    let upper: [Double]
    /// The bounds as given (original scale; −∞/+∞ when none), so a slope held at a bound is reported
    /// exactly at it rather than at (uⱼ·sⱼ)/sⱼ.
    let originalLower: [Double]
    let originalUpper: [Double]
    /// Some usable column has a finite bound. When false, no bound is ever consulted.
    let bounded: Bool
    let kernels: DesignKernels
    let eta: UnsafeMutablePointer<Double>
    private let sqrtW: UnsafeMutablePointer<Double>
    private let residual: UnsafeMutablePointer<Double>
    private let direction: UnsafeMutablePointer<Double>

    /// Penalty per design column at one (λ, α): L1 weight λα·pf and ridge weight λ(1−α)·pf.
    struct Weights {
        var lambda: Double
        var alpha: Double
        var l1: [Double]
        var l2: [Double]
    }

    /// Everything one pass over the data gives at a point.
    struct Point {
        /// ∂f/∂β̃ (f = mean loss + ridge part), per design column.
        var gradient: [Double]
        /// (1/N)·Σ vᵢ·[softplus(ηᵢ) − yᵢηᵢ]
        var loss: Double
        var objective: Double
    }

    /// xᵢᵀβ for every row, β on the original scale: (β₀ + Σ βⱼmⱼ) + Σ (βⱼsⱼ)·x̃ᵢⱼ on the standardised design.
    func linearPredictor(originalScale beta: [Double]) -> [Double] {
        var offset = beta[0]
        for j in 1..<max(1, p) { offset += beta[j] * scaling.means[j] }
        var eta = [Double](repeating: offset, count: n)
        x.withUnsafeBufferPointer { xb in
            for j in 1..<max(1, p) where usable[j] && beta[j] != 0 {
                let b = beta[j] * scaling.scales[j], col = xb.baseAddress! + j * n
                for i in 0..<n { eta[i] += b * col[i] }
            }
        }
        return eta
    }

    struct Outcome {
        var point: Point
        var iterations: Int
        var kkt: Double
        var converged: Bool
        /// Design columns at a bound with a positive multiplier.
        var binding: [Int] = []
    }

    convenience init(_ problem: LogisticProblem, penaltyFactors: [Double]?, lowerBounds: [Double]? = nil,
                     upperBounds: [Double]? = nil) {
        // The caller keeps its design: standardise into a new one in one sweep, not copy-then-apply.
        let (design, scaling) = Standardization.standardisedCopy(of: problem.design, weights: problem.weights)
        self.init(standardised: design, scaling: scaling, of: problem, penaltyFactors: penaltyFactors,
                  lowerBounds: lowerBounds, upperBounds: upperBounds)
    }

    /// Takes the problem's design and standardises it in place: no second n×p matrix.
    convenience init(consuming problem: consuming LogisticProblem, penaltyFactors: [Double]?, lowerBounds: [Double]? = nil,
                     upperBounds: [Double]? = nil) {
        var design = Matrix(rows: 0, cols: 0)
        swap(&design, &problem.design)
        let scaling = Standardization.apply(to: &design, weights: problem.weights)
        self.init(standardised: design, scaling: scaling, of: problem, penaltyFactors: penaltyFactors,
                  lowerBounds: lowerBounds, upperBounds: upperBounds)
    }

    /// `problem` supplies the response and weights; its design may already be gone.
    private init(standardised design: Matrix, scaling: Standardization, of problem: borrowing LogisticProblem,
                 penaltyFactors: [Double]?, lowerBounds: [Double]?, upperBounds: [Double]?) {
        n = design.rows
        p = design.cols
        precondition(p >= 1, "the design needs at least the intercept column")
        BLAS.setThreads(1)
        self.scaling = scaling
        x = design.storage
        y = problem.response
        rowWeights = problem.weights
        weightSum = problem.weights?.reduce(0, +) ?? Double(n)
        precondition(weightSum > 0, "the weights sum to zero")

        var f = [Double](repeating: 1, count: p)
        f[0] = 0
        if let given = penaltyFactors {
            precondition(given.count == p - 1, "penaltyFactors needs one factor per non-intercept column (\(p - 1))")
            precondition(given.allSatisfy { $0 >= 0 && $0.isFinite }, "penalty factors must be finite and ≥ 0")
            for j in 1..<p { f[j] = given[j - 1] }
            // glmnet's convention: factors sum to the number of columns. All zero: nothing is penalised.
            let total = given.reduce(0, +)
            if total > 0 { for j in 1..<p { f[j] *= Double(p - 1) / total } }
        }
        factors = f
        let constant = Set(scaling.constantColumns)
        usable = (0..<p).map { !constant.contains($0) }

        let givenLower = lowerBounds ?? [Double](repeating: -.infinity, count: p)
        let givenUpper = upperBounds ?? [Double](repeating: .infinity, count: p)
        precondition(givenLower.count == p, "lowerBounds needs one bound per design column (\(p)), the intercept included")
        precondition(givenUpper.count == p, "upperBounds needs one bound per design column (\(p)), the intercept included")
        precondition(givenLower[0] == -.infinity && givenUpper[0] == .infinity, "the intercept must be free (bounds −∞, +∞)")
        for j in 0..<p {
            let l = givenLower[j], u = givenUpper[j]
            precondition(!l.isNaN && !u.isNaN && l < .infinity && u > -.infinity && l <= u,
                         "bounds of column \(j) must satisfy −∞ ≤ lower ≤ upper ≤ +∞ with lower < +∞ and upper > −∞ (got [\(l), \(u)])")
        }
        var lo = [Double](repeating: -.infinity, count: p), hi = [Double](repeating: .infinity, count: p)
        for j in 1..<max(1, p) where usable[j] {
            // β̃ = β·s with s > 0: a bound scales and keeps its sign (a bound of 0 stays exactly +0).
            let l = givenLower[j] * scaling.scales[j], u = givenUpper[j] * scaling.scales[j]
            precondition(l < .infinity && u > -.infinity, "the bounds of column \(j) overflow on the standardised scale")
            lo[j] = l == 0 ? 0 : l
            hi[j] = u == 0 ? 0 : u
        }
        lower = lo
        upper = hi
        originalLower = givenLower
        originalUpper = givenUpper
        let usableColumns = usable
        bounded = (0..<p).contains { usableColumns[$0] && (lo[$0] > -.infinity || hi[$0] < .infinity) }
        kernels = DesignKernels(rows: n, cols: p)
        eta = .allocate(capacity: max(1, n))
        sqrtW = .allocate(capacity: max(1, n))
        residual = .allocate(capacity: max(1, n))
        direction = .allocate(capacity: max(1, n))
    }

    deinit {
        eta.deallocate(); sqrtW.deallocate(); residual.deallocate(); direction.deallocate()
    }

    /// v clamped into column j's box (standardised scale).
    @inline(__always) func project(_ v: Double, _ j: Int) -> Double { min(max(v, lower[j]), upper[j]) }

    /// β̃ⱼ = v sits at a finite bound of column j (false for every finite v without bounds).
    @inline(__always) func atBound(_ v: Double, _ j: Int) -> Bool { v <= lower[j] || v >= upper[j] }

    func penaltyWeights(lambda: Double, alpha: Double) -> Weights {
        Weights(lambda: lambda, alpha: alpha,
                l1: factors.map { lambda * alpha * $0 }, l2: factors.map { lambda * (1 - alpha) * $0 })
    }

    func penalty(_ beta: [Double], _ w: Weights) -> Double {
        var s = 0.0
        for j in 0..<p where beta[j] != 0 { s += w.l2[j] / 2 * beta[j] * beta[j] + w.l1[j] * abs(beta[j]) }
        return s
    }

    /// Original-scale coefficients → standardised: β̃ⱼ = βⱼ·sⱼ, β̃₀ = β₀ + Σ mⱼβⱼ.
    func standardised(_ original: [Double]) -> [Double] {
        precondition(original.count == p, "warm start needs one coefficient per design column (\(p))")
        var beta = [Double](repeating: 0, count: p)
        beta[0] = original[0]
        for j in 1..<p where usable[j] {
            beta[j] = original[j] * scaling.scales[j]
            beta[0] += scaling.means[j] * original[j]
        }
        return beta
    }

    // MARK: Passes over the data

    /// η = X̃β, then μ, √w, the gradient of f and the objective: two passes over the design.
    func evaluate(_ beta: [Double], _ w: Weights) -> Point {
        x.withUnsafeBufferPointer { kernels.multiply($0.baseAddress!, beta, into: eta) }
        return pointAtCurrentEta(beta, w)
    }

    private func pointAtCurrentEta(_ beta: [Double], _ w: Weights) -> Point {
        let deviance = y.withUnsafeBufferPointer { yb in
            withOptionalPointer(rowWeights) { v -> Double in
                LogisticLoss.weightsAndResiduals(eta: eta, y: yb.baseAddress!, weights: v, rows: n,
                                                 sqrtW: sqrtW, residual: residual)
                return LogisticLoss.deviance(eta: eta, y: yb.baseAddress!, weights: v, rows: n)
            }
        }
        // residual = v(y − μ), so ∂L/∂β̃ = −X̃ᵀresidual / N.
        let xtr = x.withUnsafeBufferPointer { kernels.multiplyTransposed($0.baseAddress!, residual) }
        var gradient = [Double](repeating: 0, count: p)
        for j in 0..<p where usable[j] { gradient[j] = -xtr[j] / weightSum + w.l2[j] * beta[j] }
        let loss = deviance / (2 * weightSum)
        return Point(gradient: gradient, loss: loss, objective: loss + penalty(beta, w))
    }

    /// F(β + t·d) given u = X̃d in `direction`, without materialising the trial η.
    private func trialObjective(_ beta: [Double], _ d: [Double], step t: Double, _ w: Weights) -> Double {
        let deviance = y.withUnsafeBufferPointer { yb in
            withOptionalPointer(rowWeights) { v in
                LogisticLoss.deviance(eta: eta, direction: direction, step: t, y: yb.baseAddress!, weights: v, rows: n)
            }
        }
        var trial = beta
        for j in 0..<p { trial[j] += t * d[j] }
        return deviance / (2 * weightSum) + penalty(trial, w)
    }

    /// (1/N)·X̃_Sᵀ W X̃_S + diag(λ(1−α)·pf) over the columns S, with W from the last evaluation:
    /// rows gathered in L2-sized blocks scaled by √w, then `dsyrk`; one accumulator per core.
    func hessian(_ columns: [Int], _ w: Weights) -> SymmetricMatrix {
        let k = columns.count
        var h = SymmetricMatrix(order: k)
        guard k > 0 else { return h }
        let blockRows = max(256, min(8192, 262_144 / k))
        let ranges = Parallel.chunks(n, minimumChunk: 16_384)
        var partial = [Double](repeating: 0, count: k * k * ranges.count)
        let n = self.n, sw = sqrtW
        x.withUnsafeBufferPointer { xb in
            partial.withUnsafeMutableBufferPointer { pb in
                let xp = xb.baseAddress!, accumulators = pb.baseAddress!
                Parallel.forEach(ranges) { t, r in
                    let block = UnsafeMutablePointer<Double>.allocate(capacity: blockRows * k)
                    defer { block.deallocate() }
                    var start = r.lowerBound
                    while start < r.upperBound {
                        let m = min(blockRows, r.upperBound - start)
                        for (c, j) in columns.enumerated() {
                            let src = xp + j * n + start, dst = block + c * m, s = sw + start
                            for i in 0..<m { dst[i] = src[i] * s[i] }
                        }
                        BLAS.syrkAccumulate(block, rows: m, cols: k, ldb: m, into: accumulators + t * k * k)
                        start += m
                    }
                }
            }
        }
        let inverseN = 1 / weightSum
        for t in 0..<ranges.count { for idx in 0..<(k * k) { h.storage[idx] += partial[t * k * k + idx] } }
        for idx in 0..<(k * k) { h.storage[idx] *= inverseN }
        h.symmetrizeFromLower()
        for (c, j) in columns.enumerated() { h[c, c] += w.l2[j] }
        return h
    }

    /// Fills `direction` with X̃d.
    private func setDirection(_ d: [Double]) {
        x.withUnsafeBufferPointer { kernels.multiply($0.baseAddress!, d, into: direction) }
    }

    // MARK: Solver

    /// The fit with only the intercept and the unpenalised terms: where every path starts, and
    /// where λmax is read. With bounds, penalised slopes sit at the point of their box nearest 0 (where
    /// they go as λ → ∞) and the unpenalised terms are fitted within their boxes.
    func nullFit(options: ElasticNetOptions) -> (beta: [Double], point: Point) {
        var beta = interceptOnlyStart()
        if bounded { for j in 1..<p where usable[j] { beta[j] = project(0, j) } }
        let free = (0..<p).map { usable[$0] && factors[$0] == 0 }
        let weights = penaltyWeights(lambda: 0, alpha: 1)
        var polished = polish(beta: &beta, allowed: free, weights: weights, options: options)
        // The polish re-examines held terms at every step; another pass only picks up one it held
        // because its Newton step pointed outward until the others settled.
        if bounded {
            for _ in 1..<max(1, options.maxRounds) {
                let settled = (0..<p).allSatisfy { j in
                    !free[j] || !(Self.violation(gradient: polished.point.gradient[j], at: beta[j], l1: 0,
                                                 lower: lower[j], upper: upper[j]) > options.kktTolerance)
                }
                if settled { break }
                polished = polish(beta: &beta, allowed: free, weights: weights, options: options)
            }
        }
        return (beta, polished.point)
    }

    /// logit(ȳ) and zero slopes: the null fit when every slope is penalised and free.
    func interceptOnlyStart() -> [Double] {
        let events = rowWeights.map { v in zip(v, y).reduce(0.0) { $0 + $1.0 * $1.1 } } ?? y.reduce(0, +)
        let mean = min(max(events / weightSum, 1e-12), 1 - 1e-12)
        var beta = [Double](repeating: 0, count: p)
        beta[0] = log(mean / (1 - mean))
        return beta
    }

    /// λmax from the loss gradient and β̃ at the null fit (see `ElasticNet.lambdaMax`).
    func lambdaMax(gradient: [Double], beta: [Double], alpha: Double) -> Double {
        let a = max(alpha, 1e-3)
        var top = 0.0
        for j in 1..<max(1, p) where usable[j] && factors[j] > 0 {
            guard bounded else { top = max(top, abs(gradient[j]) / (a * factors[j])); continue }
            // How fast the loss falls moving the slope the way its box allows, against how fast the
            // penalty rises that way per unit of λ (α·pf at 0; α·pf + (1 − α)·pf·|b̃| at a bound b̃ ≠ 0).
            let g = gradient[j], b = beta[j]
            var pull = 0.0
            if b < upper[j] { pull = max(pull, -g) }
            if b > lower[j] { pull = max(pull, g) }
            let resistance = b == 0 ? a * factors[j] : factors[j] * (a + (1 - a) * abs(b))
            top = max(top, pull / resistance)
        }
        return top
    }

    /// Rounds of coordinate descent, Newton polish and a KKT check, from `beta` (standardised scale).
    /// `working`: the terms coordinate descent may move at first; it grows with KKT violators.
    func solve(beta: inout [Double], weights w: Weights, working initial: [Bool], options: ElasticNetOptions) -> Outcome {
        var working = initial
        let hasL1 = (0..<p).contains { usable[$0] && w.l1[$0] > 0 }
        var iterations = 0
        var rounds = 0
        var point: Point
        var violated: Bool
        // Stopping rule: a round ends with no inactive term outside its subgradient bound (beyond the
        // tolerance), or `maxRounds` rounds have run.
        // Bounds: coordinate descent also runs for ridge, since it is what moves a term off a bound.
        repeat {
            rounds += 1
            if hasL1 || bounded { iterations += coordinatePhase(beta: &beta, working: &working, weights: w, options: options) }
            let polished = polish(beta: &beta, allowed: usable, weights: w, options: options)
            iterations += polished.iterations
            point = polished.point
            violated = false
            for j in 0..<p where usable[j] {
                let g = point.gradient[j]
                let outside: Bool
                if bounded && atBound(beta[j], j) {
                    outside = Self.violation(gradient: g, at: beta[j], l1: w.l1[j], lower: lower[j], upper: upper[j]) > options.kktTolerance
                } else {
                    outside = beta[j] == 0 && w.l1[j] > 0 && abs(g) - w.l1[j] > options.kktTolerance
                }
                if outside {
                    working[j] = true
                    violated = true
                }
            }
        } while violated && rounds < options.maxRounds
        let kkt = kktResidual(point.gradient, beta, w)
        let binding = !bounded ? [] : (0..<p).filter { j in
            usable[j] && atBound(beta[j], j)
                && Self.boundMultiplier(gradient: point.gradient[j], at: beta[j], l1: w.l1[j],
                                        lower: lower[j], upper: upper[j]) > options.bindingTolerance
        }
        return Outcome(point: point, iterations: iterations, kkt: kkt, converged: kkt <= options.kktTolerance, binding: binding)
    }

    func kktResidual(_ gradient: [Double], _ beta: [Double], _ w: Weights) -> Double {
        var worst = 0.0
        for j in 0..<p where usable[j] {
            let r = Self.violation(gradient: gradient[j], at: beta[j], l1: w.l1[j], lower: lower[j], upper: upper[j])
            worst = max(worst, r.isNaN ? .infinity : r)
        }
        return worst
    }

    /// One term's KKT residual for F = f + l1·|b| on the box [lo, hi], from g = ∂f/∂b.
    /// Inside the box: |g| (l1 = 0), max(0, |g| − l1) at b = 0, |g + l1·sign(b)| otherwise.
    /// At a bound only the directions the box allows count: the residual is how fast F falls along
    /// the better of them, 0 if neither lowers F. F's one-sided slopes at b are g + l1 (b ≥ 0) or
    /// g − l1 (b < 0) moving up, and −g − l1 (b > 0) or −g + l1 (b ≤ 0) moving down. So at an upper
    /// bound u the residual is max(0, g + l1) for u > 0 and max(0, g − l1) for u ≤ 0 (at u = 0 the
    /// term may go negative only if g exceeds the L1 threshold); at a lower bound l it is
    /// max(0, −g − l1) for l ≥ 0 and max(0, l1 − g) for l < 0. NaN when g is.
    static func violation(gradient g: Double, at b: Double, l1: Double, lower lo: Double, upper hi: Double) -> Double {
        let atLower = b <= lo, atUpper = b >= hi
        if !atLower && !atUpper {
            if l1 == 0 { return abs(g) }
            if b == 0 { return max(0, abs(g) - l1) }
            return abs(g + (b > 0 ? l1 : -l1))
        }
        if g.isNaN { return .nan }
        var worst = 0.0
        if !atUpper { worst = max(worst, -(g + (b < 0 ? -l1 : l1))) }   // −(slope moving up)
        if !atLower { worst = max(worst, g + (b > 0 ? l1 : -l1)) }      // −(slope moving down)
        return worst
    }

    /// The multiplier of the bound a term sits at: how fast F would fall moving it past the bound
    /// (0 when the fit does not push against it, e.g. a term at a bound of 0 that the L1 penalty
    /// alone holds there: |g| ≤ l1).
    static func boundMultiplier(gradient g: Double, at b: Double, l1: Double, lower lo: Double, upper hi: Double) -> Double {
        var m = 0.0
        if b >= hi { m = max(m, -(g + (b < 0 ? -l1 : l1))) }
        if b <= lo { m = max(m, g + (b > 0 ? l1 : -l1)) }
        return m
    }

    /// Proximal Newton, glmnet's IRLS: at β, minimise the quadratic model of the smooth part plus the
    /// exact L1 term by coordinate descent over the working set, then backtrack along the step until
    /// F falls (Armijo). Returns the iterations taken.
    private func coordinatePhase(beta: inout [Double], working: inout [Bool], weights w: Weights,
                                 options: ElasticNetOptions) -> Int {
        var iterations = 0
        // Stopping rules (besides `maxOuterIterations`): β already meets the KKT conditions, the model
        // predicts no decrease, the line search cannot find one, or the predicted decrease is below
        // outerTolerance·(|F| + 1).
        while iterations < options.maxOuterIterations {
            let point = evaluate(beta, w)
            if kktResidual(point.gradient, beta, w) <= options.kktTolerance { break }
            iterations += 1
            let scale = abs(point.objective) + 1
            // Any term outside its subgradient bound here joins the working set (with bounds: any term
            // that could lower F moving the way its box allows).
            for j in 0..<p where usable[j] && !working[j] {
                let outside = bounded
                    ? Self.violation(gradient: point.gradient[j], at: beta[j], l1: w.l1[j], lower: lower[j], upper: upper[j]) > options.kktTolerance
                    : abs(point.gradient[j]) - w.l1[j] > options.kktTolerance
                if outside { working[j] = true }
            }
            let set = (0..<p).filter { working[$0] && usable[$0] }
            let h = hessian(set, w)
            let g = set.map { point.gradient[$0] }, b = set.map { beta[$0] }, l1 = set.map { w.l1[$0] }
            let box = bounded ? Box(lower: set.map { lower[$0] }, upper: set.map { upper[$0] }) : nil
            let z = Self.minimiseModel(h: h, gradient: g, start: b, l1: l1, box: box,
                                       tolerance: options.coordinateTolerance * scale, maxSweeps: options.maxSweeps,
                                       kktTolerance: options.kktTolerance)
            var d = [Double](repeating: 0, count: p)
            // Δ = gᵀd + Σ l1(|z| − |b|) bounds the slope of F along d from above (it is ≤ −dᵀHd < 0).
            var predicted = 0.0
            for (a, j) in set.enumerated() {
                d[j] = z[a] - b[a]
                predicted += g[a] * d[j] + l1[a] * (abs(z[a]) - abs(b[a]))
            }
            guard predicted < 0 else { break }
            setDirection(d)
            let slack = 64 * Double.ulpOfOne * scale
            var t = 1.0, accepted = false
            // Armijo: the first t = 1, ½, ¼, … with a sufficient decrease (slack for rounding near the
            // optimum); 30 halvings without one end the phase.
            for _ in 0...30 {
                if trialObjective(beta, d, step: t, w) <= point.objective + 1e-4 * t * predicted + slack { accepted = true; break }
                t /= 2
            }
            guard accepted else { break }
            // A full step lands exactly on the model's minimiser, zeros (and bounds) included; a partial
            // one stays in the box (convex), up to rounding, which the projection removes.
            for (a, j) in set.enumerated() { beta[j] = t == 1 ? z[a] : beta[j] + t * d[j] }
            if bounded && t != 1 { for j in set { beta[j] = project(beta[j], j) } }
            if -predicted <= options.outerTolerance * scale { break }
        }
        return iterations
    }

    /// Box constraints on the working-set coordinates of a quadratic model (standardised scale).
    struct Box {
        var lower: [Double]
        var upper: [Double]
        func project(_ v: Double, _ i: Int) -> Double { min(max(v, lower[i]), upper[i]) }
        func atBound(_ v: Double, _ i: Int) -> Bool { v <= lower[i] || v >= upper[i] }
    }

    /// Minimises the penalised quadratic model of F at b (arrays indexed by working-set position)
    ///   q(z) = gᵀ(z − b) + ½(z − b)ᵀH(z − b) + Σⱼ l1ⱼ·|zⱼ|,   within `box` when given (b is in it).
    /// Coordinate descent finds the model's support; on it `finish` solves the model exactly. If
    /// the support was wrong the finish improves z and coordinate descent resumes from there.
    static func minimiseModel(h: SymmetricMatrix, gradient g: [Double], start b: [Double], l1: [Double], box: Box? = nil,
                              tolerance: Double, maxSweeps: Int, kktTolerance: Double) -> [Double] {
        var z = b
        // Stopping rule: an exact finish, or coordinate descent that could not be finished,
        // or `maxFinishes` attempts (each one changes the support).
        let maxFinishes = 10
        for _ in 0..<maxFinishes {
            z = coordinateDescent(h: h, gradient: g, start: b, from: z, l1: l1, box: box, tolerance: tolerance, maxSweeps: maxSweeps)
            switch finish(h: h, gradient: g, start: b, l1: l1, box: box, approximate: z, tolerance: kktTolerance) {
            case .exact(let exact): return exact
            case .improved(let better): z = better
            case .failed: return z
            }
        }
        return z
    }

    /// Cyclic coordinate descent on q from z. Covariance updates: the model gradient
    /// G = g + H(z − b) is kept current, so a coordinate costs O(k), not a pass over the rows.
    /// A coordinate's exact minimiser is the soft-thresholded Newton point; with a box, that point
    /// clamped into [lⱼ, uⱼ] (q restricted to the coordinate is a convex parabola plus l1ⱼ·|zⱼ|, so
    /// the constrained minimiser is the nearest feasible point to the unconstrained one).
    static func coordinateDescent(h: SymmetricMatrix, gradient g: [Double], start b: [Double], from z0: [Double],
                                  l1: [Double], box: Box? = nil, tolerance: Double, maxSweeps: Int) -> [Double] {
        let k = g.count
        var z = z0
        var G = g
        var sweeps = 0
        let boxed = box != nil
        let lo = box?.lower ?? [], hi = box?.upper ?? []
        h.storage.withUnsafeBufferPointer { hb in
            let H = hb.baseAddress!
            z.withUnsafeMutableBufferPointer { zb in
                G.withUnsafeMutableBufferPointer { Gb in
                    /// One sweep; returns the largest Hⱼⱼ·Δzⱼ² (what a move changed the model by, to first order).
                    func sweep(nonzeroOnly: Bool) -> Double {
                        var largest = 0.0
                        for j in 0..<k {
                            if nonzeroOnly && zb[j] == 0 && l1[j] > 0 { continue }
                            let hjj = H[j * k + j]
                            guard hjj > 0 else { continue }
                            let a = hjj * zb[j] - Gb[j]
                            var zNew = (a > l1[j] ? a - l1[j] : a < -l1[j] ? a + l1[j] : 0) / hjj
                            if boxed { zNew = min(max(zNew, lo[j]), hi[j]) }
                            let delta = zNew - zb[j]
                            if delta == 0 { continue }
                            zb[j] = zNew
                            let column = H + j * k
                            for i in 0..<k { Gb[i] += delta * column[i] }
                            largest = max(largest, hjj * delta * delta)
                        }
                        return largest
                    }
                    // Stopping rule: a full sweep in which no move changed the model by more than
                    // `tolerance`, or `maxSweeps` sweeps. Between full sweeps, cycle over the nonzero
                    // coordinates alone until they settle by the same rule: the support rarely changes.
                    while sweeps < maxSweeps {
                        // Refresh G from scratch so rounding from many rank-one updates does not build up.
                        for i in 0..<k {
                            var s = g[i]
                            for j in 0..<k where zb[j] != b[j] { s += H[j * k + i] * (zb[j] - b[j]) }
                            Gb[i] = s
                        }
                        sweeps += 1
                        if sweep(nonzeroOnly: false) <= tolerance { break }
                        while sweeps < maxSweeps {
                            sweeps += 1
                            if sweep(nonzeroOnly: true) <= tolerance { break }
                        }
                    }
                }
            }
        }
        return z
    }

    enum Finish {
        /// The model's exact minimiser.
        case exact([Double])
        /// A better point on a smaller support; coordinate descent should go on from it.
        case improved([Double])
        case failed
    }

    /// Coordinate descent crawls along nearly collinear directions, but it finds the model's support
    /// long before its values. With the support A and the signs s fixed, q is a plain quadratic,
    /// minimised by one Cholesky solve: H_AA·z_A = (H b)_A − g_A − l1_A∘s_A. Walking from z towards
    /// that point lowers q (it is convex and equals the sign-fixed quadratic inside the orthant);
    /// if a penalised coordinate would change sign, stop where it reaches zero, drop it, and solve
    /// again (each pass drops at least one term). Exact when no sign changes and every term outside
    /// A is inside its subgradient bound (within `tolerance`).
    ///
    /// With a box, a term at a bound is held there like a zero (it leaves A, and a held value F ≠ 0
    /// enters the solve as −H_AF·z_F), and the walk also stops where a term reaches its bound, which
    /// then holds it. The exactness test asks of a held term only whether q falls moving it inward.
    static func finish(h: SymmetricMatrix, gradient g: [Double], start b: [Double], l1: [Double], box: Box? = nil,
                       approximate: [Double], tolerance: Double) -> Finish {
        let k = g.count
        var z = approximate
        var hb = [Double](repeating: 0, count: k)
        for i in 0..<k { for j in 0..<k where b[j] != 0 { hb[i] += h[i, j] * b[j] } }
        /// The model's KKT test on the terms outside the support (z is the candidate).
        func exactOutside(_ inSupport: [Bool]) -> Bool {
            for j in 0..<k where !inSupport[j] {
                var modelGradient = g[j]
                for i in 0..<k where z[i] != b[i] { modelGradient += h[j, i] * (z[i] - b[i]) }
                let r = box.map { Self.violation(gradient: modelGradient, at: z[j], l1: l1[j], lower: $0.lower[j], upper: $0.upper[j]) }
                    ?? (abs(modelGradient) - l1[j])
                if r > tolerance { return false }
            }
            return true
        }
        // Stopping rule: no sign change (then exact, or handed back to coordinate descent), or a failed
        // factorisation; every other pass drops a term from the support, so there are at most k + 1.
        for _ in 0...k {
            let support = (0..<k).filter { (z[$0] != 0 || l1[$0] == 0) && !(box?.atBound(z[$0], $0) ?? false) }
            guard !support.isEmpty else {
                guard box != nil else { return .improved(z) }
                return exactOutside([Bool](repeating: false, count: k)) ? .exact(z) : .improved(z)
            }
            var factor = h.submatrix(support)
            guard LAPACK.potrf(&factor) == 0 else { return .failed }
            var target = support.map { i in hb[i] - g[i] - (l1[i] == 0 ? 0 : z[i] > 0 ? l1[i] : -l1[i]) }
            var inSupport = [Bool](repeating: false, count: k)
            for i in support { inSupport[i] = true }
            if box != nil {
                // Terms held at a nonzero bound.
                for (a, i) in support.enumerated() {
                    for j in 0..<k where !inSupport[j] && z[j] != 0 { target[a] -= h[i, j] * z[j] }
                }
            }
            LAPACK.potrs(factor, &target)
            guard target.allSatisfy({ $0.isFinite }) else { return .failed }
            // The first penalised coordinate to reach zero (or, with a box, any coordinate to reach its
            // bound) on the way from z to the target, with the value it stops at.
            var reach = 1.0
            var blocking: [(term: Int, value: Double)] = []
            for (a, i) in support.enumerated() where l1[i] > 0 && (target[a] > 0) != (z[i] > 0) {
                let t = z[i] / (z[i] - target[a])
                if t < reach { reach = t; blocking = [(i, 0)] } else if t == reach { blocking.append((i, 0)) }
            }
            if let box {
                for (a, i) in support.enumerated() where target[a] > box.upper[i] || target[a] < box.lower[i] {
                    let bound = target[a] > box.upper[i] ? box.upper[i] : box.lower[i]
                    let t = (bound - z[i]) / (target[a] - z[i])
                    if t < reach { reach = t; blocking = [(i, bound)] } else if t == reach { blocking.append((i, bound)) }
                }
            }
            if blocking.isEmpty {
                for (a, i) in support.enumerated() { z[i] = target[a] }
                if box != nil { return exactOutside(inSupport) ? .exact(z) : .improved(z) }
                for j in 0..<k where z[j] == 0 && l1[j] > 0 {
                    var modelGradient = g[j]
                    for i in 0..<k where z[i] != b[i] { modelGradient += h[j, i] * (z[i] - b[i]) }
                    if abs(modelGradient) - l1[j] > tolerance { return .improved(z) }
                }
                return .exact(z)
            }
            for (a, i) in support.enumerated() { z[i] += reach * (target[a] - z[i]) }
            if let box { for i in support { z[i] = box.project(z[i], i) } }
            for (i, value) in blocking { z[i] = value }
        }
        return .improved(z)
    }

    /// Newton's method on the smooth problem left when the active set and the signs of its slopes
    /// are fixed: minimise f(β_A) + Σ_A λα·pfⱼ·sign(βⱼ)·βⱼ, with a Cholesky solve of the Hessian on A.
    /// A = the `allowed` terms that are unpenalised by L1 or nonzero. A step that would flip the sign
    /// of an active slope is cut where it reaches zero and that slope leaves A: the sign-fixed
    /// objective equals F only inside the orthant.
    ///
    /// With bounds, a term at a bound is held there (left out of A) unless F falls as it moves inward;
    /// one let in whose Newton step still points outward is held too and the step re-solved (as in
    /// the unpenalised active-set Newton). A step is cut where a term reaches its bound, which then
    /// holds it, so every iterate stays in the box.
    func polish(beta: inout [Double], allowed: [Bool], weights w: Weights,
                options: ElasticNetOptions) -> (iterations: Int, point: Point) {
        var iterations = 0
        var point = evaluate(beta, w)
        var previousResidual = Double.infinity
        var unguarded = false
        while true {
            var active = (0..<p).filter { allowed[$0] && (w.l1[$0] == 0 || beta[$0] != 0) }
            var r = active.map { j in point.gradient[j] + (w.l1[j] == 0 ? 0 : beta[j] > 0 ? w.l1[j] : -w.l1[j]) }
            if bounded {
                // rₐ is F's slope along +eⱼ (inside the orthant): at an upper bound F falls inward iff r > 0,
                // at a lower bound iff r < 0.
                let keep = active.indices.filter { a in
                    let j = active[a]
                    return !(beta[j] >= upper[j] && !(r[a] > 0)) && !(beta[j] <= lower[j] && !(r[a] < 0))
                }
                if keep.count < active.count {
                    active = keep.map { active[$0] }
                    r = keep.map { r[$0] }
                }
            }
            let residual = r.reduce(0.0) { max($0, abs($1)) }
            // Stopping rules: (1) the KKT residual on A is below `polishTolerance`; (2) a full Newton
            // step taken inside the rounding region of F did not halve it: the floating-point floor;
            // (3) `maxPolishIterations`.
            if residual <= options.polishTolerance || !residual.isFinite { break }
            if unguarded && residual > previousResidual / 2 { break }
            if iterations >= options.maxPolishIterations { break }
            iterations += 1
            let h = hessian(active, w)
            guard let solution = NewtonStep.solve(h, r) else { break }
            var delta = solution.step.map { -$0 }
            if bounded {
                // A term let off its bound whose step points outward is held, and the step re-solved
                // without it. rᵀδ < 0 for any positive definite solve, so some term always stays.
                var free = Array(active.indices)
                var solved = true
                for _ in 0..<active.count {
                    let outward = Set(free.indices.filter { c in
                        let j = active[free[c]]
                        return (beta[j] >= upper[j] && delta[c] > 0) || (beta[j] <= lower[j] && delta[c] < 0)
                    })
                    if outward.isEmpty { break }
                    free = free.indices.filter { !outward.contains($0) }.map { free[$0] }
                    guard !free.isEmpty, let again = NewtonStep.solve(h.submatrix(free), free.map { r[$0] }) else { solved = false; break }
                    delta = again.step.map { -$0 }
                }
                guard solved else { break }
                if free.count < active.count {
                    active = free.map { active[$0] }
                    r = free.map { r[$0] }
                }
            }
            var decrement = 0.0
            for a in 0..<active.count { decrement -= r[a] * delta[a] }
            // Orthant cap: the first active slope to reach zero along δ blocks the step there (with
            // bounds, so does the first term to reach its bound, at the bound).
            var tMax = 1.0
            var blocking: [(term: Int, value: Double)] = []
            for (a, j) in active.enumerated() where w.l1[j] > 0 && beta[j] * delta[a] < 0 {
                let reach = -beta[j] / delta[a]
                if reach < tMax { tMax = reach; blocking = [(j, 0)] } else if reach == tMax && tMax < 1 { blocking.append((j, 0)) }
            }
            if bounded {
                for (a, j) in active.enumerated() where delta[a] != 0 {
                    let bound = delta[a] > 0 ? upper[j] : lower[j]
                    guard bound.isFinite else { continue }
                    let reach = (bound - beta[j]) / delta[a]
                    if reach < tMax { tMax = reach; blocking = [(j, bound)] } else if reach == tMax && tMax < 1 { blocking.append((j, bound)) }
                }
            }
            var d = [Double](repeating: 0, count: p)
            for (a, j) in active.enumerated() { d[j] = delta[a] }
            let scale = abs(point.objective) + 1
            var t = tMax
            // Within a thousand roundings of F the Armijo test only sees noise, and Newton is in its
            // quadratic region: take the step as it is and let rule (2) judge it.
            let inRoundingRegion = decrement / 2 <= 1e3 * Double.ulpOfOne * scale
            unguarded = inRoundingRegion && tMax == 1
            if !inRoundingRegion {
                setDirection(d)
                let slack = 64 * Double.ulpOfOne * scale
                var accepted = false
                // Armijo from the orthant cap down, as in the coordinate phase; 30 halvings without a
                // decrease end the polish.
                for _ in 0...30 {
                    if trialObjective(beta, d, step: t, w) <= point.objective - 1e-4 * t * decrement + slack { accepted = true; break }
                    t /= 2
                }
                guard accepted else { break }
            }
            previousResidual = residual
            for (a, j) in active.enumerated() {
                let moved = beta[j] + t * delta[a]
                // A penalised slope that reached (or, by rounding, crossed) zero leaves A at exactly 0.
                beta[j] = w.l1[j] > 0 && (moved > 0) != (beta[j] > 0) ? 0 : moved
                if bounded { beta[j] = project(beta[j], j) }
            }
            if t == tMax && tMax < 1 { for (j, value) in blocking { beta[j] = value } }
            point = evaluate(beta, w)
        }
        return (iterations, point)
    }

    func result(beta: [Double], outcome: Outcome, weights w: Weights, termNames: [String]) -> PenalizedFit {
        var original = scaling.toOriginalScale(beta: beta, covariance: nil, active: Array(0..<p)).beta
        for j in 1..<max(1, p) {
            if usable[j] {
                // A slope held at a bound is reported exactly at it, not at (uⱼ·sⱼ)/sⱼ.
                guard bounded else { continue }
                if beta[j] <= lower[j] { original[j] = originalLower[j] } else if beta[j] >= upper[j] { original[j] = originalUpper[j] }
            } else {
                // A constant column cannot move the fit; if its box excludes 0 it sits at the bound
                // nearest 0 and the intercept absorbs its constant value times that.
                let v = min(max(0, originalLower[j]), originalUpper[j])
                if v != 0 { original[j] = v; original[0] -= scaling.means[j] * v }
            }
        }
        return PenalizedFit(termNames: termNames, coefficients: original, alpha: w.alpha, lambda: w.lambda,
                            objective: outcome.point.objective, iterations: outcome.iterations,
                            converged: outcome.converged, kktViolation: outcome.kkt,
                            deviance: 2 * weightSum * outcome.point.loss,
                            nonZero: (1..<max(1, p)).filter { beta[$0] != 0 }.count,
                            bindingTerms: outcome.binding)
    }
}
