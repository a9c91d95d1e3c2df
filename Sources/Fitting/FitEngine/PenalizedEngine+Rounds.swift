import Foundation

/// The rounds of the elastic-net solver (see ElasticNet.swift): the null fit and λmax, proximal Newton
/// with its KKT check, the polish on a fixed active set, and the result on the original scale.
extension PenalizedEngine {
    /// The fit with only the intercept and the unpenalised terms: where every path starts, and
    /// where λmax is read. With bounds, penalised slopes sit at the point of their box nearest 0 (where
    /// they go as λ → ∞) and the unpenalised terms are fitted within their boxes.
    func nullFit(options: ElasticNetOptions) -> (beta: [Double], point: Point) {
        var beta = interceptOnlyStart()
        if bounded { for j in 1..<p where usable[j] { beta[j] = project(0, j) } }
        let free = (0..<p).map { usable[$0] && factors[$0] == 0 }
        let weights = penaltyWeights(lambda: 0, alpha: 1)
        var polished = polish(beta: &beta, allowed: free, weights: weights, options: options)
        // The polish re-examines held terms at every step; another pass only picks up one it held
        // because its Newton step pointed outward until the others settled.
        if bounded {
            for _ in 1..<max(1, options.maxRounds) {
                let settled = (0..<p).allSatisfy { j in
                    !free[j] || !(Self.violation(gradient: polished.point.gradient[j], at: beta[j], l1: 0,
                                                 lower: lower[j], upper: upper[j]) > options.kktTolerance)
                }
                if settled { break }
                polished = polish(beta: &beta, allowed: free, weights: weights, options: options)
            }
        }
        return (beta, polished.point)
    }

    /// logit(ȳ) and zero slopes: the null fit when every slope is penalised and free.
    func interceptOnlyStart() -> [Double] {
        let events = rowWeights.map { v in zip(v, y).reduce(0.0) { $0 + $1.0 * $1.1 } } ?? y.reduce(0, +)
        let mean = min(max(events / weightSum, 1e-12), 1 - 1e-12)
        var beta = [Double](repeating: 0, count: p)
        beta[0] = log(mean / (1 - mean))
        return beta
    }

    /// λmax from the loss gradient and β̃ at the null fit (see `ElasticNet.lambdaMax`).
    func lambdaMax(gradient: [Double], beta: [Double], alpha: Double) -> Double {
        let a = max(alpha, 1e-3)
        var top = 0.0
        for j in 1..<max(1, p) where usable[j] && factors[j] > 0 {
            guard bounded else { top = max(top, abs(gradient[j]) / (a * factors[j])); continue }
            // How fast the loss falls moving the slope the way its box allows, against how fast the
            // penalty rises that way per unit of λ (α·pf at 0; α·pf + (1 − α)·pf·|b̃| at a bound b̃ ≠ 0).
            let g = gradient[j], b = beta[j]
            var pull = 0.0
            if b < upper[j] { pull = max(pull, -g) }
            if b > lower[j] { pull = max(pull, g) }
            let resistance = b == 0 ? a * factors[j] : factors[j] * (a + (1 - a) * abs(b))
            top = max(top, pull / resistance)
        }
        return top
    }

    /// Rounds of coordinate descent, Newton polish and a KKT check, from `beta` (standardised scale).
    /// `working`: the terms coordinate descent may move at first; it grows with KKT violators.
    func solve(beta: inout [Double], weights w: Weights, working initial: [Bool], options: ElasticNetOptions) -> Outcome {
        var working = initial
        let hasL1 = (0..<p).contains { usable[$0] && w.l1[$0] > 0 }
        var iterations = 0
        var rounds = 0
        var point: Point
        var violated: Bool
        // Stopping rule: a round ends with no inactive term outside its subgradient bound (beyond the
        // tolerance), or `maxRounds` rounds have run.
        // Bounds: coordinate descent also runs for ridge, since it is what moves a term off a bound.
        repeat {
            rounds += 1
            if hasL1 || bounded { iterations += coordinatePhase(beta: &beta, working: &working, weights: w, options: options) }
            let polished = polish(beta: &beta, allowed: usable, weights: w, options: options)
            iterations += polished.iterations
            point = polished.point
            violated = false
            for j in 0..<p where usable[j] {
                let g = point.gradient[j]
                let outside: Bool
                if bounded && atBound(beta[j], j) {
                    outside = Self.violation(gradient: g, at: beta[j], l1: w.l1[j], lower: lower[j], upper: upper[j]) > options.kktTolerance
                } else {
                    outside = beta[j] == 0 && w.l1[j] > 0 && abs(g) - w.l1[j] > options.kktTolerance
                }
                if outside {
                    working[j] = true
                    violated = true
                }
            }
        } while violated && rounds < options.maxRounds
        let kkt = kktResidual(point.gradient, beta, w)
        let binding = !bounded ? [] : (0..<p).filter { j in
            usable[j] && atBound(beta[j], j)
                && Self.boundMultiplier(gradient: point.gradient[j], at: beta[j], l1: w.l1[j],
                                        lower: lower[j], upper: upper[j]) > options.bindingTolerance
        }
        return Outcome(point: point, iterations: iterations, kkt: kkt, converged: kkt <= options.kktTolerance, binding: binding)
    }

