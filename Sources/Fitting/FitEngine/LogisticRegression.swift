import Foundation

/// Maximum-likelihood logistic regression by Newton's method (IRLS) with a backtracking line search.
///
/// Everything runs on internally standardised columns (κ of mlc_churn's design drops from ~1e11 to
/// ~6,600), then maps back to the original scale. Each Newton iteration is one fused pass over the
/// rows (`PassKernel`), split across cores; `NewtonIterations` holds the steps both solvers share.
///
/// A fit is five steps: standardise the design; one pass at the intercept-only optimum, whose
/// information finds the aliased terms (`firstPass`); Newton from there (`iterate`, with a warm start
/// on a row sample for large n); a pass at the final β when the last one was elsewhere
/// (`finalPoint`); then the checks and the covariance (`diagnose`) and the fit on the original scale.
public enum LogisticRegression {
    public static func fit(_ problem: consuming LogisticProblem, options: FitOptions = FitOptions()) -> LogisticFit {
        // Take the design out of the problem so standardising it in place does not copy it.
        var design = Matrix(rows: 0, cols: 0)
        swap(&design, &problem.design)
        let y = problem.response
        let weights = problem.weights
        let termNames = problem.termNames
        let n = design.rows
        precondition(design.cols >= 1, "the design needs at least the intercept column")

        BLAS.setThreads(1)
        let scaling = Standardization.apply(to: &design, weights: weights)
        let weightSum = weights?.reduce(0, +) ?? Double(n)
        let events = weights.map { w in zip(w, y).reduce(0.0) { $0 + $1.0 * $1.1 } } ?? y.reduce(0, +)
        // η of every row at the latest pass: fitted probabilities, Firth's leverages, the checks.
        var eta = [Double](repeating: 0, count: n)
        return y.withUnsafeBufferPointer { yb in
            withOptionalPointer(weights) { w in
                eta.withUnsafeMutableBufferPointer { etaBuffer in
                    let rows = RowData(rows: n, y: yb.baseAddress!, weights: w, eta: etaBuffer.baseAddress!)
                    let startBeta = Self.startBeta(events: events, weightSum: weightSum, terms: design.cols)
                    let (first, terms) = firstPass(&design, rows: rows, start: startBeta, scaling: scaling, options: options)
                    return design.storage.withUnsafeBufferPointer { xb in
                        let data = InMemoryData(design: design, x: xb.baseAddress!, rows: rows, y: y, weights: weights,
                                                weightSum: weightSum, terms: terms, scaling: scaling, options: options)
                        let (outcome, warmIterations) = iterate(data, start: Array(startBeta.prefix(terms.active.count)),
                                                                first: terms.restrict(first))
                        let final = finalPoint(data, outcome)
                        let fitted = etaBuffer.map { LogisticLoss.probabilities($0).mu }
                        let checks = diagnose(data, outcome, final: final, fitted: fitted, gram: terms.restrict(first).information)
                        var fit = FitAssembly.fit(termNames: termNames, terms: terms,
                                                  scaling: scaling, outcome: outcome,
                                                  deviance: final.deviance, nullDeviance: first.deviance, covarianceStd: checks.covariance,
                                                  binding: checks.binding, rows: n, weightSum: weightSum, warnings: checks.separation,
                                                  fitted: fitted, kktResidual: checks.kkt)
                        fit.sampleStartIterations = warmIterations
                        return fit
                    }
                }
            }
        }
    }

    /// The response, weights and η of every row, for passes over any design of these rows.
    struct RowData {
        let rows: Int
        let y: UnsafePointer<Double>
        let weights: UnsafePointer<Double>?
        let eta: UnsafeMutablePointer<Double>

        func passes(_ x: UnsafePointer<Double>) -> InMemoryRows {
            InMemoryRows(x: x, rows: rows, y: y, weights: weights, eta: eta)
        }
    }

    /// The standardised design of the active terms and everything fixed while Newton runs on it.
    struct InMemoryData {
        let design: Matrix
        let x: UnsafePointer<Double>
        let rows: RowData
        let y: [Double]
        let weights: [Double]?
        let weightSum: Double
        let terms: ActiveTerms
        let scaling: Standardization
        let options: FitOptions
        /// The box on the standardised scale, over the active terms.
        let bounds: StandardisedBounds
        var k: Int { terms.active.count }

        init(design: Matrix, x: UnsafePointer<Double>, rows: RowData, y: [Double], weights: [Double]?, weightSum: Double,
             terms: ActiveTerms, scaling: Standardization, options: FitOptions) {
            self.design = design; self.x = x; self.rows = rows; self.y = y; self.weights = weights
            self.weightSum = weightSum; self.terms = terms; self.scaling = scaling; self.options = options
            bounds = StandardisedBounds(options: options, active: terms.active, scales: scaling.scales)
        }
    }

