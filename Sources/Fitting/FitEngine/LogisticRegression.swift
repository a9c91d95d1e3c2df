import Foundation

/// Maximum-likelihood logistic regression by Newton's method (IRLS) with a backtracking line search.
///
/// Everything runs on internally standardised columns (κ of mlc_churn's design drops from ~1e11 to
/// ~6,600), then maps back to the original scale. Each Newton iteration is one fused pass over the
/// rows (`PassKernel`), split across cores; `NewtonIterations` holds the steps both solvers share.
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
        // η of every row at the latest pass: fitted probabilities, Firth's leverages, the checks.
        var eta = [Double](repeating: 0, count: n)
        return y.withUnsafeBufferPointer { yb in
            withOptionalPointer(weights) { w in
                eta.withUnsafeMutableBufferPointer { etaBuffer in
                    let etaBase = etaBuffer.baseAddress!
                    func rows(_ x: UnsafePointer<Double>) -> InMemoryRows {
                        InMemoryRows(x: x, rows: n, y: yb.baseAddress!, weights: w, eta: etaBase)
                    }
                    let startBeta = Self.startBeta(events: events, weightSum: weightSum, terms: p)
                    let first = design.storage.withUnsafeBufferPointer {
                        rows($0.baseAddress!).run(PassKernel(map: .leading(p), mode: .derivatives, beta: startBeta))
                    }
                    let terms = ActiveTerms(firstInformation: first.information, constantColumns: scaling.constantColumns,
                                            tolerance: options.aliasTolerance)
                    compact(&design, keeping: terms.active)
                    let k = terms.active.count
                    let map = ColumnMap.leading(k)
                    let bounds = StandardisedBounds(options: options, active: terms.active, scales: scaling.scales)
                    return design.storage.withUnsafeBufferPointer { xb in
                        let x = xb.baseAddress!
                        let sampled = HessianSampling.applies(rows: n, terms: k, options: options)
                        var passes = rows(x)
                        let flags = UnsafeMutablePointer<UInt8>.allocate(capacity: sampled ? n : 1)
                        defer { flags.deallocate() }
                        if sampled { RowSample.markByIndex(flags, rows: n); passes.sampleFlags = flags }
                        let evaluate = { (beta: [Double], mode: PassMode, bucket: Int) in
                            passes.run(PassKernel(map: map, mode: mode, beta: beta, bucket: bucket))
                        }
                        // Start at the intercept-only optimum: with centred columns the other slopes are zero there.
                        var beta = Array(startBeta.prefix(k))
                        var start = terms.restrict(first)
                        if bounds.isBounded {
                            let clamped = bounds.clamp(beta)
                            if clamped != beta { beta = clamped; start = evaluate(beta, .derivatives, 0) }
                        }
                        var warmIterations = 0
                        if sampled {
                            (beta, start, warmIterations) = SampleWarmStart.start(from: beta, first: start, passes: passes, map: map,
                                                                                  bounds: bounds, ridge: nil, weightSum: weightSum)
                        }
                        let kernels = DesignKernels(rows: n, cols: k)
                        let firth: (([Double], SymmetricMatrix) -> [Double])? = options.firth ? { gradient, factor in
                            FirthAdjustment.adjustedGradient(gradient, factor: factor, x: x, eta: UnsafePointer(etaBase),
                                                             weights: weights, kernels: kernels)
                        } : nil
                        let outcome = NewtonIterations.run(beta: beta, derivatives: start, bounds: bounds, options: options,
                                                           firthScore: firth,
                                                           sampled: sampled,
                                                           evaluate: evaluate)
                        // The deviance and η at the final β, if the last pass was elsewhere (the
                        // gradient only for the KKT check of a bounded fit).
                        let final = outcome.atBeta ?? {
                            let sums = evaluate(outcome.beta, bounds.isBounded ? .gradient : .deviance, 0)
                            return (sums.deviance, bounds.isBounded ? sums.gradient : [])
                        }()
                        let fitted = etaBuffer.map { LogisticLoss.probabilities($0).mu }
                        // Firth's estimates stay finite under separation, which is why one would choose it.
                        let separation = options.firth ? [] :
                            SeparationCheck.run(design: design, activeTerms: terms.active, fitted: fitted, response: y,
                                                weights: weights, betaStandardised: outcome.beta,
                                                gram: terms.restrict(first).information,
                                                // (A bound can stop the walk, so bounded fits always check.)
                                                convergedByRule: !bounds.isBounded && outcome.metStoppingRule)
                        let binding = bounds.isBounded ? (0..<k).filter { outcome.fixed[$0] } : []
                        let covarianceStd = FitAssembly.bread(outcome.information, binding: binding).flatMap {
                            RobustCovariance.sandwich(options.covariance, bread: $0, design: design, fitted: fitted,
                                                      response: y, weights: weights)
                        }
                        let kkt = bounds.isBounded
                            ? NewtonIterations.kktResidual(gradient: final.1, beta: outcome.beta, bounds: bounds, rows: n) : 0
                        var fit = FitAssembly.fit(termNames: termNames, terms: terms, scaling: scaling, outcome: outcome,
                                                  deviance: final.0, nullDeviance: first.deviance, covarianceStd: covarianceStd,
                                                  binding: binding, rows: n, weightSum: weightSum, warnings: separation,
                                                  fitted: fitted, kktResidual: kkt)
                        fit.sampleStartIterations = warmIterations
                        return fit
                    }
                }
            }
        }
    }

    /// β at the intercept-only optimum on the standardised scale: logit(ȳ) and zero slopes.
    static func startBeta(events: Double, weightSum: Double, terms: Int) -> [Double] {
        let yBar = events / weightSum
        var beta = [Double](repeating: 0, count: terms)
        beta[0] = log(yBar / (1 - yBar))
        return beta
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
