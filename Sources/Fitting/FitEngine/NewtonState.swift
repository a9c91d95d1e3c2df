import Foundation

/// What stays fixed while the Newton iterations run: the bounds, the options, Firth's score and the
/// ridge.
struct NewtonData {
    let bounds: StandardisedBounds
    let bounded: Bool
    let options: FitOptions
    let firthScore: (([Double], SymmetricMatrix) -> [Double])?
    let ridge: [Double]?

    init(bounds: StandardisedBounds, options: FitOptions, firthScore: (([Double], SymmetricMatrix) -> [Double])?, ridge: [Double]?) {
        self.bounds = bounds
        self.bounded = bounds.isBounded
        self.options = options
        self.firthScore = firthScore
        self.ridge = ridge
    }

    func penalty(_ beta: [Double]) -> Double { NewtonIterations.ridgePenalty(beta, ridge) }

    /// The rounding of the objective: a predicted gain below it cannot be told from noise.
    func threshold(_ objective: Double) -> Double { options.tolerance * (abs(objective) + 1) }

    /// Converged when the gain in log-likelihood a Newton step predicts, gᵀH⁻¹g/2, is below the
    /// rounding of ℓ itself. The step is still taken (its error is quadratic in an already
    /// negligible one) and, as R's glm does, the covariance uses the information from the start of
    /// this last iteration. (A rule on the change in β alone was rejected: it stops early on flat
    /// likelihoods.)
    func stopsAt(_ step: NewtonDirection) -> Bool { step.decrement / 2 <= threshold(step.objective) }

    /// Firth's decrement gᵀI⁻¹g at the β of a trial pass (the latest pass, whose η the modified
    /// score reads); nil when I is not positive definite there.
    func firthDecrement(_ sums: PassSums) -> Double? {
        guard let score = firthScore, let (_, factor) = FirthAdjustment.halfLogDet(sums.information) else { return nil }
        let g = score(sums.gradient, factor)
        guard let solve = NewtonStep.solve(sums.information, g) else { return nil }
        return zip(g, solve.step).reduce(0) { $0 + $1.0 * $1.1 }
    }
}

/// The Newton direction at the current β: the (Firth/ridge-modified) objective, the step, the
/// longest fraction of it that stays within the bounds, the decrement gᵀH⁻¹g, and the diagonal
/// the Cholesky solve had to add.
struct NewtonDirection {
    var objective: Double
    var delta: [Double]
    var stepLimit: Double
    var decrement: Double
    var ridge: Double
}

/// Where the Newton iterations are: β, the sums of the pass that accepted it, the sampled
/// information's window, and the outcome so far.
struct NewtonState {
    var beta: [Double]
    var deviance: Double
    var plainGradient: [Double]
    var info: SymmetricMatrix
    var infoIsExact: Bool
    /// Trial passes sample XᵀWX until the first exact pass after sampling; then they stay exact.
    var sampling: Bool
    var window = SampledInformation()
    var nextBucket = 0
    /// The last sampled decrement after a full step, to predict the next one.
    var previousSampledDecrement: Double? = nil
    /// Whether the latest pass was at `beta` (so its deviance and gradient describe the result).
    var lastPassAtBeta = true
    var out: NewtonOutcome

    init(start: [Double], first: PassSums, sampled: Bool, options: FitOptions) {
        beta = start
        deviance = first.deviance
        plainGradient = first.gradient
        info = first.information
        infoIsExact = first.isExact
        sampling = sampled
        out = NewtonOutcome(beta: start, atBeta: nil, deviance: first.deviance, information: first.information,
                            fixed: [Bool](repeating: false, count: start.count))
        out.iterationLimit = options.maxIterations
        info = information(first)
        out.information = info
    }

    /// The information of a pass: its own, or the sampled window's estimate.
    mutating func information(_ sums: PassSums) -> SymmetricMatrix {
        guard sums.mode == .sampledDerivatives else { return sums.information }
        nextBucket = (sums.bucket + 1) % RowSample.buckets
        return window.add(sums)
    }

    /// Takes the sums of a full pass at the current β (replacing a sampled information by the
    /// exact one) and ends the sampled phase.
    mutating func adoptExact(_ sums: PassSums) {
        deviance = sums.deviance
        plainGradient = sums.gradient
        info = sums.information
        infoIsExact = true
        sampling = false
        lastPassAtBeta = true
    }