    /// One pass at the intercept-only optimum over every column; its information shows the aliased
    /// terms, which leave the design (the others move to the front).
    static func firstPass(_ design: inout Matrix, rows: RowData, start: [Double], scaling: Standardization,
                          options: FitOptions) -> (PassSums, ActiveTerms) {
        let p = design.cols
        let first = design.storage.withUnsafeBufferPointer {
            rows.passes($0.baseAddress!).run(PassKernel(map: .leading(p), mode: .derivatives, beta: start))
        }
        let terms = ActiveTerms(firstInformation: first.information, constantColumns: scaling.constantColumns,
                                tolerance: options.aliasTolerance)
        compact(&design, keeping: terms.active)
        return (first, terms)
    }

    /// Newton's iterations from the intercept-only optimum (where, with centred columns, the slopes
    /// are zero), clamped into the bounds; for large n from a warm start fitted on a row sample.
    static func iterate(_ data: InMemoryData, start: [Double], first: PassSums) -> (NewtonOutcome, warmIterations: Int) {
        let n = data.rows.rows, k = data.k
        let map = ColumnMap.leading(k)
        let bounds = data.bounds
        let sampled = HessianSampling.applies(rows: n, terms: k, options: data.options)
        var passes = data.rows.passes(data.x)
        let flags = UnsafeMutablePointer<UInt8>.allocate(capacity: sampled ? n : 1)
        defer { flags.deallocate() }
        if sampled { RowSample.markByIndex(flags, rows: n); passes.sampleFlags = flags }
        let evaluate = { (beta: [Double], mode: PassMode, bucket: Int) in
            passes.run(PassKernel(map: map, mode: mode, beta: beta, bucket: bucket))
        }
        var beta = start
        var sums = first
        if bounds.isBounded {
            let clamped = bounds.clamp(beta)
            if clamped != beta { beta = clamped; sums = evaluate(beta, .derivatives, 0) }
        }
        var warmIterations = 0
        if sampled {
            (beta, sums, warmIterations) = SampleWarmStart.start(from: beta, first: sums, passes: passes, map: map,
                                                                 bounds: bounds, ridge: nil, weightSum: data.weightSum)
        }
        let kernels = DesignKernels(rows: n, cols: k)
        let eta = UnsafePointer(data.rows.eta), x = data.x, weights = data.weights
        let firth: (([Double], SymmetricMatrix) -> [Double])? = data.options.firth ? { gradient, factor in
            FirthAdjustment.adjustedGradient(gradient, factor: factor, x: x, eta: eta, weights: weights, kernels: kernels)
        } : nil
        let outcome = NewtonIterations.run(beta: beta, derivatives: sums, bounds: bounds, options: data.options,
                                           firthScore: firth, sampled: sampled, evaluate: evaluate)
        return (outcome, warmIterations)
    }

    /// The deviance (and, for the KKT check of a bounded fit, the gradient) at the final β, with a
    /// pass there when the last one was elsewhere; the pass also leaves η at the final β.
    static func finalPoint(_ data: InMemoryData, _ outcome: NewtonOutcome) -> (deviance: Double, gradient: [Double]) {
        if let atBeta = outcome.atBeta { return atBeta }
        let bounded = data.bounds.isBounded
        let sums = data.rows.passes(data.x).run(PassKernel(map: .leading(data.k), mode: bounded ? .gradient : .deviance,
                                                           beta: outcome.beta, bucket: 0))
        return (sums.deviance, bounded ? sums.gradient : [])
    }

    /// What the fit must say about itself: separation (not for Firth, whose estimates stay finite
    /// under it, which is why one would choose it), the terms held at a bound, the covariance
    /// (model or sandwich; none when the information is singular), and the KKT residual.
    static func diagnose(_ data: InMemoryData, _ outcome: NewtonOutcome, final: (deviance: Double, gradient: [Double]),
                         fitted: [Double], gram: SymmetricMatrix)
        -> (separation: [FitWarning], binding: [Int], covariance: SymmetricMatrix?, kkt: Double) {
        let bounds = data.bounds
        let separation = data.options.firth ? [] :
            SeparationCheck.run(design: data.design, activeTerms: data.terms.active, fitted: fitted, response: data.y,
                                weights: data.weights, betaStandardised: outcome.beta, gram: gram,
                                // (A bound can stop the walk, so bounded fits always check.)
                                convergedByRule: !bounds.isBounded && outcome.metStoppingRule)
        let binding = bounds.isBounded ? (0..<data.k).filter { outcome.fixed[$0] } : []
        let covariance = FitAssembly.bread(outcome.information, binding: binding).flatMap {
            RobustCovariance.sandwich(data.options.covariance, bread: $0, design: data.design, fitted: fitted,
                                      response: data.y, weights: data.weights)
        }
        let kkt = bounds.isBounded
            ? NewtonIterations.kktResidual(gradient: final.gradient, beta: outcome.beta, bounds: bounds, rows: data.rows.rows) : 0
        return (separation, binding, covariance, kkt)
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
