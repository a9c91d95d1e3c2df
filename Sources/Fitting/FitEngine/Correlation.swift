/// Pearson correlations between design columns, for spotting metrics that measure the same thing.
public enum Correlation {
    /// The k×k correlation matrix of the columns of a column-major rows×k design. Columns are centred
    /// and scaled (two passes) before the cross-products, so large means cost no digits; a constant
    /// column correlates 0 with every other (1 with itself).
    public static func matrix(columnMajor x: [Double], rows n: Int, cols k: Int) -> SymmetricMatrix {
        precondition(x.count == n * k, "design size")
        var means = [Double](repeating: 0, count: k), scales = [Double](repeating: 0, count: k)
        x.withUnsafeBufferPointer { v in
            for j in 0..<k {
                let col = v.baseAddress! + j * n
                var s = 0.0
                for i in 0..<n { s += col[i] }
                let m = s / Double(max(n, 1))
                var ss = 0.0
                for i in 0..<n { let d = col[i] - m; ss += d * d }
                means[j] = m
                scales[j] = ss > 0 ? 1 / ss.squareRoot() : 0
            }
        }
        var c = SymmetricMatrix(order: k)
        let blockRows = max(256, min(8192, 262_144 / max(1, k)))
        let block = UnsafeMutablePointer<Double>.allocate(capacity: blockRows * k)
        defer { block.deallocate() }
        x.withUnsafeBufferPointer { v in
            c.storage.withUnsafeMutableBufferPointer { acc in
                var start = 0
                while start < n {
                    let m = min(blockRows, n - start)
                    for j in 0..<k {
                        let src = v.baseAddress! + j * n + start
                        let dst = block + j * m
                        for i in 0..<m { dst[i] = (src[i] - means[j]) * scales[j] }
                    }
                    BLAS.syrkAccumulate(block, rows: m, cols: k, ldb: m, into: acc.baseAddress!)
                    start += m
                }
            }
        }
        c.symmetrizeFromLower()
        for j in 0..<k { c[j, j] = 1 }
        return c
    }
}
