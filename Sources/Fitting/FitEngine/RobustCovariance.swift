/// How the coefficient covariance is estimated.
public enum CovarianceEstimator: Sendable, Equatable {
    /// Inverse Fisher information: valid when the model is right and rows are independent.
    case model
    /// White's sandwich H⁻¹ (Σ sᵢsᵢᵀ) H⁻¹ with scores sᵢ = vᵢ(yᵢ − μᵢ)xᵢ (sandwich::vcovHC type "HC0").
    case hc0
    /// HC0 × n/(n − k), the small-sample correction of HC1.
    case hc1
    /// Scores summed within clusters (e.g. the monthly snapshots of one customer), scaled by G/(G − 1)
    /// as sandwich::vcovCL(type = "HC0", cadjust = TRUE). `codes[i]` is row i's cluster (≥ 0).
    case cluster(codes: [Int32])

    public var name: String {
        switch self {
        case .model: return "model"
        case .hc0: return "hc0"
        case .hc1: return "hc1"
        case .cluster: return "cluster"
        }
    }
}

enum RobustCovariance {
    /// The sandwich on the standardised scale; `bread` is H⁻¹ there.
    static func sandwich(_ estimator: CovarianceEstimator, bread: SymmetricMatrix, design x: Matrix,
                         fitted: [Double], response y: [Double], weights: [Double]?) -> SymmetricMatrix? {
        let n = x.rows, k = x.cols
        var scores = [Double](repeating: 0, count: n)
        for i in 0..<n { scores[i] = (weights?[i] ?? 1) * (y[i] - fitted[i]) }
        var meat: SymmetricMatrix
        var scale = 1.0
        switch estimator {
        case .model:
            return bread
        case .hc0, .hc1:
            // (rᵢxᵢ)(rᵢxᵢ)ᵀ = rᵢ²xᵢxᵢᵀ: the weighted Gram kernel with rᵢ in place of √wᵢ.
            meat = x.storage.withUnsafeBufferPointer { xb in
                scores.withUnsafeBufferPointer { DesignKernels(rows: n, cols: k).weightedGram(xb.baseAddress!, sqrtWeights: $0.baseAddress!) }
            }
            if case .hc1 = estimator { scale = Double(n) / Double(max(1, n - k)) }
        case .cluster(let codes):
            precondition(codes.count == n, "one cluster code per row")
            let groups = Int(codes.max() ?? -1) + 1
            guard groups >= 2 else { return nil }
            // Σ over rows of each cluster's summed score, G×k column-major, then its Gram matrix.
            var summed = [Double](repeating: 0, count: groups * k)
            x.storage.withUnsafeBufferPointer { xb in
                for j in 0..<k {
                    let col = xb.baseAddress! + j * n
                    for i in 0..<n { summed[j * groups + Int(codes[i])] += scores[i] * col[i] }
                }
            }
            meat = SymmetricMatrix(order: k)
            summed.withUnsafeBufferPointer { s in
                meat.storage.withUnsafeMutableBufferPointer { m in
                    BLAS.syrkAccumulate(s.baseAddress!, rows: groups, cols: k, ldb: groups, into: m.baseAddress!)
                }
            }
            meat.symmetrizeFromLower()
            scale = Double(groups) / Double(groups - 1)
        }
        // bread · meat · bread, p×p: small, plain loops are enough.
        var left = [Double](repeating: 0, count: k * k)   // bread · meat
        for c in 0..<k { for r in 0..<k { var s = 0.0; for m in 0..<k { s += bread[r, m] * meat[m, c] }; left[c * k + r] = s } }
        var out = SymmetricMatrix(order: k)
        for c in 0..<k { for r in 0..<k { var s = 0.0; for m in 0..<k { s += left[m * k + r] * bread[m, c] }; out[r, c] = scale * s } }
        return out
    }
}
