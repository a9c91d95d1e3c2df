import Foundation

/// Box constraints on the standardised scale, over the active terms.
struct StandardisedBounds {
    var lower: [Double]
    var upper: [Double]
    var isBounded: Bool { lower.contains { $0 > -.infinity } || upper.contains { $0 < .infinity } }

    /// β̃ = β·s for slopes, so a bound on the original scale scales and keeps its sign.
    init(options: FitOptions, active: [Int], scales: [Double]) {
        let k = active.count
        lower = [Double](repeating: -.infinity, count: k)
        upper = [Double](repeating: .infinity, count: k)
        for (a, j) in active.enumerated() where j != 0 {
            if let l = options.lowerBounds?[j] { lower[a] = l * scales[j] }
            if let u = options.upperBounds?[j] { upper[a] = u * scales[j] }
        }
    }

    /// No bounds on k terms.
    init(unbounded k: Int) {
        lower = [Double](repeating: -.infinity, count: k)
        upper = [Double](repeating: .infinity, count: k)
    }

    func clamp(_ beta: [Double]) -> [Double] { beta.indices.map { min(max(beta[$0], lower[$0]), upper[$0]) } }
}

/// Where the Newton iterations ended.
struct NewtonOutcome {
    var beta: [Double]
    /// Deviance and plain gradient at `beta` when the last pass was there (nil after a final step).
    var atBeta: (deviance: Double, gradient: [Double])?
    /// Deviance before the last step, for reporting when `atBeta` is nil.
    var deviance: Double
    /// For the covariance: at the start of the last iteration when it converged, else at `beta`.
    var information: SymmetricMatrix
    var history: [IterationRecord] = []
    var converged = false
    /// Converged by the stopping rule itself (not only at the precision floor after a failed search).
    var metStoppingRule = false
    var iterations = 0
    /// `FitOptions.maxIterations` of the run, for the not-converged message.
    var iterationLimit = 0
    var lastDecrement = Double.infinity
    var ridgeUsed = 0.0
    /// Iterations that stepped along a sampled-information direction.
    var sampledIterations = 0
    /// Terms held at a bound by the last direction.
    var fixed: [Bool]
}

/// When the Newton iterations sample XᵀWX (see `NewtonIterations`): only for large n, where the
/// sample (~n/8 rows) holds at least 30·k² rows, so that H_sample's relative error ~√(k/n_sample)
/// is a few percent and each sampled step removes ~99.9% of the decrement; never for Firth, whose
/// modified score and objective need the exact information at every step.
enum HessianSampling {
    static func applies(rows: Int, terms k: Int, options: FitOptions) -> Bool {
        !options.firth && rows >= options.sampledHessianMinRows
            && Double(rows) * RowSample.fraction >= 30 * Double(k) * Double(k)
    }
}

/// XᵀWX estimated from the sampled passes since the last large step. Each sampled pass sums its own
/// `RowSample` bucket (a different eighth of the rows each pass), so after t passes the window holds
/// t eighths and the estimate's error falls as 1/√t, where one fixed bucket would repeat the same
/// error every step (and that error sets the linear rate of the iteration). A bucket summed at an
/// earlier β carries that β's weights, so the window restarts after a step large enough for the
/// change to matter (`NewtonIterations.restartsWindow`).
struct SampledInformation {
    private var lower: [Double] = []
    private var sampledWeight = 0.0
    private var buckets: [Int] = []

    mutating func restart() { lower = []; sampledWeight = 0; buckets = [] }

    /// Adds a sampled pass's bucket (a bucket seen again restarts the window) and returns the
    /// estimate: the window's sum scaled by Σw over all rows at the latest pass / the window's
    /// bucket Σw. That ratio estimator (rather than n/n_sample) removes the buckets' share of the
    /// weight, the largest part of their error.
    mutating func add(_ sums: PassSums) -> SymmetricMatrix {
        precondition(sums.mode == .sampledDerivatives)
        if buckets.contains(sums.bucket) { restart() }
        let parts = sums.sampledParts
        if lower.isEmpty { lower = Array(parts.information) } else {
            for (i, v) in zip(lower.indices, parts.information) { lower[i] += v }
        }
        sampledWeight += parts.sampled
        buckets.append(sums.bucket)
        let scale = sampledWeight > 0 ? parts.all / sampledWeight : 0
        var h = SymmetricMatrix(order: sums.k)
        for i in h.storage.indices { h.storage[i] = lower[i] * scale }
        h.symmetrizeFromLower()
        return h
    }
}

