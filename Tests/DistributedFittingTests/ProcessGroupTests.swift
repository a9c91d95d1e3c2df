import DistributedFitting
import Foundation
import Testing

/// Runs `body` once per rank of an in-process group, each on its own thread, and returns the
/// results in rank order.
func onRanks<T: Sendable>(_ ranks: Int, _ body: @escaping @Sendable (ProcessGroup) throws -> T) throws -> [T] {
    let groups = ProcessGroup.inProcess(ranks: ranks)
    let results = Locked([Result<T, Error>?](repeating: nil, count: ranks))
    // One thread per rank: a pool (concurrentPerform) may run fewer ranks than meet at a collective.
    let done = DispatchGroup()
    for r in 0..<ranks {
        done.enter()
        Thread.detachNewThread {
            let outcome = Result { try body(groups[r]) }
            results.update { $0[r] = outcome }
            done.leave()
        }
    }
    done.wait()
    return try results.value.map { try $0!.get() }
}

final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&stored) } }
}

@Suite struct ProcessGroupTests {
    @Test func singleProcessCollectivesReturnTheirInput() throws {
        let group = ProcessGroup.single
        var v = [1.5, -2, 3]
        try group.sum(&v)
        try group.max(&v)
        #expect(v == [1.5, -2, 3])
        #expect(try group.allGather([7, 8]) == [[7, 8]])
        #expect(try group.broadcast([9]) == [9])
        try group.agree(nil)
    }

    @Test(arguments: [2, 3, 5])
    func inProcessRanksSumGatherAndBroadcast(_ ranks: Int) throws {
        let k = Double(ranks)
        let results = try onRanks(ranks) { g -> ([Double], [Double], [Double], [[UInt8]], [UInt8]) in
            let r = Double(g.rank)
            var sums = [r + 1, 0.25], highs = [r, -r], lows = [r, -r]
            // Several rounds in a row: a fast rank must not overtake the previous exchange.
            for _ in 0..<3 { var scratch = [1.0]; try g.sum(&scratch) }
            try g.sum(&sums)
            try g.max(&highs)
            try g.min(&lows)
            let gathered = try g.allGather(Array(repeating: UInt8(g.rank), count: g.rank))
            let told = try g.broadcast(g.rank == 1 ? [42, 43] : [], from: 1)
            return (sums, highs, lows, gathered, told)
        }
        for (sums, highs, lows, gathered, told) in results {
            #expect(sums == [k * (k + 1) / 2, 0.25 * k])
            #expect(highs == [k - 1, 0])
            #expect(lows == [0, 1 - k])
            #expect(gathered == (0..<ranks).map { Array(repeating: UInt8($0), count: $0) })
            #expect(told == [42, 43])
        }
    }

    @Test func theLowestFailingRankReportsAndEveryRankStops() throws {
        let outcomes = try onRanks(4) { g -> String in
            do {
                try g.agree(g.rank >= 2 ? DistributedError.mismatch("planned") : nil)
                return "went on"
            } catch DistributedError.peerFailed(let at) {
                return "peer \(at)"
            } catch {
                return "own error"
            }
        }
        #expect(outcomes == ["peer 2", "peer 2", "own error", "peer 2"])
    }

    /// After one agreement every rank holds an error; agreeing again (the command's last word) must
    /// still leave the report to the rank whose error it was, not to the lowest rank.
    @Test func agreeingAgainKeepsTheReportWithTheFailingRank() throws {
        let outcomes = try onRanks(3) { g -> String in
            var held: Error? = nil
            do { try g.agree(g.rank == 1 ? DistributedError.mismatch("planned") : nil) } catch { held = error }
            do { try g.agree(held); return "went on" } catch DistributedError.peerFailed(let at) {
                return "peer \(at)"
            } catch { return "own error" }
        }
        #expect(outcomes == ["peer 1", "own error", "peer 1"])
    }

    #if !MPI
    @Test func withoutTheTraitTheWorldSaysHowToBuildIt() {
        #expect(!ProcessGroup.isAvailable)
        #expect(throws: DistributedError.self) { try ProcessGroup.world() }
        #expect(DistributedError.notBuilt.description.contains("--traits MPI"))
    }
    #endif
}
