import Foundation

/// One quadratic model of the elastic-net objective, minimised: coordinate descent finds its support,
/// a Cholesky solve on that support finishes it (both within the box constraints when there are any).
extension PenalizedEngine {
    /// Box constraints on the working-set coordinates of a quadratic model (standardised scale).
    struct Box {
        var lower: [Double]
        var upper: [Double]
        func project(_ v: Double, _ i: Int) -> Double { min(max(v, lower[i]), upper[i]) }
        func atBound(_ v: Double, _ i: Int) -> Bool { v <= lower[i] || v >= upper[i] }
    }

    /// Minimises the penalised quadratic model of F at b (arrays indexed by working-set position)
    ///   q(z) = gᵀ(z − b) + ½(z − b)ᵀH(z − b) + Σⱼ l1ⱼ·|zⱼ|,   within `box` when given (b is in it).
    /// Coordinate descent finds the model's support; on it `finish` solves the model exactly. If
    /// the support was wrong the finish improves z and coordinate descent resumes from there.
    static func minimiseModel(h: SymmetricMatrix, gradient g: [Double], start b: [Double], l1: [Double], box: Box? = nil,
                              tolerance: Double, maxSweeps: Int, kktTolerance: Double) -> [Double] {
        var z = b
        // Stopping rule: an exact finish, or coordinate descent that could not be finished,
        // or `maxFinishes` attempts (each one changes the support).
        let maxFinishes = 10
        for _ in 0..<maxFinishes {
            z = coordinateDescent(h: h, gradient: g, start: b, from: z, l1: l1, box: box, tolerance: tolerance, maxSweeps: maxSweeps)
            switch finish(h: h, gradient: g, start: b, l1: l1, box: box, approximate: z, tolerance: kktTolerance) {
            case .exact(let exact): return exact
            case .improved(let better): z = better
            case .failed: return z
            }
        }
        return z
    }

    /// Cyclic coordinate descent on q from z. Covariance updates: the model gradient
    /// G = g + H(z − b) is kept current, so a coordinate costs O(k), not a pass over the rows.
    /// A coordinate's exact minimiser is the soft-thresholded Newton point; with a box, that point
    /// clamped into [lⱼ, uⱼ] (q restricted to the coordinate is a convex parabola plus l1ⱼ·|zⱼ|, so
    /// the constrained minimiser is the nearest feasible point to the unconstrained one).
    static func coordinateDescent(h: SymmetricMatrix, gradient g: [Double], start b: [Double], from z0: [Double],
                                  l1: [Double], box: Box? = nil, tolerance: Double, maxSweeps: Int) -> [Double] {
        let k = g.count
        var z = z0
        var G = g
        var sweeps = 0
        let boxed = box != nil
        let lo = box?.lower ?? [], hi = box?.upper ?? []
        h.storage.withUnsafeBufferPointer { hb in
            let H = hb.baseAddress!
            z.withUnsafeMutableBufferPointer { zb in
                G.withUnsafeMutableBufferPointer { Gb in
                    /// One sweep; returns the largest Hⱼⱼ·Δzⱼ² (what a move changed the model by, to first order).
                    func sweep(nonzeroOnly: Bool) -> Double {
                        var largest = 0.0
                        for j in 0..<k {
                            if nonzeroOnly && zb[j] == 0 && l1[j] > 0 { continue }
                            let hjj = H[j * k + j]
                            guard hjj > 0 else { continue }
                            let a = hjj * zb[j] - Gb[j]
                            var zNew = (a > l1[j] ? a - l1[j] : a < -l1[j] ? a + l1[j] : 0) / hjj
                            if boxed { zNew = min(max(zNew, lo[j]), hi[j]) }
                            let delta = zNew - zb[j]
                            if delta == 0 { continue }
                            zb[j] = zNew
                            let column = H + j * k
                            for i in 0..<k { Gb[i] += delta * column[i] }
                            largest = max(largest, hjj * delta * delta)
                        }
                        return largest
                    }
                    // Stopping rule: a full sweep in which no move changed the model by more than
                    // `tolerance`, or `maxSweeps` sweeps. Between full sweeps, cycle over the nonzero
                    // coordinates alone until they settle by the same rule: the support rarely changes.
                    while sweeps < maxSweeps {
                        // Refresh G from scratch so rounding from many rank-one updates does not build up.
                        for i in 0..<k {
                            var s = g[i]
                            for j in 0..<k where zb[j] != b[j] { s += H[j * k + i] * (zb[j] - b[j]) }
                            Gb[i] = s
                        }
                        sweeps += 1
                        if sweep(nonzeroOnly: false) <= tolerance { break }
                        while sweeps < maxSweeps {
                            sweeps += 1
                            if sweep(nonzeroOnly: true) <= tolerance { break }
                        }
                    }
                }
            }
        }
        return z
    }

    enum Finish {
        /// The model's exact minimiser.
        case exact([Double])
        /// A better point on a smaller support; coordinate descent should go on from it.
        case improved([Double])
        case failed
    }

