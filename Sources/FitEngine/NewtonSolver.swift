import Foundation

/// Maximum-likelihood logistic regression by Newton's method (IRLS) with a backtracking line search.
///
/// Each iteration reads as its own table of contents:
/// 1. μ, √w and residuals from η;  2. gradient g = Xᵀ(y − μ) and information H = XᵀWX (`dsyrk` over
/// row blocks);  3. Cholesky solve H δ = g;  4. stop on the Newton decrement;  5. halve the step
/// until the deviance falls (Armijo).  Everything runs on internally standardised columns
/// (κ of mlc_churn's design drops from ~1e11 to ~6,600), then maps back to the original scale.
public enum LogisticRegression {
    public static func fit(_ problem: consuming LogisticProblem, options: FitOptions = FitOptions()) -> LogisticFit {
        // Take the design out of the problem so standardising it in place does not copy it.
        var design = Matrix(rows: 0, cols: 0)
        swap(&design, &problem.design)
        let y = problem.response
        let weights = problem.weights
        let termNames = problem.termNames
        let n = design.rows
        let p = design.cols
        precondition(p >= 1, "the design needs at least the intercept column")

        BLAS.setThreads(1)
        let scaling = Standardization.apply(to: &design, weights: weights)
        let weightSum = weights?.reduce(0, +) ?? Double(n)
        let events = weights.map { w in zip(w, y).reduce(0.0) { $0 + $1.0 * $1.1 } } ?? y.reduce(0, +)
        let yBar = events / weightSum
        // Start at the intercept-only optimum: with centred columns the other slopes are zero there.
        let startEta = log(yBar / (1 - yBar))
        var state = SolverState(rows: n, cols: p)
        state.eta = [Double](repeating: startEta, count: n)
        let nullDeviance = deviance(state.eta, y, weights)
        state.deviance = nullDeviance

        // At the start every weight is v·ȳ(1 − ȳ), so the first information matrix is a multiple of
        // XᵀVX: rank detection reads it, and the first Newton iteration reuses it.
        var firstInformation: SymmetricMatrix? = nil
        var allGradient: [Double] = []
        design.storage.withUnsafeBufferPointer { xb in
            let (g, h) = state.derivatives(x: xb.baseAddress!, y: y, weights: weights,
                                           kernels: DesignKernels(rows: n, cols: p))
            allGradient = g
            firstInformation = h
        }
        var aliased = scaling.constantColumns
        let candidate = (0..<p).filter { !aliased.contains($0) }
        let rankCheck = RankDetection.detect(gram: firstInformation!, columns: candidate, tolerance: options.aliasTolerance)
        aliased.append(contentsOf: rankCheck.aliased)
        aliased.sort()
        let active = rankCheck.kept
        compact(&design, keeping: active)
        let k = active.count
        let kernels = DesignKernels(rows: n, cols: k)
        state.beta = [Double](repeating: 0, count: k)
        state.beta[0] = startEta
        var pending: (gradient: [Double], information: SymmetricMatrix)? =
            (active.map { allGradient[$0] }, firstInformation!.submatrix(active))
        // The first information is a multiple of the weighted Gram matrix of the centred columns:
        // scaled to unit diagonal it is their correlation matrix, whose inverse diagonal is the VIF.
        let inflation = VarianceInflation.compute(gram: firstInformation!, columns: Array(active.dropFirst()))
        firstInformation = nil
        // Bounds on the standardised scale: β̃ = β·s for slopes, so a bound scales and keeps its sign.
        var lower = [Double](repeating: -.infinity, count: k), upper = [Double](repeating: .infinity, count: k)
        for (a, j) in active.enumerated() where j != 0 {
            if let l = options.lowerBounds?[j] { lower[a] = l * scaling.scales[j] }
            if let u = options.upperBounds?[j] { upper[a] = u * scaling.scales[j] }
        }
        let bounded = lower.contains { $0 > -.infinity } || upper.contains { $0 < .infinity }
        if bounded {
            for a in 0..<k { state.beta[a] = min(max(state.beta[a], lower[a]), upper[a]) }
            if state.beta.dropFirst().contains(where: { $0 != 0 }) {
                pending = nil
                design.storage.withUnsafeBufferPointer { xb in
                    state.eta.withUnsafeMutableBufferPointer { kernels.multiply(xb.baseAddress!, state.beta, into: $0.baseAddress!) }
                }
                state.deviance = deviance(state.eta, y, weights)
            }
        }
        var fixed = [Bool](repeating: false, count: k)

        var history: [IterationRecord] = []
        var converged = false
        var lastDecrement = Double.infinity
        var ridgeUsed = 0.0
        var iterations = 0
        var information: SymmetricMatrix? = nil

        design.storage.withUnsafeBufferPointer { xb in
            let x = xb.baseAddress!
            for iteration in 1...max(1, options.maxIterations) {
                let started = DispatchTime.now().uptimeNanoseconds
                iterations = iteration
                // 1–2. Gradient and information at the current η (Firth: the modified score and the
                //      penalised objective deviance/2 − ½·log|I|).
                let (plainGradient, info) = pending ?? state.derivatives(x: x, y: y, weights: weights, kernels: kernels)
                pending = nil
                information = info
                var gradient = plainGradient
                var objective = state.deviance / 2
                if options.firth {
                    guard let (halfLogDet, factor) = FirthAdjustment.halfLogDet(info) else { break }
                    gradient = FirthAdjustment.adjustedGradient(plainGradient, factor: factor, x: x, eta: state.eta,
                                                                weights: weights, kernels: kernels)
                    objective -= halfLogDet
                }
                // 3. Newton direction; with bounds, on the terms not held at a bound by the gradient.
                var delta: [Double]
                var stepLimit = 1.0
                if bounded {
                    for a in 0..<k {
                        fixed[a] = (state.beta[a] <= lower[a] && gradient[a] <= 0) || (state.beta[a] >= upper[a] && gradient[a] >= 0)
                    }
                    // A term at its bound whose Newton step points outward is held too, and the step
                    // re-solved (at most k rounds): otherwise the step length would be zero.
                    var solved: [Double]? = nil
                    for _ in 0..<k {
                        let free = (0..<k).filter { !fixed[$0] }
                        guard let solve = NewtonStep.solve(info.submatrix(free), free.map { gradient[$0] }) else { break }
                        ridgeUsed = max(ridgeUsed, solve.ridge)
                        var step = [Double](repeating: 0, count: k)
                        for (b, a) in free.enumerated() { step[a] = solve.step[b] }
                        let outward = free.filter { (state.beta[$0] <= lower[$0] && step[$0] < 0) || (state.beta[$0] >= upper[$0] && step[$0] > 0) }
                        solved = step
                        if outward.isEmpty { break }
                        for a in outward { fixed[a] = true }
                        solved = nil
                    }
                    guard let step = solved else { break }
                    delta = step
                    let free = (0..<k).filter { !fixed[$0] }
                    // Stop at the first bound the step would cross; that term is held next iteration.
                    for a in free where delta[a] != 0 {
                        let room = delta[a] > 0 ? (upper[a] - state.beta[a]) / delta[a] : (lower[a] - state.beta[a]) / delta[a]
                        stepLimit = min(stepLimit, max(0, room))
                    }
                } else {
                    guard let solve = NewtonStep.solve(info, gradient) else { break }
                    ridgeUsed = max(ridgeUsed, solve.ridge)
                    delta = solve.step
                }
                let decrement = zip(gradient, delta).reduce(0) { $0 + $1.0 * $1.1 }
                lastDecrement = decrement
                // 4. Converged when the gain in log-likelihood a Newton step predicts, gᵀH⁻¹g/2, is
                //    below the rounding of ℓ itself. The step is still taken (its error is quadratic in
                //    an already negligible one) and, as R's glm does, the covariance uses the information
                //    from the start of this last iteration. (A rule on the change in β alone was
                //    rejected: it stops early on flat likelihoods.)
                if decrement / 2 <= options.tolerance * (abs(objective) + 1) {
                    converged = true
                    for j in 0..<k { state.beta[j] = min(max(state.beta[j] + stepLimit * delta[j], lower[j]), upper[j]) }
                    history.append(IterationRecord(iteration: iteration, deviance: state.deviance, decrement: decrement,
                                                    stepSize: 1, halvings: 0,
                                                    seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
                    break
                }
                // 5. Backtracking line search on the deviance, with slack for rounding near the optimum.
                var u = [Double](repeating: 0, count: n)
                u.withUnsafeMutableBufferPointer { kernels.multiply(x, delta, into: $0.baseAddress!) }
                let slack = 64 * Double.ulpOfOne * (abs(objective) + 1)
                var t = stepLimit, halvings = 0, accepted = false, trial = 0.0, trialDeviance = 0.0
                // Near the optimum ½·log|I| carries more rounding than the gain a Firth step predicts,
                // so a line search would stall on noise; the modified-score iteration is a contraction
                // there and full steps converge (as in logistf and brglm2).
                let fullFirthStep = options.firth && decrement / 2 <= 1e-6 * (abs(objective) + 1)
                if fullFirthStep {
                    trialDeviance = state.trialDeviance(direction: u, step: 1, y: y, weights: weights)
                    accepted = true
                }
                while !accepted && halvings <= options.maxHalvings {
                    trialDeviance = state.trialDeviance(direction: u, step: t, y: y, weights: weights)
                    trial = trialDeviance / 2
                    if options.firth {
                        // The penalty needs the information at the trial point.
                        let trialEta = zip(state.eta, u).map { $0 + t * $1 }
                        var probe = SolverState(rows: n, cols: k)
                        probe.eta = trialEta
                        let h = probe.derivatives(x: x, y: y, weights: weights, kernels: kernels).1
                        guard let (halfLogDet, _) = FirthAdjustment.halfLogDet(h) else { t /= 2; halvings += 1; continue }
                        trial -= halfLogDet
                    }
                    if trial <= objective - 1e-4 * t * decrement + slack { accepted = true; break }
                    t /= 2
                    halvings += 1
                }
                if accepted {
                    // Clamped so rounding cannot leave a term a hair outside its bound.
                    for j in 0..<k { state.beta[j] = min(max(state.beta[j] + t * delta[j], lower[j]), upper[j]) }
                    state.eta.withUnsafeMutableBufferPointer { e in
                        u.withUnsafeBufferPointer { ub in for i in 0..<n { e[i] += t * ub[i] } }
                    }
                    state.deviance = trialDeviance
                    information = nil
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                history.append(IterationRecord(iteration: iteration, deviance: state.deviance, decrement: decrement,
                                                stepSize: accepted ? t : 0, halvings: halvings, seconds: seconds))
                if !accepted {
                    // No descent is possible in floating point: converged if the decrement is already at
                    // the precision floor, otherwise report a failure rather than loop.
                    converged = decrement / 2 <= Double.ulpOfOne.squareRoot() * (abs(objective) + 1)
                    break
                }
            }
        }

        // Exact η at the final β (the loop updated it incrementally) and, if the loop ended on a
        // step, the information there.
        design.storage.withUnsafeBufferPointer { xb in
            let x = xb.baseAddress!
            state.eta.withUnsafeMutableBufferPointer { kernels.multiply(x, state.beta, into: $0.baseAddress!) }
            state.deviance = deviance(state.eta, y, weights)
            if information == nil {
                information = state.derivatives(x: x, y: y, weights: weights, kernels: kernels).1
            }
        }
        let fitted = state.eta.map { LogisticLoss.probabilities($0).mu }

        var warnings: [FitWarning] = []
        if !aliased.isEmpty { warnings.append(.aliased(terms: aliased)) }
        if ridgeUsed > 0 { warnings.append(.singularInformation(ridge: ridgeUsed)) }
        if !converged { warnings.append(.notConverged(iterations: iterations, decrement: lastDecrement)) }
        // Firth's estimates stay finite under separation, which is why one would choose it.
        if !options.firth {
            warnings.append(contentsOf: SeparationCheck.run(design: design, activeTerms: active, fitted: fitted, response: y,
                                                            weights: weights, betaStandardised: state.beta))
        }

        // Binding terms are held at their bound: the covariance is that of the free terms given them.
        let binding = bounded ? (0..<k).filter { fixed[$0] } : []
        let freeTerms = (0..<k).filter { !binding.contains($0) }
        let bread: SymmetricMatrix? = binding.isEmpty ? NewtonStep.inverse(information!) : NewtonStep.inverse(information!.submatrix(freeTerms)).map { sub in
            var full = SymmetricMatrix(order: k)
            for (b, a) in freeTerms.enumerated() { for (d, c) in freeTerms.enumerated() { full[c, a] = sub[d, b] } }
            return full
        }
        let covarianceStd = bread.flatMap {
            RobustCovariance.sandwich(options.covariance, bread: $0, design: design, fitted: fitted, response: y, weights: weights)
        }
        let kkt = bounded ? kktResidual(design: design, fitted: fitted, response: y, weights: weights, beta: state.beta,
                                         lower: lower, upper: upper) : 0
        let original = scaling.toOriginalScale(beta: state.beta, covariance: covarianceStd, active: active)

        var varianceInflation = [Double?](repeating: nil, count: p)
        for (j, v) in inflation { varianceInflation[j] = v }
        var coefficients = [Double?](repeating: nil, count: p)
        var standardErrors = [Double?](repeating: nil, count: p)
        for (a, j) in active.enumerated() {
            coefficients[j] = original.beta[a]
            // Slopes: √(standardised variance)/s_j, which cannot underflow the way the variance
            // 1/s_j² can for columns near the overflow limit.
            let v = a == 0 ? original.covariance?[0, 0] : covarianceStd.map { $0[a, a] }
            if let v, v >= 0, v.isFinite, !binding.contains(a) {
                standardErrors[j] = a == 0 ? v.squareRoot() : v.squareRoot() / scaling.scales[j]
            }
        }
        return LogisticFit(termNames: termNames, coefficients: coefficients, standardErrors: standardErrors,
                           covariance: original.covariance, activeTerms: active, aliasedTerms: aliased,
                           nObservations: n, weightSum: weightSum, deviance: state.deviance,
                           nullDeviance: nullDeviance, iterations: iterations, converged: converged,
                           history: history, warnings: warnings, fittedProbabilities: fitted,
                           bindingTerms: binding.map { active[$0] }, kktResidual: kkt,
                           varianceInflation: varianceInflation,
                           columnMeans: scaling.means, columnScales: scaling.scales)
    }

    /// Projected gradient of ℓ per row at the final β (standardised scale): zero for free terms,
    /// and only pushing against the bound for held ones.
    static func kktResidual(design: Matrix, fitted: [Double], response y: [Double], weights: [Double]?, beta: [Double],
                            lower: [Double], upper: [Double]) -> Double {
        let n = design.rows
        var r = [Double](repeating: 0, count: n)
        for i in 0..<n { r[i] = (weights?[i] ?? 1) * (y[i] - fitted[i]) }
        let g = design.storage.withUnsafeBufferPointer { xb in
            r.withUnsafeBufferPointer { DesignKernels(rows: n, cols: design.cols).multiplyTransposed(xb.baseAddress!, $0.baseAddress!) }
        }
        var worst = 0.0
        for a in g.indices {
            var projected = g[a]
            if beta[a] <= lower[a] { projected = max(projected, 0) }
            if beta[a] >= upper[a] { projected = min(projected, 0) }
            worst = max(worst, abs(projected) / Double(max(n, 1)))
        }
        return worst
    }

    static func deviance(_ eta: [Double], _ y: [Double], _ weights: [Double]?) -> Double {
        eta.withUnsafeBufferPointer { e in
            y.withUnsafeBufferPointer { yb in
                withOptionalPointer(weights) { w in
                    LogisticLoss.deviance(eta: e.baseAddress!, y: yb.baseAddress!, weights: w, rows: e.count)
                }
            }
        }
    }

    /// Moves the kept columns to the front, in order, and drops the rest.
    static func compact(_ design: inout Matrix, keeping columns: [Int]) {
        let n = design.rows
        design.storage.withUnsafeMutableBufferPointer { s in
            for (target, source) in columns.enumerated() where target != source {
                for i in 0..<n { s[target * n + i] = s[source * n + i] }
            }
        }
        design.truncateColumns(to: columns.count)
    }
}

func withOptionalPointer<R>(_ array: [Double]?, _ body: (UnsafePointer<Double>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Mutable solver state: β on the standardised scale, η and the current deviance.
struct SolverState {
    var beta: [Double]
    var eta: [Double]
    var deviance = 0.0
    private var sqrtW: [Double]
    private var residual: [Double]

    init(rows: Int, cols: Int) {
        beta = [Double](repeating: 0, count: cols)
        eta = [Double](repeating: 0, count: rows)
        sqrtW = [Double](repeating: 0, count: rows)
        residual = [Double](repeating: 0, count: rows)
    }

    mutating func derivatives(x: UnsafePointer<Double>, y: [Double], weights: [Double]?,
                              kernels: DesignKernels) -> ([Double], SymmetricMatrix) {
        let n = eta.count
        eta.withUnsafeBufferPointer { e in
            y.withUnsafeBufferPointer { yb in
                withOptionalPointer(weights) { w in
                    sqrtW.withUnsafeMutableBufferPointer { sw in
                        residual.withUnsafeMutableBufferPointer { r in
                            LogisticLoss.weightsAndResiduals(eta: e.baseAddress!, y: yb.baseAddress!, weights: w,
                                                             rows: n, sqrtW: sw.baseAddress!, residual: r.baseAddress!)
                        }
                    }
                }
            }
        }
        let gradient = residual.withUnsafeBufferPointer { kernels.multiplyTransposed(x, $0.baseAddress!) }
        let information = sqrtW.withUnsafeBufferPointer { kernels.weightedGram(x, sqrtWeights: $0.baseAddress!) }
        return (gradient, information)
    }

    func trialDeviance(direction u: [Double], step: Double, y: [Double], weights: [Double]?) -> Double {
        eta.withUnsafeBufferPointer { e in
            u.withUnsafeBufferPointer { ub in
                y.withUnsafeBufferPointer { yb in
                    withOptionalPointer(weights) { w in
                        LogisticLoss.deviance(eta: e.baseAddress!, direction: ub.baseAddress!, step: step,
                                              y: yb.baseAddress!, weights: w, rows: e.count)
                    }
                }
            }
        }
    }
}

/// The Newton system H δ = g by Cholesky, with a growing ridge only when H is numerically singular
/// (which, once rank deficiency is removed, happens when fitted probabilities reach 0 or 1).
enum NewtonStep {
    static func solve(_ h: SymmetricMatrix, _ g: [Double]) -> (step: [Double], ridge: Double)? {
        let scale = (0..<h.order).map { h[$0, $0] }.max() ?? 1
        var ridge = 0.0
        for attempt in 0..<12 {
            var factor = h
            if ridge > 0 { for j in 0..<h.order { factor[j, j] += ridge * scale } }
            if LAPACK.potrf(&factor) == 0 {
                var step = g
                LAPACK.potrs(factor, &step)
                if step.allSatisfy({ $0.isFinite }) { return (step, ridge) }
            }
            ridge = attempt == 0 ? 1e-12 : ridge * 100
        }
        return nil
    }

    static func inverse(_ h: SymmetricMatrix) -> SymmetricMatrix? {
        var factor = h
        guard LAPACK.potrf(&factor) == 0 else { return nil }
        return LAPACK.potri(factor)
    }
}