/// The Newton iterations both solvers share. Each trial point costs one fused pass that returns
/// its deviance *and* derivatives, so an accepted step needs no further pass over the rows.
///
/// One iteration is four steps over a `NewtonState`, with the problem's fixed data in `NewtonData`:
///   1. `direction`: gradient and information at β (from the pass that accepted β), and the
///      Cholesky solve H δ = g (with bounds, on the free terms);
///   2. `confirmedDirection`: under a sampled H, the exact one at the same β before the stopping
///      rule may hold;
///   3. `stopsAt`: stop on the Newton decrement gᵀH⁻¹g/2 against the rounding of the objective;
///   4. `lineSearch`: halve the step until the objective falls (Armijo), then `accept` the trial.
///
/// Sampled information (`sampled: true`, large n only, see `HessianSampling`): XᵀWX costs ~5× the
/// rest of a pass, so while far from the optimum each trial pass computes the exact deviance and
/// gradient but XᵀWX over ~1/8 of the rows, a different bucket each pass, summed over the passes
/// since the last large step (`PassMode.sampledDerivatives`, `SampledInformation`). H_sample is
/// positive definite, so δ = H_sample⁻¹g is still a descent direction for the exact deviance, and
/// the iteration converges linearly at a rate ~√(k/n_sample) instead of quadratically (n_sample
/// growing with the window). Once the decrement under H_sample meets the stopping rule, a full pass
/// at that same β gives the exact information, and from there on the iterations are exact Newton:
/// the stopping rule is always checked with the exact decrement gᵀH⁻¹g, the last step uses the
/// exact H, and the covariance is the full-data information at the start of the last iteration, as
/// without sampling.
enum NewtonIterations {
    /// `firthScore` gives Firth's modified score from the plain one and the information's Cholesky
    /// factor, at the β of the latest pass (only the in-memory solver can: it needs every row's η).
    /// `ridge` adds ½·Σ ridgeⱼβⱼ² to the objective −ℓ (ridge regression, in log-likelihood units).
    /// `evaluate(β, mode, bucket)` is one pass at β: `.derivatives`, or `.sampledDerivatives` of
    /// that `RowSample` bucket when `sampled`; `first` may be a sampled pass.
    static func run(beta start: [Double], derivatives first: PassSums, bounds: StandardisedBounds, options: FitOptions,
                    firthScore: (([Double], SymmetricMatrix) -> [Double])?, ridge: [Double]? = nil, sampled: Bool = false,
                    evaluate: ([Double], PassMode, Int) throws -> PassSums) rethrows -> NewtonOutcome {
        precondition(!(sampled && options.firth), "Firth's penalty needs the exact information at every step")
        let data = NewtonData(bounds: bounds, options: options, firthScore: firthScore, ridge: ridge)
        var state = NewtonState(start: start, first: first, sampled: sampled, options: options)
        for iteration in 1...max(1, options.maxIterations) {
            let started = DispatchTime.now().uptimeNanoseconds
            state.out.iterations = iteration
            guard let step = try state.confirmedDirection(data, evaluate: evaluate) else { break }
            state.out.information = state.info
            state.out.ridgeUsed = max(state.out.ridgeUsed, step.ridge)
            state.out.lastDecrement = step.decrement
            if data.stopsAt(step) {
                state.takeFinalStep(step, data: data)
                state.out.history.append(IterationRecord(iteration: iteration, deviance: state.deviance, decrement: step.decrement,
                                                         stepSize: 1, halvings: 0,
                                                         seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
                break
            }
            let search = try state.lineSearch(step, data: data, evaluate: evaluate)
            if let accepted = search.accepted { state.accept(accepted, step: step, length: search.length) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            state.out.history.append(IterationRecord(iteration: iteration, deviance: state.deviance, decrement: step.decrement,
                                                     stepSize: search.accepted != nil ? search.length : 0,
                                                     halvings: search.halvings, seconds: seconds))
            if search.accepted == nil {
                // Under a sampled H: take the exact one at β and go on.
                if !state.infoIsExact { state.adoptExact(try evaluate(state.beta, .derivatives, 0)); continue }
                // No descent is possible in floating point: converged if the decrement is already at
                // the precision floor, otherwise report a failure rather than loop.
                state.out.converged = step.decrement / 2 <= Double.ulpOfOne.squareRoot() * (abs(step.objective) + 1)
                break
            }
        }
        return state.finished()
    }

    /// Whether a step δ with δᵀHδ = `decrement` moves the weights more than a bucket's own sampling
    /// error: it changes η by ~√(decrement/n) per row, a bucket's XᵀWX errs by ~√(k/n_bucket) =
    /// √(8k/n), so buckets summed before it are stale once decrement > 8k (for a step of length t,
    /// pass t²·decrement).
    static func restartsWindow(decrement: Double, terms k: Int) -> Bool {
        decrement > Double(k * RowSample.buckets)
    }

    /// ½·Σ ridgeⱼβⱼ², the ridge part of the objective (0 without a ridge).
    static func ridgePenalty(_ beta: [Double], _ ridge: [Double]?) -> Double {
        guard let ridge else { return 0 }
        var s = 0.0
        for j in beta.indices { s += ridge[j] / 2 * beta[j] * beta[j] }
        return s
    }

    /// Largest projected gradient of ℓ per row at the final β (standardised scale): zero for free
    /// terms, and only pushing against the bound for held ones.
    static func kktResidual(gradient g: [Double], beta: [Double], bounds: StandardisedBounds, rows: Int) -> Double {
        var worst = 0.0
        for a in g.indices {
            var projected = g[a]
            if beta[a] <= bounds.lower[a] { projected = max(projected, 0) }
            if beta[a] >= bounds.upper[a] { projected = min(projected, 0) }
            worst = max(worst, abs(projected) / Double(max(rows, 1)))
        }
        return worst
    }
}
