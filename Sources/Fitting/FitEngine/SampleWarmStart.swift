/// Newton's global phase on a small row sample alone, for in-memory fits that sample XᵀWX.
///
/// From the intercept-only start, the sampled-information iterations spend most of their passes far
/// from the optimum, and each reads all n rows for the exact deviance and gradient. A few percent of
/// the rows, chosen by a hash of the row index, are a fair miniature of the data: exact Newton on
/// them alone costs a few percent of a pass per step and ends within sampling noise of the optimum
/// (a full-data decrement of order k·n/n_sample rather than of order n), so the full-data iterations
/// that follow need only their last, linearly converging steps. Only the starting point changes,
/// never the stopping rule or the answer; a start that does not lower the full-data objective (a
/// level seen with one class only in the sample, say) is dropped for the usual one.
enum SampleWarmStart {
    /// Gain in ℓ below which the sample's own Newton stops, relative to |ℓ_sample|: far below the
    /// sampling noise of its optimum.
    static let tolerance = 1e-8
    static let maxIterations = 30

    /// Rows in the sample: 1/64 of them, but at least 10·k² (so the sample's Hessian is well
    /// determined) and at most a quarter.
    static func sampleRows(_ n: Int, terms k: Int) -> Int {
        min(n / 4, max(n / 64, 10 * k * k))
    }

    /// The better start of `beta` (whose full-data sums are `first`) and the sample's optimum, with
    /// the full-data sums there (a sampled-information pass, the sampled route's first). `ridge` is
    /// the full-data ridge of the objective (scaled to the sample's share of `weightSum`, the
    /// prior weights' total).
    static func start(from beta: [Double], first: PassSums, passes: InMemoryRows, map: ColumnMap,
                      bounds: StandardisedBounds, ridge: [Double]?, weightSum: Double)
        -> (beta: [Double], sums: PassSums, iterations: Int) {
        let fallback = (beta, first, 0)
        let k = map.count
        guard let sample = gather(passes, map: map, rows: sampleRows(passes.rows, terms: k)), sample.rows > k else {
            return fallback
        }
        let leading = ColumnMap.leading(k)
        var eta = [Double](repeating: 0, count: sample.rows)
        let outcome: NewtonOutcome = sample.x.withUnsafeBufferPointer { xs in
            sample.y.withUnsafeBufferPointer { ys in
                withOptionalPointer(sample.weights) { ws in
                    eta.withUnsafeMutableBufferPointer { e in
                        let rows = InMemoryRows(x: xs.baseAddress!, rows: sample.rows, y: ys.baseAddress!, weights: ws,
                                                eta: e.baseAddress!)
                        let evaluate = { (b: [Double], mode: PassMode, _: Int) in rows.run(PassKernel(map: leading, mode: mode, beta: b)) }
                        var options = FitOptions()
                        options.tolerance = tolerance
                        options.maxIterations = maxIterations
                        let share = sample.weightSum / max(weightSum, .leastNormalMagnitude)
                        return NewtonIterations.run(beta: beta, derivatives: evaluate(beta, .derivatives, 0), bounds: bounds,
                                                    options: options, firthScore: nil, ridge: ridge.map { $0.map { $0 * share } },
                                                    evaluate: evaluate)
                    }
                }
            }
        }
        guard outcome.converged, outcome.beta.allSatisfy({ $0.isFinite }) else { return fallback }
        let sums = passes.run(PassKernel(map: map, mode: .sampledDerivatives, beta: outcome.beta))
        func objective(_ b: [Double], _ s: PassSums) -> Double { s.deviance / 2 + NewtonIterations.ridgePenalty(b, ridge) }
        guard objective(outcome.beta, sums) < objective(beta, first) else { return fallback }
        return (outcome.beta, sums, outcome.iterations)
    }

    /// The sampled rows' columns (as `map` selects them), response and weights, in row order.
    struct Sample {
        var x: [Double]
        var y: [Double]
        var weights: [Double]?
        var rows: Int
        var weightSum: Double
    }

    /// About `target` rows, each kept with probability target/n by a hash of its index (so the
    /// choice is fixed run to run), gathered in row order; the columns `map` selects.
    static func gather(_ passes: InMemoryRows, map: ColumnMap, rows target: Int) -> Sample? {
        guard map.means == nil, target > 0 else { return nil }
        let n = passes.rows, k = map.count
        let x = passes.x, y = passes.y, w = passes.weights
        let cut = UInt64(min(1, Double(target) / Double(n)) * 0x1p64.nextDown)
        var picked: [Int] = []
        picked.reserveCapacity(target + target / 8)
        for i in 0..<n where RowSample.mix(UInt64(i) &+ 0x5851_F42D_4C95_7F2D) < cut { picked.append(i) }
        let rows = picked.count
        guard rows > 0 else { return nil }
        let xs = [Double](unsafeUninitializedCapacity: rows * k) { out, count in
            let o = out.baseAddress!
            picked.withUnsafeBufferPointer { p in
                Parallel.forEach(Parallel.chunks(k, minimumChunk: 1)) { _, columns in
                    for a in columns {
                        let src = x + map.columns[a] * n, dst = o + a * rows
                        for t in 0..<rows { dst[t] = src[p[t]] }
                    }
                }
            }
            count = rows * k
        }
        let ys = picked.map { y[$0] }
        let ws = w.map { v in picked.map { v[$0] } }
        return Sample(x: xs, y: ys, weights: ws, rows: rows, weightSum: ws?.reduce(0, +) ?? Double(rows))
    }
}