    func kktResidual(_ gradient: [Double], _ beta: [Double], _ w: Weights) -> Double {
        var worst = 0.0
        for j in 0..<p where usable[j] {
            let r = Self.violation(gradient: gradient[j], at: beta[j], l1: w.l1[j], lower: lower[j], upper: upper[j])
            worst = max(worst, r.isNaN ? .infinity : r)
        }
        return worst
    }

    /// One term's KKT residual for F = f + l1·|b| on the box [lo, hi], from g = ∂f/∂b.
    /// Inside the box: |g| (l1 = 0), max(0, |g| − l1) at b = 0, |g + l1·sign(b)| otherwise.
    /// At a bound only the directions the box allows count: the residual is how fast F falls along
    /// the better of them, 0 if neither lowers F. F's one-sided slopes at b are g + l1 (b ≥ 0) or
    /// g − l1 (b < 0) moving up, and −g − l1 (b > 0) or −g + l1 (b ≤ 0) moving down. So at an upper
    /// bound u the residual is max(0, g + l1) for u > 0 and max(0, g − l1) for u ≤ 0 (at u = 0 the
    /// term may go negative only if g exceeds the L1 threshold); at a lower bound l it is
    /// max(0, −g − l1) for l ≥ 0 and max(0, l1 − g) for l < 0. NaN when g is.
    static func violation(gradient g: Double, at b: Double, l1: Double, lower lo: Double, upper hi: Double) -> Double {
        let atLower = b <= lo, atUpper = b >= hi
        if !atLower && !atUpper {
            if l1 == 0 { return abs(g) }
            if b == 0 { return max(0, abs(g) - l1) }
            return abs(g + (b > 0 ? l1 : -l1))
        }
        if g.isNaN { return .nan }
        var worst = 0.0
        if !atUpper { worst = max(worst, -(g + (b < 0 ? -l1 : l1))) }   // −(slope moving up)
        if !atLower { worst = max(worst, g + (b > 0 ? l1 : -l1)) }      // −(slope moving down)
        return worst
    }

    /// The multiplier of the bound a term sits at: how fast F would fall moving it past the bound
    /// (0 when the fit does not push against it, e.g. a term at a bound of 0 that the L1 penalty
    /// alone holds there: |g| ≤ l1).
    static func boundMultiplier(gradient g: Double, at b: Double, l1: Double, lower lo: Double, upper hi: Double) -> Double {
        var m = 0.0
        if b >= hi { m = max(m, -(g + (b < 0 ? -l1 : l1))) }
        if b <= lo { m = max(m, g + (b > 0 ? l1 : -l1)) }
        return m
    }

