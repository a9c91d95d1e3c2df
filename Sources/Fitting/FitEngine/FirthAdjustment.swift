import Foundation

/// Firth's bias reduction for logistic regression: maximise ℓ(β) + ½·log|I(β)| (the Jeffreys prior).
///
/// Its score is U* = Xᵀ(v(y − μ) + h ⊙ (½ − μ)) with leverages hᵢ = wᵢ·xᵢᵀI⁻¹xᵢ; estimates stay finite
/// under separation and their small-sample bias is O(n⁻²). The penalty is equivariant under linear
/// reparametrisation, so fitting on standardised columns and mapping back is exact.
enum FirthAdjustment {
    /// ½·log|I| from I's Cholesky factor; nil when I is not positive definite.
    static func halfLogDet(_ information: SymmetricMatrix) -> (value: Double, factor: SymmetricMatrix)? {
        var factor = information
        guard LAPACK.potrf(&factor) == 0 else { return nil }
        var s = 0.0
        for j in 0..<factor.order { s += log(factor[j, j]) }
        return (s, factor)
    }

    /// The modified score U* at η, given the plain score and information there.
    static func adjustedGradient(_ gradient: [Double], factor: SymmetricMatrix, x: UnsafePointer<Double>,
                                 eta: UnsafePointer<Double>, weights: [Double]?, kernels: DesignKernels) -> [Double] {
        let n = kernels.rows, k = kernels.cols
        var adjustment = [Double](repeating: 0, count: n)
        let ranges = Parallel.chunks(n, minimumChunk: 16_384)
        factor.storage.withUnsafeBufferPointer { l in
            adjustment.withUnsafeMutableBufferPointer { a in
                Parallel.forEach(ranges) { _, r in
                    let m0 = kernels.blockRows
                    let block = UnsafeMutablePointer<Double>.allocate(capacity: m0 * k)
                    defer { block.deallocate() }
                    var start = r.lowerBound
                    while start < r.upperBound {
                        let m = min(m0, r.upperBound - start)
                        var sqrtW = [Double](repeating: 0, count: m)
                        var halfMinusMu = [Double](repeating: 0, count: m)
                        for i in 0..<m {
                            let (mu, q) = LogisticLoss.probabilities(eta[start + i])
                            sqrtW[i] = ((weights?[start + i] ?? 1) * mu * q).squareRoot()
                            halfMinusMu[i] = 0.5 - mu
                        }
                        for j in 0..<k {
                            let src = x + j * n + start
                            for i in 0..<m { block[j * m + i] = src[i] * sqrtW[i] }
                        }
                        // Rows of √W·X·L⁻ᵀ: their squared norms are the leverages.
                        BLAS.solveRightLowerTransposed(l.baseAddress!, order: k, block, rows: m)
                        for i in 0..<m {
                            var h = 0.0
                            for j in 0..<k { h += block[j * m + i] * block[j * m + i] }
                            a[start + i] = h * halfMinusMu[i]
                        }
                        start += m
                    }
                }
            }
        }
        let extra = adjustment.withUnsafeBufferPointer { kernels.multiplyTransposed(x, $0.baseAddress!) }
        return zip(gradient, extra).map { $0 + $1 }
    }
}
