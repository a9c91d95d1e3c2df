/// The steps before and after the Newton iterations that both solvers share: the active set from
/// the first information, the covariance of the free terms, and the fit on the original scale.
struct ActiveTerms {
    var active: [Int]
    var aliased: [Int]
    var inflation: [(Int, Double)]

    /// At the start every weight is v·ȳ(1 − ȳ), so the first information is a multiple of XᵀVX of
    /// the centred columns: rank detection reads it, and scaled to unit diagonal it is their
    /// correlation matrix, whose inverse diagonal is the VIF.
    init(firstInformation: SymmetricMatrix, constantColumns: [Int], tolerance: Double) {
        let p = firstInformation.order
        let candidate = (0..<p).filter { !constantColumns.contains($0) }
        let rankCheck = RankDetection.detect(gram: firstInformation, columns: candidate, tolerance: tolerance)
        aliased = (constantColumns + rankCheck.aliased).sorted()
        active = rankCheck.kept
        inflation = VarianceInflation.compute(gram: firstInformation, columns: Array(active.dropFirst()))
    }

    /// The first pass's sums restricted to the active terms, for the first Newton iteration.
    func restrict(_ sums: PassSums) -> PassSums {
        let all = sums.gradient, info = sums.information
        var out = PassSums(k: active.count, mode: .derivatives)
        out.values[0] = sums.deviance
        for (a, j) in active.enumerated() { out.values[1 + a] = all[j] }
        let sub = info.submatrix(active)
        for i in sub.storage.indices { out.values[1 + active.count + i] = sub.storage[i] }
        return out
    }
}

enum FitAssembly {
    /// H⁻¹ on the standardised scale; binding terms are held at their bound, so the covariance is
    /// that of the free terms given them (zero rows and columns for the held ones).
    static func bread(_ information: SymmetricMatrix, binding: [Int]) -> SymmetricMatrix? {
        guard !binding.isEmpty else { return NewtonStep.inverse(information) }
        let k = information.order
        let freeTerms = (0..<k).filter { !binding.contains($0) }
        return NewtonStep.inverse(information.submatrix(freeTerms)).map { sub in
            var full = SymmetricMatrix(order: k)
            for (b, a) in freeTerms.enumerated() { for (d, c) in freeTerms.enumerated() { full[c, a] = sub[d, b] } }
            return full
        }
    }

    /// Maps β̃ and its covariance back to the original scale and fills the per-term arrays.
    static func fit(termNames: [String], terms: ActiveTerms, scaling: Standardization, outcome: NewtonOutcome,
                    deviance: Double, nullDeviance: Double, covarianceStd: SymmetricMatrix?, binding: [Int],
                    rows: Int, weightSum: Double, warnings extra: [FitWarning], fitted: [Double],
                    kktResidual: Double) -> LogisticFit {
        let p = termNames.count
        let active = terms.active
        let original = scaling.toOriginalScale(beta: outcome.beta, covariance: covarianceStd, active: active)
        var varianceInflation = [Double?](repeating: nil, count: p)
        for (j, v) in terms.inflation { varianceInflation[j] = v }
        var coefficients = [Double?](repeating: nil, count: p)
        var standardErrors = [Double?](repeating: nil, count: p)
        for (a, j) in active.enumerated() {
            coefficients[j] = original.beta[a]
            // Slopes: √(standardised variance)/s_j, which cannot underflow the way the variance
            // 1/s_j² can for columns near the overflow limit.
            let v = a == 0 ? original.covariance?[0, 0] : covarianceStd.map { $0[a, a] }
            if let v, v >= 0, v.isFinite, !binding.contains(a) {
                standardErrors[j] = a == 0 ? v.squareRoot() : v.squareRoot() / scaling.scales[j]
            }
        }
        var warnings: [FitWarning] = []
        if !terms.aliased.isEmpty { warnings.append(.aliased(terms: terms.aliased)) }
        if outcome.ridgeUsed > 0 { warnings.append(.singularInformation(ridge: outcome.ridgeUsed)) }
        if !outcome.converged { warnings.append(.notConverged(iterations: outcome.iterations, decrement: outcome.lastDecrement,
                                                                  limit: outcome.iterationLimit)) }
        warnings.append(contentsOf: extra)
        var fit = LogisticFit(termNames: termNames, coefficients: coefficients, standardErrors: standardErrors,
                           covariance: original.covariance, activeTerms: active, aliasedTerms: terms.aliased,
                           nObservations: rows, weightSum: weightSum, deviance: deviance,
                           nullDeviance: nullDeviance, iterations: outcome.iterations, converged: outcome.converged,
                           history: outcome.history, warnings: warnings, fittedProbabilities: fitted,
                           bindingTerms: binding.map { active[$0] }, kktResidual: kktResidual,
                           varianceInflation: varianceInflation,
                           columnMeans: scaling.means, columnScales: scaling.scales)
        fit.sampledIterations = outcome.sampledIterations
        return fit
    }
}