    /// Proximal Newton, glmnet's IRLS: at β, minimise the quadratic model of the smooth part plus the
    /// exact L1 term by coordinate descent over the working set, then backtrack along the step until
    /// F falls (Armijo). Returns the iterations taken.
    private func coordinatePhase(beta: inout [Double], working: inout [Bool], weights w: Weights,
                                 options: ElasticNetOptions) -> Int {
        var iterations = 0
        // Stopping rules (besides `maxOuterIterations`): β already meets the KKT conditions, the model
        // predicts no decrease, the line search cannot find one, or the predicted decrease is below
        // outerTolerance·(|F| + 1).
        while iterations < options.maxOuterIterations {
            let point = evaluate(beta, w)
            if kktResidual(point.gradient, beta, w) <= options.kktTolerance { break }
            iterations += 1
            let scale = abs(point.objective) + 1
            // Any term outside its subgradient bound here joins the working set (with bounds: any term
            // that could lower F moving the way its box allows).
            for j in 0..<p where usable[j] && !working[j] {
                let outside = bounded
                    ? Self.violation(gradient: point.gradient[j], at: beta[j], l1: w.l1[j], lower: lower[j], upper: upper[j]) > options.kktTolerance
                    : abs(point.gradient[j]) - w.l1[j] > options.kktTolerance
                if outside { working[j] = true }
            }
            let set = (0..<p).filter { working[$0] && usable[$0] }
            let h = hessian(set, w)
            let g = set.map { point.gradient[$0] }, b = set.map { beta[$0] }, l1 = set.map { w.l1[$0] }
            let box = bounded ? Box(lower: set.map { lower[$0] }, upper: set.map { upper[$0] }) : nil
            let z = Self.minimiseModel(h: h, gradient: g, start: b, l1: l1, box: box,
                                       tolerance: options.coordinateTolerance * scale, maxSweeps: options.maxSweeps,
                                       kktTolerance: options.kktTolerance)
            var d = [Double](repeating: 0, count: p)
            // Δ = gᵀd + Σ l1(|z| − |b|) bounds the slope of F along d from above (it is ≤ −dᵀHd < 0).
            var predicted = 0.0
            for (a, j) in set.enumerated() {
                d[j] = z[a] - b[a]
                predicted += g[a] * d[j] + l1[a] * (abs(z[a]) - abs(b[a]))
            }
            guard predicted < 0 else { break }
            setDirection(d)
            let slack = 64 * Double.ulpOfOne * scale
            var t = 1.0, accepted = false
            // Armijo: the first t = 1, ½, ¼, … with a sufficient decrease (slack for rounding near the
            // optimum); 30 halvings without one end the phase.
            for _ in 0...30 {
                if trialObjective(beta, d, step: t, w) <= point.objective + 1e-4 * t * predicted + slack { accepted = true; break }
                t /= 2
            }
            guard accepted else { break }
            // A full step lands exactly on the model's minimiser, zeros (and bounds) included; a partial
            // one stays in the box (convex), up to rounding, which the projection removes.
            for (a, j) in set.enumerated() { beta[j] = t == 1 ? z[a] : beta[j] + t * d[j] }
            if bounded && t != 1 { for j in set { beta[j] = project(beta[j], j) } }
            if -predicted <= options.outerTolerance * scale { break }
        }
        return iterations
    }

