extension PenalizedEngine {
    /// Ridge without bounds is smooth: its minimiser is Newton's, with N·λ(1−α)·pfⱼ on the diagonal
    /// of the information (glmnet's convention, standardised scale). It runs the unpenalised solver's
    /// iterations — one fused pass per trial point — instead of the rounds of the elastic net.
    func ridgeNewton(start: [Double], weights w: Weights, options: ElasticNetOptions) -> (beta: [Double], outcome: Outcome) {
        let columns = (0..<p).filter { usable[$0] }
        let map = ColumnMap(columns: columns)
        let ridge = columns.map { w.l2[$0] * weightSum }
        return x.withUnsafeBufferPointer { xb in
            y.withUnsafeBufferPointer { yb in
                withOptionalPointer(rowWeights) { v in
                    var passes = InMemoryRows(x: xb.baseAddress!, rows: n, y: yb.baseAddress!, weights: v, eta: eta)
                    var newtonOptions = FitOptions()
                    newtonOptions.sampledHessianMinRows = options.sampledHessianMinRows
                    let sampled = HessianSampling.applies(rows: n, terms: columns.count, options: newtonOptions)
                    let flags = UnsafeMutablePointer<UInt8>.allocate(capacity: sampled ? n : 1)
                    defer { flags.deallocate() }
                    if sampled { RowSample.markByIndex(flags, rows: n); passes.sampleFlags = flags }
                    let evaluate = { (beta: [Double], mode: PassMode, bucket: Int) in
                        passes.run(PassKernel(map: map, mode: mode, beta: beta, bucket: bucket))
                    }
                    var first = columns.map { start[$0] }
                    var firstSums = evaluate(first, .derivatives, 0)
                    if sampled {
                        (first, firstSums, _) = SampleWarmStart.start(from: first, first: firstSums, passes: passes, map: map,
                                                                      bounds: StandardisedBounds(unbounded: columns.count), ridge: ridge, weightSum: weightSum)
                    }
                    let newton = NewtonIterations.run(beta: first, derivatives: firstSums,
                                                      bounds: StandardisedBounds(unbounded: columns.count),
                                                      options: newtonOptions, firthScore: nil, ridge: ridge,
                                                      sampled: sampled,
                                                      evaluate: evaluate)
                    let final = newton.atBeta ?? {
                        let sums = evaluate(newton.beta, .gradient, 0)
                        return (sums.deviance, sums.gradient)
                    }()
                    var beta = [Double](repeating: 0, count: p)
                    var gradient = [Double](repeating: 0, count: p)
                    for (a, j) in columns.enumerated() {
                        beta[j] = newton.beta[a]
                        // The plain gradient is ∂ℓ/∂β̃ = X̃ᵀ(y − μ); f's is −that/N plus the ridge part.
                        gradient[j] = -final.1[a] / weightSum + w.l2[j] * newton.beta[a]
                    }
                    let loss = final.0 / (2 * weightSum)
                    let point = Point(gradient: gradient, loss: loss, objective: loss + penalty(beta, w))
                    let kkt = kktResidual(gradient, beta, w)
                    return (beta, Outcome(point: point, iterations: newton.iterations, kkt: kkt,
                                          converged: kkt <= options.kktTolerance))
                }
            }
        }
    }
}
