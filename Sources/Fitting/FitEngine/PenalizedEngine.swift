import Foundation

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
    let sqrtW: UnsafeMutablePointer<Double>
    let residual: UnsafeMutablePointer<Double>
    let direction: UnsafeMutablePointer<Double>

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

    func pointAtCurrentEta(_ beta: [Double], _ w: Weights) -> Point {
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
    func trialObjective(_ beta: [Double], _ d: [Double], step t: Double, _ w: Weights) -> Double {
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
    func setDirection(_ d: [Double]) {
        x.withUnsafeBufferPointer { kernels.multiply($0.baseAddress!, d, into: direction) }
    }
}
