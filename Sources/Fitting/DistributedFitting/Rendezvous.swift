import Foundation

/// Where the threads of `ProcessGroup.inProcess` meet: each collective is one `exchange` in which
/// every rank leaves its bytes and takes everyone's, in rank order.
final class Rendezvous: @unchecked Sendable {
    private let size: Int
    private let condition = NSCondition()
    private var deposits: [[UInt8]?]
    private var taken = 0
    /// Rounds completed; a rank waits for its own round to finish before the next may start.
    private var round = 0

    init(size: Int) {
        self.size = size
        deposits = Array(repeating: nil, count: size)
    }

    func exchange(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
        // A fast rank may arrive while the previous round is still being collected.
        while deposits[rank] != nil { condition.wait() }
        let myRound = round
        deposits[rank] = bytes
        condition.broadcast()
        while round == myRound && deposits.contains(where: { $0 == nil }) { condition.wait() }
        let all = deposits.map { $0! }
        taken += 1
        if taken == size {
            taken = 0
            round += 1
            deposits = Array(repeating: nil, count: size)
            condition.broadcast()
        } else {
            while round == myRound { condition.wait() }
        }
        return all
    }
}
