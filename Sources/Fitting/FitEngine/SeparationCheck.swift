/// Detects when the likelihood has no finite maximum, and which terms drive it there.
///
/// Two views, both reported as design-column indices:
/// - one term at a time, exactly: a term separates when a threshold splits churners from
///   non-churners (ties at the threshold make it quasi-complete);
/// - jointly, after the fit: rows fitted at probability 0 or 1 (within 1e-7) are separated when some
///   direction moves only them, i.e. the remaining rows' design has a null space; the terms loading on
///   it are named. (An exact LP test would be stronger; this catches what Newton can drive to infinity.)
enum SeparationCheck {
    static let perfectFitTolerance = 1e-7

    /// `gram`: c·XᵀX over every row for some c > 0 (the first pass's information without prior
    /// weights), which lets the joint check subtract the few perfectly fitted rows instead of
    /// making another pass over all of them.
    ///
    /// `convergedByRule`: Newton met its stopping rule (the decrement at the rounding of ℓ). A term
    /// that separates, even quasi-completely, has no finite optimum: Newton walks along it until
    /// the separated rows' fitted probabilities are far below the rounding of ℓ, so a fit that met
    /// the rule with no row fitted within `perfectFitTolerance` of 0 or 1 has no separation. More
    /// generally, only the rows at the separating term's tie value can stay fitted away from 0 and
    /// 1, so the per-term check (a pass over the column) runs only for terms that take a single value
    /// on all those rows: on real data, a scan that stops at the second row.
    static func run(design: Matrix, activeTerms: [Int], fitted: [Double], response: [Double],
                    weights: [Double]?, betaStandardised: [Double], gram: SymmetricMatrix? = nil,
                    convergedByRule: Bool = false) -> [FitWarning] {
        let n = design.rows, k = design.cols
        var perfect = [Double](repeating: 1, count: n)
        var perfectCount = 0, usedRows = 0
        for i in 0..<n where (weights?[i] ?? 1) > 0 {
            usedRows += 1
            if min(fitted[i], 1 - fitted[i]) < perfectFitTolerance { perfect[i] = 0; perfectCount += 1 }
        }
        if convergedByRule && perfectCount == 0 { return [] }
        var involved = Set<Int>()
        var strict = false
        var verdicts = [Univariate](repeating: .none, count: k)
        var candidates = Array(1..<max(1, k))
        if convergedByRule {
            let unfitted = (0..<n).lazy.filter { perfect[$0] == 1 && (weights?[$0] ?? 1) > 0 }
            if let first = unfitted.first {
                design.storage.withUnsafeBufferPointer { x in
                    candidates = candidates.filter { a in
                        let col = x.baseAddress! + a * n, tie = col[first]
                        return !unfitted.contains { col[$0] != tie }
                    }
                }
            }
        }
        verdicts.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(Parallel.chunks(candidates.count, minimumChunk: max(1, 1 << 20 / max(n, 1)))) { _, range in
                for c in range { out[candidates[c]] = univariate(design, column: candidates[c], response: response, weights: weights) }
            }
        }
        for a in 1..<max(1, k) {
            switch verdicts[a] {
            case .complete: involved.insert(a); strict = true
            case .quasi: involved.insert(a)
            case .none: break
            }
        }
        var jointlySeparated = false
        if perfectCount > 0 {
            if perfectCount == usedRows {
                jointlySeparated = true
                strict = true
                let slopes = betaStandardised.dropFirst().map(abs)
                let largest = slopes.max() ?? 0
                if involved.isEmpty, largest > 0 {
                    for a in 1..<k where abs(betaStandardised[a]) >= 0.1 * largest { involved.insert(a) }
                }
            } else {
                let nullTerms = nullSpaceTerms(design, keepRows: perfect,
                                               gram: weights == nil && perfectCount * 100 <= n ? gram : nil)
                if !nullTerms.isEmpty {
                    jointlySeparated = true
                    involved.formUnion(nullTerms)
                }
            }
        }
        if involved.isEmpty && !jointlySeparated {
            return perfectCount > 0 ? [.extremeFittedProbabilities(rows: perfectCount)] : []
        }
        let terms = involved.sorted().map { activeTerms[$0] }
        return [.separation(complete: strict, terms: terms, perfectlyPredictedRows: perfectCount)]
    }

    enum Univariate { case none, quasi, complete }

    static func univariate(_ x: Matrix, column a: Int, response: [Double], weights: [Double]?) -> Univariate {
        var extremes = ClassExtremes()
        let n = x.rows
        x.storage.withUnsafeBufferPointer { s in
            response.withUnsafeBufferPointer { y in
                withOptionalPointer(weights) { w in
                    let col = s.baseAddress! + a * n
                    for i in 0..<n { extremes.observe(col[i], y: y[i], weight: w?[i] ?? 1) }
                }
            }
        }
        return extremes.verdict
    }

    /// Each class's smallest and largest value of one column, over the rows with weight.
    struct ClassExtremes {
        var min0 = Double.infinity, max0 = -Double.infinity, min1 = Double.infinity, max1 = -Double.infinity

        /// Branch-free (y is 0/1 at random, a branch on it mispredicts half the time): a row outside
        /// a class, or without weight, offers ±∞ to that class's min and max.
        @inline(__always) mutating func observe(_ v: Double, y: Double, weight: Double) {
            let used = weight > 0
            let one = used && y > 0.5, zero = used && !(y > 0.5)
            let lo1 = one ? v : .infinity, hi1 = one ? v : -.infinity
            let lo0 = zero ? v : .infinity, hi0 = zero ? v : -.infinity
            min1 = lo1 < min1 ? lo1 : min1; max1 = hi1 > max1 ? hi1 : max1
            min0 = lo0 < min0 ? lo0 : min0; max0 = hi0 > max0 ? hi0 : max0
        }

        var verdict: Univariate {
            guard min0.isFinite, min1.isFinite else { return .none }
            if max0 < min1 || max1 < min0 { return .complete }
            if max0 == min1 || max1 == min0 { return .quasi }
            return .none
        }
    }

    /// Terms loading on the null space of the design restricted to rows not fitted perfectly.
    /// With `gram` (c·XᵀX over all rows, intercept column first), the kept rows' Gram is c·XᵀX minus
    /// the dropped rows' outer products: exact up to rounding of order ε·‖XᵀX‖, far below the 1e-11
    /// relative cut when the dropped rows are few (the caller passes it only below 1% of the rows).
    static func nullSpaceTerms(_ x: Matrix, keepRows: [Double], gram full: SymmetricMatrix? = nil) -> [Int] {
        let gram: SymmetricMatrix
        if let full, full.order == x.cols, full[0, 0] > 0 {
            let n = x.rows, k = x.cols
            let c = full[0, 0] / Double(n)
            var g = full
            x.storage.withUnsafeBufferPointer { xb in
                for i in 0..<n where keepRows[i] == 0 {
                    for b in 0..<k {
                        let xb_i = xb[b * n + i] * c
                        for a in b..<k { g[a, b] -= xb[a * n + i] * xb_i }
                    }
                }
            }
            g.symmetrizeFromLower()
            gram = g
        } else {
            let kernels = DesignKernels(rows: x.rows, cols: x.cols)
            gram = x.storage.withUnsafeBufferPointer { xb in
                keepRows.withUnsafeBufferPointer { kernels.weightedGram(xb.baseAddress!, sqrtWeights: $0.baseAddress!) }
            }
        }
        guard let eig = LAPACK.syevd(gram), let top = eig.values.last, top > 0 else { return [] }
        var loading = [Double](repeating: 0, count: x.cols)
        var any = false
        for (c, lambda) in eig.values.enumerated() where lambda <= 1e-11 * top {
            any = true
            for j in 0..<x.cols { loading[j] += eig.vectors[j, c] * eig.vectors[j, c] }
        }
        guard any else { return [] }
        return (1..<x.cols).filter { loading[$0] >= 0.01 }
    }
}
