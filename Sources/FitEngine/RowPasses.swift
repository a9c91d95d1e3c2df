/// Where a Newton pass reads its rows: runs a `PassKernel` over all of them and returns the sums.
protocol RowPasses {
    func run(_ kernel: PassKernel) throws -> PassSums
}

/// The in-memory design (column-major, leading dimension `rows`), split into one row range per
/// core; η of every row is kept for the fitted probabilities, Firth's leverages and the checks.
struct InMemoryRows: RowPasses {
    let x: UnsafePointer<Double>
    let rows: Int
    let y: UnsafePointer<Double>
    let weights: UnsafePointer<Double>?
    let eta: UnsafeMutablePointer<Double>
    /// Per-row `RowSample` choices, filled by the first sampled pass and reused by later ones.
    var sampleFlags: UnsafeMutablePointer<UInt8>? = nil

    func run(_ kernel: PassKernel) -> PassSums {
        let ranges = Parallel.chunks(rows, minimumChunk: 16_384, perWorker: 8)
        let size = kernel.sumsCount
        var partial = [Double](repeating: 0, count: size * ranges.count)
        partial.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallel.forEach(ranges) { t, r in
                let block = DesignBlock(x: x + r.lowerBound, stride: rows, rows: r.count, y: y + r.lowerBound,
                                        weights: weights.map { $0 + r.lowerBound })
                kernel.accumulate(block, scratch: kernel.makeScratch(), into: base + t * size, etaOut: eta + r.lowerBound,
                                  sampleFlags: sampleFlags.map { $0 + r.lowerBound })
            }
        }
        var sums = kernel.emptySums()
        partial.withUnsafeBufferPointer { p in for t in ranges.indices { sums.add(p.baseAddress! + t * size) } }
        return sums
    }
}

/// A `RowBlockSource`: one accumulator per worker, summed in worker order, then across processes.
struct SourceRows<Source: RowBlockSource>: RowPasses {
    let source: Source

    func run(_ kernel: PassKernel) throws -> PassSums {
        let size = kernel.sumsCount
        let workers = max(1, source.concurrency)
        let scratch = (0..<workers).map { _ in kernel.makeScratch() }
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: size * workers)
        defer { partial.deallocate() }
        partial.initialize(repeating: 0, count: size * workers)
        try source.forEachBlock { worker, block in
            precondition(worker >= 0 && worker < workers, "worker \(worker) outside 0..<\(workers)")
            kernel.accumulate(block, scratch: scratch[worker], into: partial + worker * size)
        }
        var sums = kernel.emptySums()
        for t in 0..<workers { sums.add(partial + t * size) }
        try source.sumAcrossProcesses(&sums.values)
        return sums
    }
}
