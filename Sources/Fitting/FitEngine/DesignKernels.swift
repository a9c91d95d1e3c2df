/// Single-purpose passes over the n×k design (the elastic net, Firth's leverages, the checks), each
/// split across cores by rows; the Newton solvers use the fused `PassKernel` instead.
///
/// All take the design as column-major with leading dimension `rows` and use its first `cols` columns.
struct DesignKernels {
    let rows: Int
    let cols: Int
    let blockRows: Int

    init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        // A block of √w-scaled rows should sit in L2: ≈ 256 KiB of doubles per block.
        self.blockRows = max(256, min(8192, 262_144 / max(1, cols)))
    }

    /// out = X β
    func multiply(_ x: UnsafePointer<Double>, _ beta: [Double], into out: UnsafeMutablePointer<Double>) {
        beta.withUnsafeBufferPointer { b in
            Parallel.forEach(Parallel.chunks(rows)) { _, r in
                BLAS.gemvRows(x, lda: rows, rowStart: r.lowerBound, rowCount: r.count, cols: cols,
                              x: b.baseAddress!, y: out + r.lowerBound)
            }
        }
    }

    /// Xᵀ v, reduced over row chunks.
    func multiplyTransposed(_ x: UnsafePointer<Double>, _ v: UnsafePointer<Double>) -> [Double] {
        let ranges = Parallel.chunks(rows)
        var partial = [Double](repeating: 0, count: cols * ranges.count)
        partial.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallel.forEach(ranges) { t, r in
                BLAS.gemvTransposedRows(x, lda: rows, rowStart: r.lowerBound, rowCount: r.count, cols: cols,
                                        v: v, out: base + t * cols)
            }
        }
        var out = [Double](repeating: 0, count: cols)
        for t in 0..<ranges.count { for j in 0..<cols { out[j] += partial[t * cols + j] } }
        return out
    }

    /// Xᵀ diag(w) X via `dsyrk` over blocks of √w-scaled rows; each core keeps its own accumulator.
    func weightedGram(_ x: UnsafePointer<Double>, sqrtWeights: UnsafePointer<Double>) -> SymmetricMatrix {
        let k = cols
        let ranges = Parallel.chunks(rows, minimumChunk: 16_384)
        var partial = [Double](repeating: 0, count: k * k * ranges.count)
        partial.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallel.forEach(ranges) { t, r in
                let acc = base + t * k * k
                let block = UnsafeMutablePointer<Double>.allocate(capacity: blockRows * k)
                defer { block.deallocate() }
                var start = r.lowerBound
                while start < r.upperBound {
                    let m = min(blockRows, r.upperBound - start)
                    for j in 0..<k {
                        let src = x + j * rows + start
                        let dst = block + j * m
                        let sw = sqrtWeights + start
                        for i in 0..<m { dst[i] = src[i] * sw[i] }
                    }
                    BLAS.syrkAccumulate(block, rows: m, cols: k, ldb: m, into: acc)
                    start += m
                }
            }
        }
        var gram = SymmetricMatrix(order: k)
        for t in 0..<ranges.count {
            for idx in 0..<(k * k) { gram.storage[idx] += partial[t * k * k + idx] }
        }
        gram.symmetrizeFromLower()
        return gram
    }
}
