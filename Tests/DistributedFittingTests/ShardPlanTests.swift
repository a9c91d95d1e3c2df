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
}