    /// Coordinate descent crawls along nearly collinear directions, but it finds the model's support
    /// long before its values. With the support A and the signs s fixed, q is a plain quadratic,
    /// minimised by one Cholesky solve: H_AA·z_A = (H b)_A − g_A − l1_A∘s_A. Walking from z towards
    /// that point lowers q (it is convex and equals the sign-fixed quadratic inside the orthant);
    /// if a penalised coordinate would change sign, stop where it reaches zero, drop it, and solve
    /// again (each pass drops at least one term). Exact when no sign changes and every term outside
    /// A is inside its subgradient bound (within `tolerance`).
    ///
    /// With a box, a term at a bound is held there like a zero (it leaves A, and a held value F ≠ 0
    /// enters the solve as −H_AF·z_F), and the walk also stops where a term reaches its bound, which
    /// then holds it. The exactness test asks of a held term only whether q falls moving it inward.
    static func finish(h: SymmetricMatrix, gradient g: [Double], start b: [Double], l1: [Double], box: Box? = nil,
                       approximate: [Double], tolerance: Double) -> Finish {
        let k = g.count
        var z = approximate
        var hb = [Double](repeating: 0, count: k)
        for i in 0..<k { for j in 0..<k where b[j] != 0 { hb[i] += h[i, j] * b[j] } }
        /// The model's KKT test on the terms outside the support (z is the candidate).
        func exactOutside(_ inSupport: [Bool]) -> Bool {
            for j in 0..<k where !inSupport[j] {
                var modelGradient = g[j]
                for i in 0..<k where z[i] != b[i] { modelGradient += h[j, i] * (z[i] - b[i]) }
                let r = box.map { Self.violation(gradient: modelGradient, at: z[j], l1: l1[j], lower: $0.lower[j], upper: $0.upper[j]) }
                    ?? (abs(modelGradient) - l1[j])
                if r > tolerance { return false }
            }
            return true
        }
        // Stopping rule: no sign change (then exact, or handed back to coordinate descent), or a failed
        // factorisation; every other pass drops a term from the support, so there are at most k + 1.
        for _ in 0...k {
            let support = (0..<k).filter { (z[$0] != 0 || l1[$0] == 0) && !(box?.atBound(z[$0], $0) ?? false) }
            guard !support.isEmpty else {
                guard box != nil else { return .improved(z) }
                return exactOutside([Bool](repeating: false, count: k)) ? .exact(z) : .improved(z)
            }
            var factor = h.submatrix(support)
            guard LAPACK.potrf(&factor) == 0 else { return .failed }
            var target = support.map { i in hb[i] - g[i] - (l1[i] == 0 ? 0 : z[i] > 0 ? l1[i] : -l1[i]) }
            var inSupport = [Bool](repeating: false, count: k)
            for i in support { inSupport[i] = true }
            if box != nil {
                // Terms held at a nonzero bound.
                for (a, i) in support.enumerated() {
                    for j in 0..<k where !inSupport[j] && z[j] != 0 { target[a] -= h[i, j] * z[j] }
                }
            }
            LAPACK.potrs(factor, &target)
            guard target.allSatisfy({ $0.isFinite }) else { return .failed }
            // The first penalised coordinate to reach zero (or, with a box, any coordinate to reach its
            // bound) on the way from z to the target, with the value it stops at.
            var reach = 1.0
            var blocking: [(term: Int, value: Double)] = []
            for (a, i) in support.enumerated() where l1[i] > 0 && (target[a] > 0) != (z[i] > 0) {
                let t = z[i] / (z[i] - target[a])
                if t < reach { reach = t; blocking = [(i, 0)] } else if t == reach { blocking.append((i, 0)) }
            }
            if let box {
                for (a, i) in support.enumerated() where target[a] > box.upper[i] || target[a] < box.lower[i] {
                    let bound = target[a] > box.upper[i] ? box.upper[i] : box.lower[i]
                    let t = (bound - z[i]) / (target[a] - z[i])
                    if t < reach { reach = t; blocking = [(i, bound)] } else if t == reach { blocking.append((i, bound)) }
                }
            }
            if blocking.isEmpty {
                for (a, i) in support.enumerated() { z[i] = target[a] }
                if box != nil { return exactOutside(inSupport) ? .exact(z) : .improved(z) }
                for j in 0..<k where z[j] == 0 && l1[j] > 0 {
                    var modelGradient = g[j]
                    for i in 0..<k where z[i] != b[i] { modelGradient += h[j, i] * (z[i] - b[i]) }
                    if abs(modelGradient) - l1[j] > tolerance { return .improved(z) }
                }
                return .exact(z)
            }
            for (a, i) in support.enumerated() { z[i] += reach * (target[a] - z[i]) }
            if let box { for i in support { z[i] = box.project(z[i], i) } }
            for (i, value) in blocking { z[i] = value }
        }
        return .improved(z)
    }
}
