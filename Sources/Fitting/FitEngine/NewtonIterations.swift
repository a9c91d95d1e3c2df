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
/// Each iteration reads as its own table of contents: 1. gradient and information at β (from the
/// pass that accepted β); 2. Cholesky solve H δ = g (with bounds, on the free terms); 3. stop on the
/// Newton decrement; 4. halve the step until the deviance falls (Armijo).
///
/// Sampled information (`sampled: true`, large n only, see `HessianSampling`): XᵀWX costs ~5× the
/// rest of a pass, so while far from the optimum each trial pass computes the exact deviance and
/// gradient but XᵀWX over ~1/8 of the rows, a different bucket each pass, summed over the passes
/// since the last large step (`PassMode.sampledDerivatives`, `SampledInformation`). H_sample is
/// positive definite, so δ = H_sample⁻¹g is still a descent direction for the exact deviance, and
/// the iteration converges linearly at a rate ~√(k/n_sample) instead of quadratically (n_sample
/// growing with the window). Once the
/// decrement under H_sample meets the stopping rule, a full pass at that same β gives the exact
/// information, and from there on the iterations are today's exact Newton: the stopping rule is
/// always checked with the exact decrement gᵀH⁻¹g, the last step uses the exact H, and the
/// covariance is the full-data information at the start of the last iteration, as without sampling.
enum NewtonIterations {
    /// `firthScore` gives Firth's modified score from the plain one and the information's Cholesky
    /// factor, at the β of the latest pass (only the in-memory solver can: it needs every row's η).
    /// `ridge` adds ½·Σ ridgeⱼβⱼ² to the objective −ℓ (ridge regression, in log-likelihood units).
    /// `evaluate(β, mode, bucket)` is one pass at β: `.derivatives`, or `.sampledDerivatives` of
    /// that `RowSample` bucket when `sampled`; `first` may be a sampled pass.
    static func run(beta start: [Double], derivatives first: PassSums, bounds: StandardisedBounds, options: FitOptions,
                    firthScore: (([Double], SymmetricMatrix) -> [Double])?, ridge: [Double]? = nil, sampled: Bool = false,
                    evaluate: ([Double], PassMode, Int) throws -> PassSums) rethrows -> NewtonOutcome {
        func penalty(_ beta: [Double]) -> Double { ridgePenalty(beta, ridge) }
        precondition(!(sampled && options.firth), "Firth's penalty needs the exact information at every step")
        let k = start.count
        let lower = bounds.lower, upper = bounds.upper, bounded = bounds.isBounded
        var beta = start
        var window = SampledInformation()
        var nextBucket = 0
        func information(_ sums: PassSums) -> SymmetricMatrix {
            guard sums.mode == .sampledDerivatives else { return sums.information }
            nextBucket = (sums.bucket + 1) % RowSample.buckets
            return window.add(sums)
        }
        var deviance = first.deviance, plainGradient = first.gradient, info = information(first)
        var infoIsExact = first.isExact
        // Trial passes sample XᵀWX until the first exact pass after sampling; then they stay exact.
        var sampling = sampled
        // The last sampled decrement after a full step, to predict the next one.
        var previousSampledDecrement: Double? = nil
        var out = NewtonOutcome(beta: beta, atBeta: nil, deviance: deviance, information: info,
                                fixed: [Bool](repeating: false, count: k))
        out.iterationLimit = options.maxIterations
        var lastPassAtBeta = true

        /// Step 1 and 2 at the current β: the (Firth/ridge-modified) gradient, the objective, the
        /// Newton direction, its step limit and decrement; nil when no direction can be solved.
        /// `ridge` reports the diagonal the Cholesky solve had to add.
        func direction() -> (objective: Double, delta: [Double], stepLimit: Double, decrement: Double, ridge: Double)? {
            var gradient = plainGradient
            var objective = deviance / 2 + penalty(beta)
            var system = info
            if let ridge {
                for a in 0..<k { gradient[a] -= ridge[a] * beta[a]; system[a, a] += ridge[a] }
            }
            if options.firth {
                guard let (halfLogDet, factor) = FirthAdjustment.halfLogDet(info), let score = firthScore else { return nil }
                gradient = score(plainGradient, factor)
                objective -= halfLogDet
            }
            // 2. Newton direction; with bounds, on the terms not held at a bound by the gradient.
            var delta: [Double]
            var stepLimit = 1.0
            var ridgeUsed = 0.0
            if bounded {
                for a in 0..<k {
                    out.fixed[a] = (beta[a] <= lower[a] && gradient[a] <= 0) || (beta[a] >= upper[a] && gradient[a] >= 0)
                }
                // A term at its bound whose Newton step points outward is held too, and the step
                // re-solved (at most k rounds): otherwise the step length would be zero.
                var solved: [Double]? = nil
                for _ in 0..<k {
                    let free = (0..<k).filter { !out.fixed[$0] }
                    guard let solve = NewtonStep.solve(system.submatrix(free), free.map { gradient[$0] }) else { break }
                    ridgeUsed = max(ridgeUsed, solve.ridge)
                    var step = [Double](repeating: 0, count: k)
                    for (b, a) in free.enumerated() { step[a] = solve.step[b] }
                    let outward = free.filter { (beta[$0] <= lower[$0] && step[$0] < 0) || (beta[$0] >= upper[$0] && step[$0] > 0) }
                    solved = step
                    if outward.isEmpty { break }
                    for a in outward { out.fixed[a] = true }
                    solved = nil
                }
                guard let step = solved else { return nil }
                delta = step
                // Stop at the first bound the step would cross; that term is held next iteration.
                for a in (0..<k) where !out.fixed[a] && delta[a] != 0 {
                    let room = delta[a] > 0 ? (upper[a] - beta[a]) / delta[a] : (lower[a] - beta[a]) / delta[a]
                    stepLimit = min(stepLimit, max(0, room))
                }
            } else {
                guard let solve = NewtonStep.solve(system, gradient) else { return nil }
                ridgeUsed = solve.ridge
                delta = solve.step
            }
            let decrement = zip(gradient, delta).reduce(0) { $0 + $1.0 * $1.1 }
            return (objective, delta, stepLimit, decrement, ridgeUsed)
        }

        /// Firth's decrement gᵀI⁻¹g at the β of a trial pass (the latest pass, whose η the modified
        /// score reads); nil when I is not positive definite there.
        func firthDecrement(_ sums: PassSums) -> Double? {
            guard let score = firthScore, let (_, factor) = FirthAdjustment.halfLogDet(sums.information) else { return nil }
            let g = score(sums.gradient, factor)
            guard let solve = NewtonStep.solve(sums.information, g) else { return nil }
            return zip(g, solve.step).reduce(0) { $0 + $1.0 * $1.1 }
        }

        /// Takes the sums of a full pass at the current β (replacing a sampled information by the
        /// exact one) and ends the sampled phase.
        func adoptExact(_ sums: PassSums) {
            deviance = sums.deviance
            plainGradient = sums.gradient
            info = sums.information
            infoIsExact = true
            sampling = false
            lastPassAtBeta = true
        }

        for iteration in 1...max(1, options.maxIterations) {
            let started = DispatchTime.now().uptimeNanoseconds
            out.iterations = iteration
            var solved = direction()
            if solved == nil && !infoIsExact {
                // A sampled H the solve could not factor: retry with the exact one.
                adoptExact(try evaluate(beta, .derivatives, 0))
                solved = direction()
            }
            guard var step = solved else { break }
            // 3. Converged when the gain in log-likelihood a Newton step predicts, gᵀH⁻¹g/2, is
            //    below the rounding of ℓ itself. The step is still taken (its error is quadratic in
            //    an already negligible one) and, as R's glm does, the covariance uses the information
            //    from the start of this last iteration. (A rule on the change in β alone was
            //    rejected: it stops early on flat likelihoods.) Under a sampled H the decrement is
            //    an estimate: the rule is met only once an exact pass at this β confirms it, and a
            //    sampled H that needed a ridge to factor is replaced by the exact one.
            let threshold = { (objective: Double) in options.tolerance * (abs(objective) + 1) }
            if !infoIsExact && (step.decrement / 2 <= threshold(step.objective) || step.ridge > 0) {
                adoptExact(try evaluate(beta, .derivatives, 0))
                guard let exact = direction() else { break }
                step = exact
            }
            out.information = info
            out.ridgeUsed = max(out.ridgeUsed, step.ridge)
            let (objective, delta, stepLimit, decrement) = (step.objective, step.delta, step.stepLimit, step.decrement)
            out.lastDecrement = decrement
            if decrement / 2 <= threshold(objective) {
                out.converged = true
                out.metStoppingRule = true
                beta = bounds.clamp(zip(beta, delta).map { $0 + stepLimit * $1 })
                lastPassAtBeta = false
                out.history.append(IterationRecord(iteration: iteration, deviance: deviance, decrement: decrement,
                                                   stepSize: 1, halvings: 0,
                                                   seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
                break
            }
            // 4. Backtracking line search on the objective (−ℓ, plus the ridge, minus Firth's ½·log|I|),
            //    with slack for rounding near the optimum. Each trial is a full pass, so the accepted
            //    one already holds the next derivatives. Firth's modified-score step is not a Newton
            //    step of its objective (I is not that objective's Hessian) and can overshoot, full
            //    steps then oscillating between two points; the search makes every accepted step
            //    lower the penalised objective. Once the gain a step predicts is within 10⁵ times
            //    the objective's rounding of ℓ, the objective can no longer judge a step (the Armijo
            //    margin is below that, and ½·log|I| of an ill-conditioned I is noisier still: 5e-9
            //    on mlc_churn's first 500 rows): a Firth step is then accepted when it shrinks the
            //    decrement gᵀI⁻¹g by a tenth and raises the objective by no more than 10⁻⁶ of it.
            //    Full steps can cycle there (I⁻¹ times the penalised Hessian has an eigenvalue near 2
            //    along a level with one or two rows); half steps then converge.
            let slack = 64 * Double.ulpOfOne * (abs(objective) + 1)
            let judgeByDecrement = options.firth && !bounded && ridge == nil && decrement / 2 <= 1e5 * slack
            var t = stepLimit, halvings = 0
            var accepted: (beta: [Double], sums: PassSums)? = nil

            // In the linear phase each sampled step shrinks the decrement by a near-constant ratio;
            // when the last ratio predicts the next decrement meets the rule with a margin of 4,
            // the trial pass is the exact one (saving a sampled pass). A wrong guess only costs an
            // exact iteration more: the rule is still checked on the exact decrement there.
            var mode: PassMode = sampling ? .sampledDerivatives : .derivatives
            if sampling, let previous = previousSampledDecrement, previous > 0,
               decrement * min(1, decrement / previous) / 2 <= threshold(objective) / 4 {
                mode = .derivatives
            }
            if !infoIsExact { out.sampledIterations += 1 }
            while accepted == nil && halvings <= options.maxHalvings {
                // Clamped so rounding cannot leave a term a hair outside its bound.
                let trialBeta = bounds.clamp(zip(beta, delta).map { $0 + t * $1 })
                let sums = try evaluate(trialBeta, mode, nextBucket)
                lastPassAtBeta = false
                var trial = sums.deviance / 2 + penalty(trialBeta)
                if options.firth {
                    guard let (halfLogDet, _) = FirthAdjustment.halfLogDet(sums.information) else { t /= 2; halvings += 1; continue }
                    trial -= halfLogDet
                }
                let lowers = judgeByDecrement
                    ? trial <= objective + 1e-6 * (abs(objective) + 1) && (firthDecrement(sums).map { $0 <= 0.9 * decrement } ?? false)
                    : trial <= objective - 1e-4 * t * decrement + slack
                if lowers {
                    accepted = (trialBeta, sums)
                } else {
                    t /= 2
                    halvings += 1
                }
            }
            if sampling { previousSampledDecrement = accepted != nil && t == 1 ? decrement : nil }
            if let (trialBeta, sums) = accepted {
                beta = trialBeta
                deviance = sums.deviance
                plainGradient = sums.gradient
                if restartsWindow(decrement: decrement * t * t, terms: k) { window.restart() }
                info = information(sums)
                infoIsExact = sums.isExact
                if infoIsExact { sampling = false }
                out.information = info
                lastPassAtBeta = true
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            out.history.append(IterationRecord(iteration: iteration, deviance: deviance, decrement: decrement,
                                               stepSize: accepted != nil ? t : 0, halvings: halvings, seconds: seconds))
            if accepted == nil {
                // Under a sampled H: take the exact one at β and go on.
                if !infoIsExact { adoptExact(try evaluate(beta, .derivatives, 0)); continue }
                // No descent is possible in floating point: converged if the decrement is already at
                // the precision floor, otherwise report a failure rather than loop.
                out.converged = decrement / 2 <= Double.ulpOfOne.squareRoot() * (abs(objective) + 1)
                break
            }
        }
        out.beta = beta
        out.deviance = deviance
        if lastPassAtBeta { out.atBeta = (deviance, plainGradient) }
        return out
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
