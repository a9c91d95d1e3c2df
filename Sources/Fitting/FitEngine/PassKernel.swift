import CRowKernels
import Support

/// What one pass over the rows computes at a β.
///
/// `sampledDerivatives`: the exact deviance and gradient over every row, but XᵀWX only over the
/// rows of one `RowSample` bucket (about one in eight), unscaled, with the weight sums that scale it.
enum PassMode: Int, Comparable {
    case deviance, gradient, sampledDerivatives, derivatives
    static func < (a: PassMode, b: PassMode) -> Bool { a.rawValue < b.rawValue }
    var hasInformation: Bool { self >= .sampledDerivatives }
}

/// The rows a sampled pass puts in XᵀWX: one of 2^`bits` buckets, each row's chosen by a hash of its
/// content (y and every column rounded to Float), so the choice does not depend on how rows are split
/// into blocks, cores or processes, and the streamed and distributed fits pick the same rows (their
/// standardised values differ at most in the last bits of a Double, which Float rounding absorbs).
enum RowSample {
    static let bits = 3
    static let buckets = 1 << bits
    static var fraction: Double { 1 / Double(buckets) }
    static let multiplier: UInt64 = SplitMix64.increment

    /// Final avalanche (splitmix64's), so the top bits depend on every input bit.
    @inline(__always) static func mix(_ h: UInt64) -> UInt64 { SplitMix64.mix(h) }

    /// The flag of a row with hash `h`: its bucket + 1 (0 is "not yet known" in a flags cache).
    @inline(__always) static func flag(_ h: UInt64) -> UInt64 { mix(h) >> (64 - UInt64(bits)) + 1 }

    /// Fills a solver's per-row flags by a hash of the row index instead of its content: for an
    /// in-memory fit, whose rows need not match a streamed or sharded reading of the same file,
    /// this spares the first sampled pass hashing every value.
    static func markByIndex(_ flags: UnsafeMutablePointer<UInt8>, rows n: Int) {
        Parallel.forEach(Parallel.chunks(n, minimumChunk: 65_536)) { _, r in
            for i in r { flags[i] = UInt8(truncatingIfNeeded: flag(UInt64(i) &* multiplier)) }
        }
    }

    /// Sets `marks[i]` to the flag (bucket + 1) of row i of the block (y and the `cols` columns of
    /// `b`), the code `PassKernel`'s per-row flags cache.
    static func mark(_ b: UnsafePointer<Double>, ldb: Int, y: UnsafePointer<Double>, rows m: Int, cols k: Int,
                     into marks: UnsafeMutablePointer<UInt64>) {
        for i in 0..<m { marks[i] = UInt64(Float(y[i]).bitPattern) &* multiplier }
        for j in 0..<k {
            let col = b + j * ldb
            for i in 0..<m { marks[i] = (marks[i] ^ UInt64(Float(col[i]).bitPattern)) &* multiplier }
        }
        for i in 0..<m { marks[i] = flag(marks[i]) }
    }
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
/// [deviance, gradient (k), XᵀWX lower triangle as a full k×k column-major array], and for a
/// sampled pass [Σw over all rows, Σw over the sampled rows] after it.
struct PassSums {
    let k: Int
    let mode: PassMode
    /// The `RowSample` bucket of a sampled pass's XᵀWX.
    let bucket: Int
    var values: [Double]

    init(k: Int, mode: PassMode, bucket: Int = 0) {
        self.k = k
        self.mode = mode
        self.bucket = bucket
        values = [Double](repeating: 0, count: 1 + (mode >= .gradient ? k : 0) + (mode.hasInformation ? k * k : 0)
                                                + (mode == .sampledDerivatives ? 2 : 0))
    }

    var deviance: Double { values[0] }
    var gradient: [Double] { Array(values[1..<(1 + k)]) }
    /// Whether `information` is the full-data XᵀWX (not a sampled estimate of it).
    var isExact: Bool { mode == .derivatives }

    /// XᵀWX; for a sampled pass, its bucket's scaled to all rows (see `SampledInformation`).
    var information: SymmetricMatrix {
        if mode == .sampledDerivatives {
            var window = SampledInformation()
            return window.add(self)
        }
        var h = SymmetricMatrix(order: k)
        h.storage = Array(values[(1 + k)..<(1 + k + k * k)])
        h.symmetrizeFromLower()
        return h
    }

