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
        let failure = Result {
            try source.forEachBlock { worker, block in
                precondition(worker >= 0 && worker < workers, "worker \(worker) outside 0..<\(workers)")
                kernel.accumulate(block, scratch: scratch[worker], into: partial + worker * size)
            }
        }
        var sums = kernel.emptySums()
        for t in 0..<workers { sums.add(partial + t * size) }
        try source.sumReportingFailure(&sums.values, failure)
        return sums
    }
}

/// Another process of a distributed fit failed while reading its rows for a pass (it reports
/// why); this process stops at the same pass.
public struct PeerPassFailure: Error, CustomStringConvertible, Equatable {
    public var description: String { "another process failed while reading its rows (see its message); this one stopped too" }
}

extension RowBlockSource {
    /// `sumAcrossProcesses` that every process reaches even when its own reading failed: a failure
    /// count rides along in one extra slot, so all processes leave the pass together — the one
    /// that failed with its error, the others with `PeerPassFailure` — instead of the others
    /// waiting in this sum for a process that left for another collective.
    func sumReportingFailure(_ values: inout [Double], _ reading: Result<Void, Error>) throws {
        values.append(0)
        if case .failure = reading { values[values.count - 1] = 1 }
        try sumAcrossProcesses(&values)
        let failures = values.removeLast()
        try reading.get()
        if failures > 0 { throw PeerPassFailure() }
    }
}
