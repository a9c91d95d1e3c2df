import Foundation
import Testing
import ScoringCore
import TestSupport
@testable import Tabular
import Support

/// The pieces that let the fit's preparation use every core: the digest on its own thread and the
/// per-column work list.
@Suite struct ConcurrentPrepareTests {
    @Test func backgroundDigestEqualsTheDirectOne() throws {
        let path = Fixtures.dataset("mlc_churn.csv")
        let pending = FileDigest.start(path: path)
        let direct = try FileDigest.sha256Hex(path: path)
        #expect(try pending.wait() == direct)
        // A second wait returns the same value instead of blocking.
        #expect(try pending.wait() == direct)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(direct == SHA256.hex(of: data))
    }

    @Test func backgroundDigestOfAMissingFileThrowsOnWait() {
        let pending = FileDigest.start(path: "/nonexistent/file.csv")
        #expect(throws: Diagnostic.self) { try pending.wait() }
    }

    @Test func columnWorkVisitsEveryIndexOnce() throws {
        let count = 1_000
        var hits = [Int](repeating: 0, count: count)
        let lock = NSLock()
        try hits.withUnsafeMutableBufferPointer { h in
            try ColumnWork.forEach(count, workers: 4) { i, worker in
                #expect((0..<4).contains(worker))
                lock.lock(); h[i] += 1; lock.unlock()
            }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }

    struct Failure: Error, Equatable { var index: Int }

    @Test func columnWorkRethrowsTheLowestFailingIndex() {
        // Whatever the threads' timing, the error is the one a serial loop would meet first.
        for _ in 0..<20 {
            #expect(throws: Failure(index: 3)) {
                try ColumnWork.forEach(64, workers: 2) { i, _ in
                    if i == 3 || i == 40 || i == 63 { throw Failure(index: i) }
                }
            }
        }
    }
}
