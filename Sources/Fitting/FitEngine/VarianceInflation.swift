import CRowKernels

/// Variance inflation factors from a Gram matrix of centred columns.
enum VarianceInflation {
    static func compute(gram: SymmetricMatrix, columns: [Int]) -> [(Int, Double)] {
        guard !columns.isEmpty else { return [] }
        var correlation = gram.submatrix(columns)
        let d = (0..<correlation.order).map { correlation[$0, $0].squareRoot() }
        for j in 0..<correlation.order { for i in 0..<correlation.order { correlation[i, j] /= d[i] * d[j] } }
        guard let inverse = NewtonStep.inverse(correlation) else { return [] }
        return columns.enumerated().map { ($0.element, inverse[$0.offset, $0.offset]) }
    }
}
