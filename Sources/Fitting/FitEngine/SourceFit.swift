import Support
extension LogisticRegression {
    /// The same maximum-likelihood fit as `fit(_:options:)`, over rows visited pass by pass: a file
    /// re-read per pass, or this process's shard of a distributed fit (every sum goes through
    /// `source.sumAcrossProcesses`, so all processes take identical steps and return the same fit).
    ///
    /// No per-row state is kept between passes: a moments pass, a centred-moments pass, then one
    /// fused pass per Newton trial point, standardising on the fly. Coefficients, standard errors
    /// and deviances equal the in-memory fit's to rounding. `fittedProbabilities` is empty, and the
    /// separation check (which needs every row) is not run; Firth and robust covariances throw.
    public static func fit(source: some RowBlockSource, termNames: [String], options: FitOptions) throws -> LogisticFit {
        let p = source.columnCount
        guard p >= 1, termNames.count == p else {
            throw Diagnostic(.fit, problem: "the source has \(p) design columns but \(termNames.count) term names were given; pass one name per column, the intercept first")
        }
        guard !options.firth else {
            throw Diagnostic(.fit, problem: "Firth's adjustment needs every row's leverage and is not available when fitting over a row source; fit in memory, or drop --firth")
        }
        guard options.covariance == .model else {
            throw Diagnostic(.fit, problem: "the \(options.covariance.name) covariance needs every row's score and is not available when fitting over a row source; fit in memory, or use the model covariance")
        }
        BLAS.setThreads(1)
        let passes = SourceRows(source: source)
        let moments = try SourceMoments.compute(source)
        guard moments.rows > 0, moments.weightSum > 0 else {
            throw Diagnostic(.fit, problem: "the row source has no rows with positive weight; check the input file or shard")
        }
        let scaling = moments.scaling
        let startBeta = Self.startBeta(events: moments.events, weightSum: moments.weightSum, terms: p)
        let allColumns = scaling.columnMap((0..<p).map { $0 })
        let first = try passes.run(PassKernel(map: allColumns, mode: .derivatives, beta: startBeta))
        let terms = ActiveTerms(firstInformation: first.information, constantColumns: scaling.constantColumns,
                                tolerance: options.aliasTolerance)
        let k = terms.active.count
        let map = scaling.columnMap(terms.active)
        let bounds = StandardisedBounds(options: options, active: terms.active, scales: scaling.scales)
        let evaluate = { (beta: [Double], mode: PassMode, bucket: Int) throws in
            try passes.run(PassKernel(map: map, mode: mode, beta: beta, bucket: bucket))
        }
        var beta = Array(startBeta.prefix(k))
        var start = terms.restrict(first)
        if bounds.isBounded {
            let clamped = bounds.clamp(beta)
            if clamped != beta { beta = clamped; start = try evaluate(beta, .derivatives, 0) }
        }
        let outcome = try NewtonIterations.run(beta: beta, derivatives: start, bounds: bounds, options: options,
                                               firthScore: nil,
                                               sampled: HessianSampling.applies(rows: moments.rows, terms: k, options: options),
                                               evaluate: evaluate)
        let final = try outcome.atBeta ?? {
            let sums = try evaluate(outcome.beta, bounds.isBounded ? .gradient : .deviance, 0)
            return (sums.deviance, bounds.isBounded ? sums.gradient : [])
        }()
        let binding = bounds.isBounded ? (0..<k).filter { outcome.fixed[$0] } : []
        let kkt = bounds.isBounded
            ? NewtonIterations.kktResidual(gradient: final.1, beta: outcome.beta, bounds: bounds, rows: moments.rows) : 0
        return FitAssembly.fit(termNames: termNames, terms: terms, scaling: scaling, outcome: outcome,
                               deviance: final.0, nullDeviance: first.deviance,
                               covarianceStd: FitAssembly.bread(outcome.information, binding: binding),
                               binding: binding, rows: moments.rows, weightSum: moments.weightSum, warnings: [],
                               fitted: [], kktResidual: kkt)
    }
}

extension Standardization {
    /// The kernel's view of the given columns standardised as `apply` does in place; a constant
    /// column reads as zeros, as it does there.
    func columnMap(_ columns: [Int]) -> ColumnMap {
        ColumnMap(columns: columns, means: columns.map { means[$0] },
                  inverseScales: columns.map { constantColumns.contains($0) ? 0 : 1 / scales[$0] })
    }
}

/// Row count, weight sum, events and the weighted column means and standard deviations of a
/// source, in two passes (the two-pass variance is exact zero for a constant column, as in memory).
enum SourceMoments {
    struct Result {
        var rows: Int
        var weightSum: Double
        var events: Double
        var scaling: Standardization
    }

    static func compute(_ source: some RowBlockSource) throws -> Result {
        let p = source.columnCount
        // Pass 1: [rows, Σv, Σv·y, Σv·x_j for j ≥ 1].
        let totals = try sum(source, size: 3 + p - 1) { block, acc in
            acc[0] += Double(block.rows)
            for i in 0..<block.rows {
                let v = block.weights?[i] ?? 1
                acc[1] += v
                acc[2] += v * block.y[i]
            }
            for j in 1..<p { acc[2 + j] += weightedSum(block, column: j) { $0 } }
        }
        let weightSum = totals[1]
        var means = [Double](repeating: 0, count: p)
        for j in 1..<max(1, p) { means[j] = totals[2 + j] / weightSum }
        // Pass 2: Σv·(x_j − m_j)².
        let squares = try sum(source, size: p) { block, acc in
            for j in 1..<p {
                let m = means[j]
                acc[j] += weightedSum(block, column: j) { ($0 - m) * ($0 - m) }
            }
        }
        var scales = [Double](repeating: 1, count: p)
        var constant: [Int] = []
        for j in 1..<max(1, p) {
            let sd = (squares[j] / weightSum).squareRoot()
            guard means[j].isFinite, sd.isFinite else {
                throw Diagnostic(.fit, problem: "design column \(j) has values near the overflow limit (mean or spread not finite); rescale it, or fit in memory")
            }
            if !(sd > 1e-13 * max(abs(means[j]), 1e-300)) { constant.append(j) } else { scales[j] = sd }
        }
        return Result(rows: Int(totals[0].rounded()), weightSum: weightSum, events: totals[2],
                      scaling: Standardization(means: means, scales: scales, constantColumns: constant))
    }

    private static func weightedSum(_ block: DesignBlock, column j: Int, _ f: (Double) -> Double) -> Double {
        let x = block.x + j * block.stride
        var s = 0.0
        if let w = block.weights { for i in 0..<block.rows { s += w[i] * f(x[i]) } } else { for i in 0..<block.rows { s += f(x[i]) } }
        return s
    }

    /// Per-worker accumulators of `size` values, summed in worker order and across processes.
    private static func sum(_ source: some RowBlockSource, size: Int,
                            _ body: (DesignBlock, UnsafeMutablePointer<Double>) -> Void) throws -> [Double] {
        let workers = max(1, source.concurrency)
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: max(1, size * workers))
        defer { partial.deallocate() }
        partial.initialize(repeating: 0, count: size * workers)
        let reading = Swift.Result { try source.forEachBlock { worker, block in body(block, partial + worker * size) } }
        var out = [Double](repeating: 0, count: size)
        for t in 0..<workers { for i in 0..<size { out[i] += partial[t * size + i] } }
        try source.sumReportingFailure(&out, reading)
        return out
    }
}
