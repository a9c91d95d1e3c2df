import DistributedFitting
import FitEngine
import Foundation
import Testing
import TestSupport

/// One rank's rows as one block, whose reading fails on a chosen pass (its file vanished, a disk
/// error): a stand-in for a file shard that the statistics pass read but a later pass cannot.
final class FailingShard: RowBlockSource, @unchecked Sendable {
    struct ReadFailure: Error, CustomStringConvertible { var description: String { "planned read failure" } }
    let group: ProcessGroup
    let failOnPass: Int?
    let rows: Int
    var x: [Double]
    var y: [Double]
    private var passes = 0

    init(group: ProcessGroup, rows: Int, failOnPass: Int?) {
        self.group = group
        self.rows = rows
        self.failOnPass = failOnPass
        var rng = SeededRandom(seed: 100 + UInt64(group.rank))
        x = [Double](repeating: 1, count: 3 * rows)
        y = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            let a = rng.normal(), b = rng.normal()
            x[rows + i] = a
            x[2 * rows + i] = b
            y[i] = rng.uniform() < 1 / (1 + exp(-(-1 + 0.8 * a - 0.5 * b))) ? 1 : 0
        }
    }

    var columnCount: Int { 3 }
    var concurrency: Int { 1 }

    func forEachBlock(_ body: (Int, DesignBlock) throws -> Void) throws {
        passes += 1
        if passes == failOnPass { throw ReadFailure() }
        try x.withUnsafeBufferPointer { xs in
            try y.withUnsafeBufferPointer { ys in
                try body(0, DesignBlock(x: xs.baseAddress!, stride: rows, rows: rows, y: ys.baseAddress!, weights: nil))
            }
        }
    }

    func sumAcrossProcesses(_ values: inout [Double]) throws { try group.sum(&values) }
}

/// A rank whose reading fails in a solver pass must not leave the others waiting in that pass's
/// sum: every rank leaves the pass, the failing one reports its error, the others stop quietly.
@Suite struct PassFailureTests {
    /// Pass 1 is the moments pass, pass 4 a Newton trial pass. (Without the protocol the other
    /// ranks wait in the pass's sum for good: the time limit turns that hang into a failure.)
    @Test(.timeLimit(.minutes(1)), arguments: [1, 4])
    func aRankFailingInASolverPassStopsEveryRank(_ failingPass: Int) throws {
        let outcomes = try onRanks(3) { group -> String in
            let shard = FailingShard(group: group, rows: 2_000, failOnPass: group.rank == 1 ? failingPass : nil)
            do {
                _ = try LogisticRegression.fit(source: shard, termNames: ["(Intercept)", "a", "b"], options: FitOptions())
                return "fitted"
            } catch {
                // What `fit --distributed` does with any error: agree on it, so one rank reports.
                do { try group.agree(error); return "agreed on no error" } catch { return "\(error)" }
            }
        }
        #expect(outcomes[1] == "planned read failure")
        #expect(outcomes[0] == "\(DistributedError.peerFailed(rank: 1))")
        #expect(outcomes[2] == "\(DistributedError.peerFailed(rank: 1))")
    }

    @Test func withoutAFailureEveryRankFitsTheSameModel() throws {
        let fits = try onRanks(3) { group -> [Double] in
            let shard = FailingShard(group: group, rows: 2_000, failOnPass: nil)
            let fit = try LogisticRegression.fit(source: shard, termNames: ["(Intercept)", "a", "b"], options: FitOptions())
            return fit.coefficients.map { $0! }
        }
        #expect(fits[0] == fits[1] && fits[1] == fits[2])
        #expect(abs(fits[0][1] - 0.8) < 0.15 && abs(fits[0][2] + 0.5) < 0.15)
    }
}