    /// Step 1 at the current β: the gradient, the objective and the Newton direction; nil when no
    /// direction can be solved. With bounds, on the terms not held at a bound by the gradient.
    mutating func direction(_ data: NewtonData) -> NewtonDirection? {
        let k = beta.count
        let lower = data.bounds.lower, upper = data.bounds.upper
        var gradient = plainGradient
        var objective = deviance / 2 + data.penalty(beta)
        var system = info
        if let ridge = data.ridge {
            for a in 0..<k { gradient[a] -= ridge[a] * beta[a]; system[a, a] += ridge[a] }
        }
        if data.options.firth {
            guard let (halfLogDet, factor) = FirthAdjustment.halfLogDet(info), let score = data.firthScore else { return nil }
            gradient = score(plainGradient, factor)
            objective -= halfLogDet
        }
        var delta: [Double]
        var stepLimit = 1.0
        var ridgeUsed = 0.0
        if data.bounded {
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
        return NewtonDirection(objective: objective, delta: delta, stepLimit: stepLimit, decrement: decrement, ridge: ridgeUsed)
    }

    /// Step 2: the direction, computed with the exact information wherever a sampled one could
    /// mislead — when the solve could not factor it, when it needed a ridge, or when its decrement
    /// meets the stopping rule (which only an exact pass at this β may confirm).
    mutating func confirmedDirection(_ data: NewtonData,
                                     evaluate: ([Double], PassMode, Int) throws -> PassSums) rethrows -> NewtonDirection? {
        var solved = direction(data)
        if solved == nil && !infoIsExact {
            adoptExact(try evaluate(beta, .derivatives, 0))
            solved = direction(data)
        }
        guard let step = solved else { return nil }
        if !infoIsExact && (data.stopsAt(step) || step.ridge > 0) {
            adoptExact(try evaluate(beta, .derivatives, 0))
            return direction(data)
        }
        return step
    }

    /// Step 3, converged: the last step is taken in full (within the bounds) without a pass.
    mutating func takeFinalStep(_ step: NewtonDirection, data: NewtonData) {
        out.converged = true
        out.metStoppingRule = true
        beta = data.bounds.clamp(zip(beta, step.delta).map { $0 + step.stepLimit * $1 })
        lastPassAtBeta = false
    }

    /// Step 4: backtracking line search on the objective (−ℓ, plus the ridge, minus Firth's
    /// ½·log|I|), with slack for rounding near the optimum. Each trial is a full pass, so the
    /// accepted one already holds the next derivatives. Firth's modified-score step is not a Newton
    /// step of its objective (I is not that objective's Hessian) and can overshoot, full steps then
    /// oscillating between two points; the search makes every accepted step lower the penalised
    /// objective. Once the gain a step predicts is within 10⁵ times the objective's rounding of ℓ,
    /// the objective can no longer judge a step (the Armijo margin is below that, and ½·log|I| of an
    /// ill-conditioned I is noisier still: 5e-9 on mlc_churn's first 500 rows): a Firth step is then
    /// accepted when it shrinks the decrement gᵀI⁻¹g by a tenth and raises the objective by no more
    /// than 10⁻⁶ of it. Full steps can cycle there (I⁻¹ times the penalised Hessian has an
    /// eigenvalue near 2 along a level with one or two rows); half steps then converge.
    mutating func lineSearch(_ step: NewtonDirection, data: NewtonData,
                             evaluate: ([Double], PassMode, Int) throws -> PassSums) rethrows
        -> (accepted: (beta: [Double], sums: PassSums)?, length: Double, halvings: Int) {
        let (objective, delta, decrement) = (step.objective, step.delta, step.decrement)
        let options = data.options
        let slack = 64 * Double.ulpOfOne * (abs(objective) + 1)
        let judgeByDecrement = options.firth && !data.bounded && data.ridge == nil && decrement / 2 <= 1e5 * slack
        var t = step.stepLimit, halvings = 0
        var accepted: (beta: [Double], sums: PassSums)? = nil

        // In the linear phase each sampled step shrinks the decrement by a near-constant ratio;
        // when the last ratio predicts the next decrement meets the rule with a margin of 4,
        // the trial pass is the exact one (saving a sampled pass). A wrong guess only costs an
        // exact iteration more: the rule is still checked on the exact decrement there.
        var mode: PassMode = sampling ? .sampledDerivatives : .derivatives
        if sampling, let previous = previousSampledDecrement, previous > 0,
           decrement * min(1, decrement / previous) / 2 <= data.threshold(objective) / 4 {
            mode = .derivatives
        }
        if !infoIsExact { out.sampledIterations += 1 }
        while accepted == nil && halvings <= options.maxHalvings {
            // Clamped so rounding cannot leave a term a hair outside its bound.
            let trialBeta = data.bounds.clamp(zip(beta, delta).map { $0 + t * $1 })
            let sums = try evaluate(trialBeta, mode, nextBucket)
            lastPassAtBeta = false
            var trial = sums.deviance / 2 + data.penalty(trialBeta)
            if options.firth {
                guard let (halfLogDet, _) = FirthAdjustment.halfLogDet(sums.information) else { t /= 2; halvings += 1; continue }
                trial -= halfLogDet
            }
            let lowers = judgeByDecrement
                ? trial <= objective + 1e-6 * (abs(objective) + 1) && (data.firthDecrement(sums).map { $0 <= 0.9 * decrement } ?? false)
                : trial <= objective - 1e-4 * t * decrement + slack
            if lowers {
                accepted = (trialBeta, sums)
            } else {
                t /= 2
                halvings += 1
            }
        }
        if sampling { previousSampledDecrement = accepted != nil && t == 1 ? decrement : nil }
        return (accepted, t, halvings)
    }

    /// Moves to the accepted trial point; its pass holds the derivatives of the next iteration.
    mutating func accept(_ accepted: (beta: [Double], sums: PassSums), step: NewtonDirection, length t: Double) {
        beta = accepted.beta
        deviance = accepted.sums.deviance
        plainGradient = accepted.sums.gradient
        if NewtonIterations.restartsWindow(decrement: step.decrement * t * t, terms: beta.count) { window.restart() }
        info = information(accepted.sums)
        infoIsExact = accepted.sums.isExact
        if infoIsExact { sampling = false }
        out.information = info
        lastPassAtBeta = true
    }

    /// The outcome, with the deviance and gradient at β when the last pass was there.
    func finished() -> NewtonOutcome {
        var result = out
        result.beta = beta
        result.deviance = deviance
        if lastPassAtBeta { result.atBeta = (deviance, plainGradient) }
        return result
    }
}
