import DistributedFitting
import Testing

@Suite struct ShardPlanTests {
    @Test(arguments: [(0, 1), (1, 3), (10, 3), (352_000_001, 4), (7, 7)])
    func rangesTileTheFileInOrder(_ size: Int, _ ranks: Int) {
        let plan = ShardPlan(fileSize: size, ranks: ranks)
        #expect(plan.ranges.count == ranks)
        #expect(plan.ranges.first?.lowerBound == 0)
        #expect(plan.ranges.last?.upperBound == size)
        for (a, b) in zip(plan.ranges, plan.ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        let lengths = plan.ranges.map(\.count)
        #expect(lengths.max()! - lengths.min()! <= 1)
    }

    @Test func rangesOverAListOfFilesMapToPiecesOfEachFile() {
        // Files of 10, 0, 5 and 15 bytes, 3 ranks: 10 bytes each of the 30-byte concatenation.
        let plan = ShardPlan(sizes: [10, 0, 5, 15], ranks: 3)
        #expect(plan.ranges == [0..<10, 10..<20, 20..<30])
        #expect(plan.pieces(rank: 0).map(\.file) == [0] && plan.pieces(rank: 0).map(\.bytes) == [0..<10])
        #expect(plan.pieces(rank: 1).map(\.file) == [2, 3] && plan.pieces(rank: 1).map(\.bytes) == [0..<5, 0..<5])
        #expect(plan.pieces(rank: 2).map(\.file) == [3] && plan.pieces(rank: 2).map(\.bytes) == [5..<15])
        // Every byte of every file belongs to exactly one rank.
        for (file, size) in plan.sizes.enumerated() {
            let covered = (0..<3).flatMap { r in plan.pieces(rank: r).filter { $0.file == file }.flatMap { Array($0.bytes) } }
            #expect(covered.sorted() == Array(0..<size))
        }
    }
}