    /// Newton's method on the smooth problem left when the active set and the signs of its slopes
    /// are fixed: minimise f(β_A) + Σ_A λα·pfⱼ·sign(βⱼ)·βⱼ, with a Cholesky solve of the Hessian on A.
    /// A = the `allowed` terms that are unpenalised by L1 or nonzero. A step that would flip the sign
    /// of an active slope is cut where it reaches zero and that slope leaves A: the sign-fixed
    /// objective equals F only inside the orthant.
    ///
    /// With bounds, a term at a bound is held there (left out of A) unless F falls as it moves inward;
    /// one let in whose Newton step still points outward is held too and the step re-solved (as in
    /// the unpenalised active-set Newton). A step is cut where a term reaches its bound, which then
    /// holds it, so every iterate stays in the box.
    func polish(beta: inout [Double], allowed: [Bool], weights w: Weights,
                options: ElasticNetOptions) -> (iterations: Int, point: Point) {
        var iterations = 0
        var point = evaluate(beta, w)
        var previousResidual = Double.infinity
        var unguarded = false
        while true {
            var active = (0..<p).filter { allowed[$0] && (w.l1[$0] == 0 || beta[$0] != 0) }
            var r = active.map { j in point.gradient[j] + (w.l1[j] == 0 ? 0 : beta[j] > 0 ? w.l1[j] : -w.l1[j]) }
            if bounded {
                // rₐ is F's slope along +eⱼ (inside the orthant): at an upper bound F falls inward iff r > 0,
                // at a lower bound iff r < 0.
                let keep = active.indices.filter { a in
                    let j = active[a]
                    return !(beta[j] >= upper[j] && !(r[a] > 0)) && !(beta[j] <= lower[j] && !(r[a] < 0))
                }
                if keep.count < active.count {
                    active = keep.map { active[$0] }
                    r = keep.map { r[$0] }
                }
            }
            let residual = r.reduce(0.0) { max($0, abs($1)) }
            // Stopping rules: (1) the KKT residual on A is below `polishTolerance`; (2) a full Newton
            // step taken inside the rounding region of F did not halve it: the floating-point floor;
            // (3) `maxPolishIterations`.
            if residual <= options.polishTolerance || !residual.isFinite { break }
            if unguarded && residual > previousResidual / 2 { break }
            if iterations >= options.maxPolishIterations { break }
            iterations += 1
            let h = hessian(active, w)
            guard let solution = NewtonStep.solve(h, r) else { break }
            var delta = solution.step.map { -$0 }
            if bounded {
                // A term let off its bound whose step points outward is held, and the step re-solved
                // without it. rᵀδ < 0 for any positive definite solve, so some term always stays.
                var free = Array(active.indices)
                var solved = true
                for _ in 0..<active.count {
                    let outward = Set(free.indices.filter { c in
                        let j = active[free[c]]
                        return (beta[j] >= upper[j] && delta[c] > 0) || (beta[j] <= lower[j] && delta[c] < 0)
                    })
                    if outward.isEmpty { break }
                    free = free.indices.filter { !outward.contains($0) }.map { free[$0] }
                    guard !free.isEmpty, let again = NewtonStep.solve(h.submatrix(free), free.map { r[$0] }) else { solved = false; break }
                    delta = again.step.map { -$0 }
                }
                guard solved else { break }
                if free.count < active.count {
                    active = free.map { active[$0] }
                    r = free.map { r[$0] }
                }
            }
            var decrement = 0.0
            for a in 0..<active.count { decrement -= r[a] * delta[a] }
            // Orthant cap: the first active slope to reach zero along δ blocks the step there (with
            // bounds, so does the first term to reach its bound, at the bound).
            var tMax = 1.0
            var blocking: [(term: Int, value: Double)] = []
            for (a, j) in active.enumerated() where w.l1[j] > 0 && beta[j] * delta[a] < 0 {
                let reach = -beta[j] / delta[a]
                if reach < tMax { tMax = reach; blocking = [(j, 0)] } else if reach == tMax && tMax < 1 { blocking.append((j, 0)) }
            }
            if bounded {
                for (a, j) in active.enumerated() where delta[a] != 0 {
                    let bound = delta[a] > 0 ? upper[j] : lower[j]
                    guard bound.isFinite else { continue }
                    let reach = (bound - beta[j]) / delta[a]
                    if reach < tMax { tMax = reach; blocking = [(j, bound)] } else if reach == tMax && tMax < 1 { blocking.append((j, bound)) }
                }
            }
            var d = [Double](repeating: 0, count: p)
            for (a, j) in active.enumerated() { d[j] = delta[a] }
            let scale = abs(point.objective) + 1
            var t = tMax
            // Within a thousand roundings of F the Armijo test only sees noise, and Newton is in its
            // quadratic region: take the step as it is and let rule (2) judge it.
            let inRoundingRegion = decrement / 2 <= 1e3 * Double.ulpOfOne * scale
            unguarded = inRoundingRegion && tMax == 1
            if !inRoundingRegion {
                setDirection(d)
                let slack = 64 * Double.ulpOfOne * scale
                var accepted = false
                // Armijo from the orthant cap down, as in the coordinate phase; 30 halvings without a
                // decrease end the polish.
                for _ in 0...30 {
                    if trialObjective(beta, d, step: t, w) <= point.objective - 1e-4 * t * decrement + slack { accepted = true; break }
                    t /= 2
                }
                guard accepted else { break }
            }
            previousResidual = residual
            for (a, j) in active.enumerated() {
                let moved = beta[j] + t * delta[a]
                // A penalised slope that reached (or, by rounding, crossed) zero leaves A at exactly 0.
                beta[j] = w.l1[j] > 0 && (moved > 0) != (beta[j] > 0) ? 0 : moved
                if bounded { beta[j] = project(beta[j], j) }
            }
            if t == tMax && tMax < 1 { for (j, value) in blocking { beta[j] = value } }
            point = evaluate(beta, w)
        }
        return (iterations, point)
    }

    func result(beta: [Double], outcome: Outcome, weights w: Weights, termNames: [String]) -> PenalizedFit {
        var original = scaling.toOriginalScale(beta: beta, covariance: nil, active: Array(0..<p)).beta
        for j in 1..<max(1, p) {
            if usable[j] {
                // A slope held at a bound is reported exactly at it, not at (uⱼ·sⱼ)/sⱼ.
                guard bounded else { continue }
                if beta[j] <= lower[j] { original[j] = originalLower[j] } else if beta[j] >= upper[j] { original[j] = originalUpper[j] }
            } else {
                // A constant column cannot move the fit; if its box excludes 0 it sits at the bound
                // nearest 0 and the intercept absorbs its constant value times that.
                let v = min(max(0, originalLower[j]), originalUpper[j])
                if v != 0 { original[j] = v; original[0] -= scaling.means[j] * v }
            }
        }
        return PenalizedFit(termNames: termNames, coefficients: original, alpha: w.alpha, lambda: w.lambda,
                            objective: outcome.point.objective, iterations: outcome.iterations,
                            converged: outcome.converged, kktViolation: outcome.kkt,
                            deviance: 2 * weightSum * outcome.point.loss,
                            nonZero: (1..<max(1, p)).filter { beta[$0] != 0 }.count,
                            bindingTerms: outcome.binding)
    }
}