    /// A sampled pass's unscaled bucket XᵀWX (lower triangle), Σw over all rows and over the bucket.
    var sampledParts: (information: ArraySlice<Double>, all: Double, sampled: Double) {
        (values[(1 + k)..<(1 + k + k * k)], values[1 + k + k * k], values[2 + k + k * k])
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
    /// The `RowSample` bucket whose rows a sampled pass puts in XᵀWX.
    let bucket: Int
    /// Rows per scratch block: B (rows × k doubles, ≈ 384 KiB) should sit in a core's L2.
    let blockRows: Int
    /// Nothing to select, standardise or scale: η and Xᵀr can read the block where it is.
    private let readsInPlace: Bool
    /// β is the intercept alone, so every row has the same η and (without prior weights) the same
    /// w: XᵀWX = w·XᵀX, with no √w-scaled copy of the block (the first pass of a fit).
    private let interceptOnly: Bool

    init(map: ColumnMap, mode: PassMode, beta: [Double], bucket: Int = 0) {
        precondition(beta.count == map.count)
        precondition(bucket >= 0 && bucket < RowSample.buckets)
        self.map = map
        self.mode = mode
        self.beta = beta
        self.bucket = bucket
        blockRows = max(64, min(4096, 49_152 / max(1, map.count)))
        readsInPlace = map.isLeadingIdentity
        interceptOnly = map.columns.first == 0 && (map.means?.first ?? 0) == 0 && (map.inverseScales?.first ?? 1) == 1
            && beta.dropFirst().allSatisfy { $0 == 0 }
    }

    var sumsCount: Int { PassSums(k: map.count, mode: mode).values.count }

    /// Empty sums of this kernel's shape.
    func emptySums() -> PassSums { PassSums(k: map.count, mode: mode, bucket: bucket) }

    /// Per-worker scratch: B, η, residual and √w for one block; row hashes and the sampled rows.
    final class Scratch {
        let block: UnsafeMutablePointer<Double>
        let eta: UnsafeMutablePointer<Double>
        let residual: UnsafeMutablePointer<Double>
        let sqrtW: UnsafeMutablePointer<Double>
        let hash: UnsafeMutablePointer<UInt64>
        let picked: UnsafeMutablePointer<Int>

        init(rows: Int, cols: Int) {
            block = .allocate(capacity: max(1, rows * cols))
            eta = .allocate(capacity: rows)
            residual = .allocate(capacity: rows)
            sqrtW = .allocate(capacity: rows)
            hash = .allocate(capacity: rows)
            picked = .allocate(capacity: rows)
        }

        deinit {
            block.deallocate(); eta.deallocate(); residual.deallocate(); sqrtW.deallocate()
            hash.deallocate(); picked.deallocate()
        }
    }

    func makeScratch() -> Scratch { Scratch(rows: blockRows, cols: map.count) }

    /// Adds the block's sums to `sums` (laid out as `PassSums.values`). Blocks longer than
    /// `blockRows` are taken in pieces. `etaOut`, when given, receives η for the block's rows.
    /// `sampleFlags`, when given, caches `RowSample`'s choice per row across passes (0 = not yet
    /// known, else the row's bucket + 1), so a fit that keeps its rows hashes each row once.
    func accumulate(_ block: DesignBlock, scratch: Scratch, into sums: UnsafeMutablePointer<Double>,
                    etaOut: UnsafeMutablePointer<Double>? = nil, sampleFlags: UnsafeMutablePointer<UInt8>? = nil) {
        var start = 0
        while start < block.rows {
            let m = min(blockRows, block.rows - start)
            let piece = DesignBlock(x: block.x + start, stride: block.stride, rows: m, y: block.y + start,
                                    weights: block.weights.map { $0 + start })
            accumulatePiece(piece, scratch: scratch, into: sums, etaOut: etaOut.map { $0 + start },
                            sampleFlags: sampleFlags.map { $0 + start })
            start += m
        }
    }

    private func accumulatePiece(_ block: DesignBlock, scratch s: Scratch, into sums: UnsafeMutablePointer<Double>,
                                 etaOut: UnsafeMutablePointer<Double>?, sampleFlags: UnsafeMutablePointer<UInt8>?) {
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
        // The intercept-only first pass of an unweighted fit: η = β₀·x₀ and one weight for every row,
        // so XᵀWX = w·XᵀX straight from the block, with no η pass over it (the `dsyrk` that reads
        // the block from memory is bound by arithmetic, not by the read; Xᵀr then finds it in cache).
        if interceptOnly && mode == .derivatives && block.weights == nil {
            for i in 0..<m { s.eta[i] = beta[0] * b[i] }
            if let etaOut { etaOut.update(from: s.eta, count: m) }
            sums[0] += 2 * healthscore_logistic_rows(s.eta, block.y, nil, m, s.residual, s.sqrtW)
            BLAS.syrkAccumulate(b, rows: m, cols: k, ldb: ldb, alpha: s.sqrtW[0] * s.sqrtW[0], into: sums + 1 + k)
            BLAS.gemvTransposedAccumulate(b, lda: ldb, rows: m, cols: k, v: s.residual, out: sums + 1)
            return
        }
        beta.withUnsafeBufferPointer { bp in
            BLAS.gemvRows(b, lda: ldb, rowStart: 0, rowCount: m, cols: k, x: bp.baseAddress!, y: s.eta)
        }
        if let etaOut { etaOut.update(from: s.eta, count: m) }
        if mode == .deviance {
            sums[0] += 2 * healthscore_logistic_halfDeviance(s.eta, block.y, block.weights, m)
            return
        }
        sums[0] += 2 * healthscore_logistic_rows(s.eta, block.y, block.weights, m, s.residual, s.sqrtW)
        BLAS.gemvTransposedAccumulate(b, lda: ldb, rows: m, cols: k, v: s.residual, out: sums + 1)
        if mode == .sampledDerivatives {
            accumulateSample(b, ldb: ldb, y: block.y, rows: m, scratch: s, into: sums, flags: sampleFlags)
            return
        }
        guard mode == .derivatives else { return }
        // √W·B into the scratch block (in place when B already is the scratch copy).
        for j in 0..<k {
            let src = b + j * ldb, col = s.block + j * m
            for i in 0..<m { col[i] = src[i] * s.sqrtW[i] }
        }
        BLAS.syrkAccumulate(s.block, rows: m, cols: k, ldb: m, into: sums + 1 + k)
    }

    /// XᵀWX over the block's sampled rows, gathered √w-scaled into the scratch block (which may be
    /// `b` itself: row t of the gathered block comes from row picked[t] ≥ t, so the in-place gather
    /// never overwrites a value it still needs), and the two weight sums.
    private func accumulateSample(_ b: UnsafePointer<Double>, ldb: Int, y: UnsafePointer<Double>, rows m: Int,
                                  scratch s: Scratch, into sums: UnsafeMutablePointer<Double>,
                                  flags: UnsafeMutablePointer<UInt8>?) {
        let k = map.count
        var known = flags != nil
        if let flags { for i in 0..<m where flags[i] == 0 { known = false; break } }
        if !known {
            RowSample.mark(b, ldb: ldb, y: y, rows: m, cols: k, into: s.hash)
            if let flags { for i in 0..<m { flags[i] = UInt8(truncatingIfNeeded: s.hash[i]) } }
        } else if let flags {
            for i in 0..<m { s.hash[i] = UInt64(flags[i]) }
        }
        var count = 0, all = 0.0, sampled = 0.0
        let chosen = UInt64(bucket + 1)
        for i in 0..<m {
            let w = s.sqrtW[i] * s.sqrtW[i]
            all += w
            if s.hash[i] == chosen { s.picked[count] = i; count += 1; sampled += w }
        }
        let tail = sums + 1 + k + k * k
        tail[0] += all
        tail[1] += sampled
        guard count > 0 else { return }
        for j in 0..<k {
            let src = b + j * ldb, dst = s.block + j * count
            for t in 0..<count { let i = s.picked[t]; dst[t] = src[i] * s.sqrtW[i] }
        }
        BLAS.syrkAccumulate(s.block, rows: count, cols: k, ldb: count, into: sums + 1 + k)
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
