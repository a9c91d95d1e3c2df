import Dispatch
import Foundation
import Support

/// Runs independent per-column work on every core. Columns are handed out in order from a shared
/// counter, so a slow column (a transform, a gather through dropped rows) does not leave a core
/// idle; nothing is merged across threads, since each index owns its output.
enum ColumnWork {
    static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Calls `body(index, worker)` for every index in `0..<count`, `worker` in `0..<workers` naming
    /// the thread (for per-thread scratch). Errors are rethrown for the lowest failing index, the
    /// one a serial loop would have stopped at, so the message does not depend on timing.
    static func forEach(_ count: Int, workers: Int = cores, _ body: (_ index: Int, _ worker: Int) throws -> Void) throws {
        let threads = min(workers, count)
        if threads <= 1 {
            for i in 0..<count { try body(i, 0) }
            return
        }
        let next = Locked(0)
        var failures = [Error?](repeating: nil, count: count)
        withoutActuallyEscaping(body) { body in
            let body = UncheckedShared(body)
            failures.withUnsafeMutableBufferPointer { slots in
                let slots = DisjointWrites(slots)
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    while let i = next.withLock({ value -> Int? in
                        guard value < count else { return nil }
                        value += 1
                        return value - 1
                    }) {
                        do { try body.value(i, worker) } catch { slots[i] = error }
                    }
                }
            }
        }
        if let first = failures.first(where: { $0 != nil }), let error = first { throw error }
    }
}

/// Asks for transparent huge pages on a large buffer that is about to be filled front to back:
/// a few hundred 2 MiB faults instead of a hundred thousand 4 KiB ones (and a faster teardown).
func adviseHugePages(_ base: UnsafeMutableRawPointer, bytes: Int) {
    #if os(Linux)
    let hugePage = 2 << 20
    guard bytes >= 2 * hugePage else { return }
    let first = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
    let last = (Int(bitPattern: base) + bytes) & ~(hugePage - 1)
    if last > first, let start = UnsafeMutableRawPointer(bitPattern: first) {
        _ = madvise(start, last - first, MADV_HUGEPAGE)
    }
    #endif
}
