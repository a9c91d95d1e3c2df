import Foundation
import Support

/// Splits `0..<count` into contiguous ranges, one per worker, and runs them concurrently.
///
/// OpenBLAS gains little from its own threads at p ≈ 50 (the output of `dsyrk` is tiny), so the
/// engine splits rows itself and keeps OpenBLAS single-threaded; small inputs stay on one thread
/// because dispatch costs more than it saves.
enum Parallel {
    static let workerCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// `perWorker` > 1 cuts more ranges than workers, so a worker that the OS pauses (a busy or
    /// shared machine) holds up only its current piece while the others take the rest.
    static func chunks(_ count: Int, minimumChunk: Int = 32_768, perWorker: Int = 1) -> [Range<Int>] {
        let workers = max(1, min(workerCount * max(1, perWorker), count / max(1, minimumChunk)))
        guard workers > 1 else { return [0..<count] }
        let base = count / workers, extra = count % workers
        var ranges: [Range<Int>] = []
        var start = 0
        for w in 0..<workers {
            let len = base + (w < extra ? 1 : 0)
            ranges.append(start..<(start + len))
            start += len
        }
        return ranges
    }

    /// `body` runs concurrently on disjoint ranges: it may write only its range's elements of what
    /// it shares, and read the rest.
    static func forEach(_ ranges: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
        if ranges.count == 1 { body(0, ranges[0]); return }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedShared(body)
            DispatchQueue.concurrentPerform(iterations: ranges.count) { shared.value($0, ranges[$0]) }
        }
    }
}
