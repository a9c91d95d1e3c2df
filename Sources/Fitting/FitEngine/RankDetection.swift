import CRowKernels

/// Finds terms that are (numerically) linear combinations of earlier terms, as R's pivoting QR
/// does: columns are taken in order and a column whose residual 1 − R² falls below the tolerance
/// is aliased. LAPACK's unpivoted Cholesky computes exactly those residuals on its diagonal.
enum RankDetection {
    /// `gram` is XᵀWX for any positive weights (the rank does not depend on them) over all columns.
    static func detect(gram: SymmetricMatrix, columns: [Int], tolerance: Double) -> (kept: [Int], aliased: [Int]) {
        var kept = columns
        var aliased: [Int] = []
        while !kept.isEmpty {
            var factor = gram.submatrix(kept)
            let info = LAPACK.potrf(&factor)
            let checked = info == 0 ? kept.count : info - 1
            var failing: Int? = info == 0 ? nil : info - 1
            for a in 0..<checked {
                let l = factor[a, a]
                if l * l <= tolerance * gram[kept[a], kept[a]] { failing = a; break }
            }
            guard let f = failing else { break }
            aliased.append(kept.remove(at: f))
        }
        return (kept, aliased)
    }
}
