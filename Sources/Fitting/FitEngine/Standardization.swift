import CRowKernels

/// Centres and scales every non-intercept column in place (weighted mean, 1/n standard deviation),
/// and maps coefficients and their covariance back to the original scale.
struct Standardization {
    var means: [Double]
    var scales: [Double]
    var constantColumns: [Int]

    static func apply(to design: inout Matrix, weights: [Double]?) -> Standardization {
        let n = design.rows, p = design.cols
        return design.storage.withUnsafeMutableBufferPointer { s in
            standardise(UnsafePointer(s.baseAddress!), into: s.baseAddress!, rows: n, cols: p, weights: weights)
        }
    }

    /// The standardised design as a new matrix, the original left as it is: one read of the source
    /// and one write of the copy per column (after the two moment reads), where copying and then
    /// standardising in place would sweep the copy twice more. The values equal `apply`'s bit for bit.
    static func standardisedCopy(of design: Matrix, weights: [Double]?) -> (Matrix, Standardization) {
        let n = design.rows, p = design.cols
        var scaling: Standardization? = nil
        let storage = [Double](unsafeUninitializedCapacity: n * p) { out, count in
            design.storage.withUnsafeBufferPointer { src in
                guard n * p > 0 else { return }
                out.baseAddress!.update(from: src.baseAddress!, count: n)  // the intercept column
                scaling = standardise(src.baseAddress!, into: out.baseAddress!, rows: n, cols: p, weights: weights)
            }
            count = n * p
        }
        return (Matrix(rows: n, cols: p, columnMajor: storage),
                scaling ?? Standardization(means: [Double](repeating: 0, count: p), scales: [Double](repeating: 1, count: p),
                                           constantColumns: []))
    }

    /// Column j ≥ 1 of `dst` = (column j of `src` − mean)/sd; `dst` may be `src` (in place).
    private static func standardise(_ src: UnsafePointer<Double>, into dst: UnsafeMutablePointer<Double>, rows n: Int,
                                    cols p: Int, weights: [Double]?) -> Standardization {
        var means = [Double](repeating: 0, count: p)
        var scales = [Double](repeating: 1, count: p)
        var constant = [Bool](repeating: false, count: p)
        let weightSum = weights?.reduce(0, +) ?? Double(n)
        // Columns are independent: split them across cores.
        let columns = Parallel.chunks(max(0, p - 1), minimumChunk: max(1, 1 << 20 / max(n, 1)))
        do {
            let base = src
            means.withUnsafeMutableBufferPointer { m in
                scales.withUnsafeMutableBufferPointer { sc in
                    constant.withUnsafeMutableBufferPointer { cst in
                        withOptionalPointer(weights) { w in
                            Parallel.forEach(columns) { _, range in
                                for j in range.lazy.map({ $0 + 1 }) {
                                    let col = base + j * n
                                    var mean = healthscore_column_sum(col, w, n, 0, 0) / weightSum
                                    var sd = (healthscore_column_sum(col, w, n, 1, mean) / weightSum).squareRoot()
                                    if !mean.isFinite || !sd.isFinite || !(sd >= 1e-150) {
                                        // Values near the overflow limit, or so small that their squares
                                        // underflow: the same moments of x/max|x|.
                                        var top = 0.0
                                        for i in 0..<n { top = max(top, abs(col[i])) }
                                        if top == 0 { top = 1 }
                                        let scaledMean = weightedSum(col, w, n) { $0 / top } / weightSum
                                        mean = scaledMean * top
                                        sd = (weightedSum(col, w, n) { ($0 / top - scaledMean) * ($0 / top - scaledMean) } / weightSum).squareRoot() * top
                                    }
                                    m[j] = mean
                                    let out = dst + j * n
                                    // Two-pass variance is exactly zero for a constant column; anything at the
                                    // rounding level of the mean is constant too.
                                    if !(sd > 1e-13 * max(abs(mean), 1e-300)) {
                                        cst[j] = true
                                        for i in 0..<n { out[i] = 0 }
                                        continue
                                    }
                                    sc[j] = sd
                                    healthscore_column_standardise(col, out, n, mean, 1 / sd)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Standardization(means: means, scales: scales,
                               constantColumns: (0..<p).filter { constant[$0] })
    }

    /// Σ wᵢ·f(xᵢ) with four accumulators, so the sum is not bound by the latency of one add chain.
    @inline(__always)
    private static func weightedSum(_ x: UnsafePointer<Double>, _ w: UnsafePointer<Double>?, _ n: Int,
                                    _ f: (Double) -> Double) -> Double {
        var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
        var i = 0
        if let w {
            while i + 4 <= n {
                a0 += w[i] * f(x[i]); a1 += w[i + 1] * f(x[i + 1]); a2 += w[i + 2] * f(x[i + 2]); a3 += w[i + 3] * f(x[i + 3])
                i += 4
            }
            while i < n { a0 += w[i] * f(x[i]); i += 1 }
        } else {
            while i + 4 <= n {
                a0 += f(x[i]); a1 += f(x[i + 1]); a2 += f(x[i + 2]); a3 += f(x[i + 3])
                i += 4
            }
            while i < n { a0 += f(x[i]); i += 1 }
        }
        return (a0 + a1) + (a2 + a3)
    }

    /// β_j = β̃_j / s_j and β_0 = β̃_0 − Σ m_j β̃_j / s_j; Cov = T Coṽ Tᵀ for that linear map T.
    func toOriginalScale(beta: [Double], covariance: SymmetricMatrix?, active: [Int])
        -> (beta: [Double], covariance: SymmetricMatrix?) {
        let k = active.count
        // Row 0 of T: (1, −m_1/s_1, …); row j: 1/s_j on the diagonal.
        var a = [Double](repeating: 0, count: k)
        var d = [Double](repeating: 1, count: k)
        for (idx, j) in active.enumerated() where j != 0 {
            d[idx] = 1 / scales[j]
            a[idx] = -means[j] / scales[j]
        }
        a[0] = 1
        var out = beta
        var intercept = 0.0
        for idx in 0..<k {
            if idx == 0 { intercept += beta[0] } else { intercept += a[idx] * beta[idx]; out[idx] = beta[idx] * d[idx] }
        }
        out[0] = intercept
        guard let c = covariance else { return (out, nil) }
        var cov = SymmetricMatrix(order: k)
        // (T C)_{0,l} = Σ_m a_m C_{m,l}; (T C)_{j,l} = d_j C_{j,l}.
        var aC = [Double](repeating: 0, count: k)
        for l in 0..<k { var s = 0.0; for m in 0..<k { s += a[m] * c[m, l] }; aC[l] = s }
        var v00 = 0.0
        for l in 0..<k { v00 += aC[l] * a[l] }
        cov[0, 0] = v00
        for j in 1..<max(1, k) {
            let v = aC[j] * d[j]
            cov[0, j] = v; cov[j, 0] = v
            for l in 1..<k { cov[j, l] = d[j] * c[j, l] * d[l] }
        }
        return (out, cov)
    }
}
