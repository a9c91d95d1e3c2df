import DistributedFitting
import Foundation

// Checks every collective of `ProcessGroup` under `mpirun -np K` with values whose result each rank
// can predict; exits non-zero on any mismatch. Run by .ci/mpi-check.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mpi smoke: \(message)\n".utf8))
    exit(1)
}

let group: ProcessGroup
do { group = try ProcessGroup.world() } catch { fail("\(error)") }
let r = Double(group.rank), k = Double(group.size)
do {
    var sums = [r + 1, -2 * (r + 1), 0.5]
    try group.sum(&sums)
    let triangle = k * (k + 1) / 2
    guard sums == [triangle, -2 * triangle, 0.5 * k] else { fail("rank \(group.rank): sum gave \(sums)") }

    var highs = [r, -r], lows = [r, -r]
    try group.max(&highs)
    try group.min(&lows)
    guard highs == [k - 1, 0], lows == [0, 1 - k] else { fail("rank \(group.rank): max \(highs), min \(lows)") }

    // Lengths differ by rank (rank 0 sends nothing), as level sets do.
    let gathered = try group.allGather(Array(repeating: UInt8(group.rank), count: group.rank * 3))
    for (from, bytes) in gathered.enumerated() where bytes != Array(repeating: UInt8(from), count: from * 3) {
        fail("rank \(group.rank): allGather from rank \(from) gave \(bytes.count) bytes")
    }

    let root = group.size - 1
    let told = try group.broadcast(group.rank == root ? Array("from the last rank".utf8) : [], from: root)
    guard String(decoding: told, as: UTF8.self) == "from the last rank" else { fail("rank \(group.rank): broadcast gave \(told)") }

    try group.agree(nil)
    var failedAt: Int? = nil
    do { try group.agree(group.rank == root ? DistributedError.mismatch("planned") : nil) } catch DistributedError.peerFailed(let at) {
        failedAt = at
    } catch DistributedError.mismatch { failedAt = group.rank }
    guard failedAt == root else { fail("rank \(group.rank): agree reported \(String(describing: failedAt)) instead of rank \(root)") }
    // Agreeing again on the errors just agreed on (the fit command's last word) keeps the report with the root.
    var again: Int? = nil
    do { try group.agree(group.rank == root ? DistributedError.mismatch("planned") : DistributedError.peerFailed(rank: root)) } catch DistributedError.peerFailed(let at) {
        again = at
    } catch DistributedError.mismatch { again = group.rank }
    guard again == root else { fail("rank \(group.rank): agreeing again reported \(String(describing: again)) instead of rank \(root)") }
} catch { fail("rank \(group.rank): \(error)") }
print("mpi smoke: rank \(group.rank) of \(group.size) ok")

// `MPISmoke --reduce-cost P`: what one Newton iteration adds in communication, the all-reduce of
// a P×P information matrix, a P-gradient and a few scalars, timed over many repetitions.
if let flag = CommandLine.arguments.firstIndex(of: "--reduce-cost"), let p = Int(CommandLine.arguments[flag + 1]) {
    var message = [Double](repeating: 1, count: p * p + p + 3)
    let repetitions = 2_000
    do {
        for _ in 0..<50 { try group.sum(&message) }
        try group.agree(nil)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repetitions { message[0] = 1; try group.sum(&message) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repetitions)
        if group.rank == 0 {
            print("mpi smoke: all-reduce of \(message.count) doubles (p = \(p)) on \(group.size) ranks: \(String(format: "%.1f", seconds * 1e6)) µs")
        }
    } catch { fail("rank \(group.rank): \(error)") }
}
group.finish()
