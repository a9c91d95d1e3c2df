/// What one pass over the rows computes at a β.
enum PassMode: Int, Comparable {
    case deviance, gradient, derivatives
    static func < (a: PassMode, b: PassMode) -> Bool { a.rawValue < b.rawValue }
}

/// Which source columns a pass reads, and how it standardises them on the fly.
///
/// Column a of the pass is (x[:, columns[a]] − means[a]) · inverseScales[a]; without `means` the
/// columns are used as stored (the in-memory design, already standardised in place).
struct ColumnMap {
    var columns: [Int]
    var means: [Double]?
    var inverseScales: [Double]?

    var count: Int { columns.count }

    /// The stored columns 0..<k as they are.
    static func leading(_ k: Int) -> ColumnMap { ColumnMap(columns: Array(0..<k)) }

    /// Whether the kernel can read the block in place (no selection, no standardisation).
    var isLeadingIdentity: Bool {
        means == nil && columns.enumerated().allSatisfy { $0.offset == $0.element }
    }
}

/// Sums of one pass, flat so that a distributed fit reduces them with one `sumAcrossProcesses`:
/// [deviance, gradient (k), XᵀWX lower triangle as a full k×k column-major array].
struct PassSums {
    let k: Int
    var values: [Double]

    init(k: Int, mode: PassMode) {
        self.k = k
        values = [Double](repeating: 0, count: 1 + (mode >= .gradient ? k : 0) + (mode == .derivatives ? k * k : 0))
    }

    var deviance: Double { values[0] }
    var gradient: [Double] { Array(values[1..<(1 + k)]) }

    var information: SymmetricMatrix {
        var h = SymmetricMatrix(order: k)
        h.storage = Array(values[(1 + k)...])
        h.symmetrizeFromLower()
        return h
    }

    /// Adds per-worker partial sums in worker order, so a fit is reproducible run to run.
    mutating func add(_ partial: UnsafePointer<Double>) {
        for i in values.indices { values[i] += partial[i] }
    }
}

/// The fused Newton pass over one block of rows, shared by the in-memory and the source solvers:
/// copy (and standardise) the block into an L2-sized scratch B, then η = Bβ, μ, w, the deviance,
/// the residual r, g += Bᵀr, and XᵀWX += (√W B)ᵀ(√W B) by `dsyrk` — X is read from memory once.
struct PassKernel {
    let map: ColumnMap
    let mode: PassMode
    let beta: [Double]
    /// Rows per scratch block: B (rows × k doubles, ≈ 384 KiB) should sit in a core's L2.
    let blockRows: Int
    /// Nothing to select, standardise or scale: η and Xᵀr can read the block where it is.
    private let readsInPlace: Bool

    init(map: ColumnMap, mode: PassMode, beta: [Double]) {
        precondition(beta.count == map.count)
        self.map = map
        self.mode = mode
        self.beta = beta
        blockRows = max(64, min(4096, 49_152 / max(1, map.count)))
        readsInPlace = map.isLeadingIdentity && mode < .derivatives
    }

    var sumsCount: Int { PassSums(k: map.count, mode: mode).values.count }

    /// Per-worker scratch: B, η, residual and √w for one block.
    final class Scratch {
        let block: UnsafeMutablePointer<Double>
        let eta: UnsafeMutablePointer<Double>
        let residual: UnsafeMutablePointer<Double>
        let sqrtW: UnsafeMutablePointer<Double>

        init(rows: Int, cols: Int) {
            block = .allocate(capacity: max(1, rows * cols))
            eta = .allocate(capacity: rows)
            residual = .allocate(capacity: rows)
            sqrtW = .allocate(capacity: rows)
        }

        deinit {
            block.deallocate(); eta.deallocate(); residual.deallocate(); sqrtW.deallocate()
        }
    }

    func makeScratch() -> Scratch { Scratch(rows: blockRows, cols: map.count) }

    /// Adds the block's sums to `sums` (laid out as `PassSums.values`). Blocks longer than
    /// `blockRows` are taken in pieces. `etaOut`, when given, receives η for the block's rows.
    func accumulate(_ block: DesignBlock, scratch: Scratch, into sums: UnsafeMutablePointer<Double>,
                    etaOut: UnsafeMutablePointer<Double>? = nil) {
        var start = 0
        while start < block.rows {
            let m = min(blockRows, block.rows - start)
            let piece = DesignBlock(x: block.x + start, stride: block.stride, rows: m, y: block.y + start,
                                    weights: block.weights.map { $0 + start })
            accumulatePiece(piece, scratch: scratch, into: sums, etaOut: etaOut.map { $0 + start })
            start += m
        }
    }

    private func accumulatePiece(_ block: DesignBlock, scratch s: Scratch, into sums: UnsafeMutablePointer<Double>,
                                 etaOut: UnsafeMutablePointer<Double>?) {
        let m = block.rows, k = map.count
        guard m > 0 else { return }
        let b: UnsafePointer<Double>
        let ldb: Int
        if readsInPlace {
            b = block.x; ldb = block.stride
        } else {
            copy(block, into: s.block)
            b = UnsafePointer(s.block); ldb = m
        }
        beta.withUnsafeBufferPointer { bp in
            BLAS.gemvRows(b, lda: ldb, rowStart: 0, rowCount: m, cols: k, x: bp.baseAddress!, y: s.eta)
        }
        if let etaOut { etaOut.update(from: s.eta, count: m) }
        let y = block.y, eta = s.eta
        var deviance = 0.0
        if mode == .deviance {
            if let w = block.weights {
                for i in 0..<m { deviance += w[i] * (LogisticLoss.softplus(eta[i]) - y[i] * eta[i]) }
            } else {
                for i in 0..<m { deviance += LogisticLoss.softplus(eta[i]) - y[i] * eta[i] }
            }
            sums[0] += 2 * deviance
            return
        }
        for i in 0..<m {
            let e = eta[i]
            let (mu, q) = LogisticLoss.probabilities(e)
            let v = block.weights?[i] ?? 1
            deviance += v * (LogisticLoss.softplus(e) - y[i] * e)
            s.residual[i] = v * (y[i] * q - (1 - y[i]) * mu)
            s.sqrtW[i] = (v * mu * q).squareRoot()
        }
        sums[0] += 2 * deviance
        BLAS.gemvTransposedAccumulate(b, lda: ldb, rows: m, cols: k, v: s.residual, out: sums + 1)
        guard mode == .derivatives else { return }
        for j in 0..<k {
            let col = s.block + j * m
            for i in 0..<m { col[i] *= s.sqrtW[i] }
        }
        BLAS.syrkAccumulate(s.block, rows: m, cols: k, ldb: m, into: sums + 1 + k)
    }

    /// B[:, a] = (x[:, columns[a]] − mean_a) · (1/s_a), the same expression `Standardization.apply`
    /// uses, so on-the-fly and in-place standardisation agree to the last bit.
    private func copy(_ block: DesignBlock, into dst: UnsafeMutablePointer<Double>) {
        let m = block.rows
        for (a, j) in map.columns.enumerated() {
            let src = block.x + j * block.stride
            let out = dst + a * m
            if let means = map.means, let inv = map.inverseScales {
                let mean = means[a], scale = inv[a]
                for i in 0..<m { out[i] = (src[i] - mean) * scale }
            } else {
                out.update(from: src, count: m)
            }
        }
    }
}
