import Foundation
import Testing
@testable import ScoringCore

/// Band cuts come from two order statistics per cut, found by selection rather than a full sort;
/// they must be exactly the sorted array's values.
@Suite struct BandSelectionTests {
    /// A reproducible pseudo-random sequence (SplitMix64) without Foundation's generator.
    static func values(_ n: Int, seed: UInt64, distinct: Int?) -> [Double] {
        var state = seed
        return (0..<n).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            if let distinct { return Double(z % UInt64(distinct)) - Double(distinct / 2) }
            return Double(z >> 11) / Double(1 << 53) * 200 - 100
        }
    }

    @Test(arguments: [nil, 3, 50] as [Int?])
    func selectionEqualsTheSortedValue(distinct: Int?) {
        let v = Self.values(5_003, seed: 42, distinct: distinct)
        let sorted = v.sorted(by: >)
        for k in [0, 1, 2, 1250, 1251, 2501, 2502, 3752, 5001, 5002] {
            var work = v
            let got = work.withUnsafeMutableBufferPointer { ScoringSpec.descendingOrderStatistic($0, k) }
            #expect(got == sorted[k], "k = \(k)")
            #expect(work.sorted(by: >) == sorted)  // rearranged, not changed
        }
    }

    @Test func quantileCutsEqualTheSortBasedCuts() {
        for (seed, distinct) in [(1, nil), (2, 7), (3, 1000)] as [(UInt64, Int?)] {
            let scores = Self.values(20_001, seed: seed, distinct: distinct)
            let shares = [0.2, 0.3, 0.5]
            let spec = ScoringSpec.fromQuantiles(scores, shares: shares, labels: ["a", "b", "c"], colours: ["g", "y", "r"],
                                                 scale: .probability)
            let sorted = scores.sorted(by: >)
            var cumulative = 0.0
            for (i, share) in shares.enumerated().dropLast() {
                cumulative += share
                let k = min(max(Int((cumulative * Double(scores.count)).rounded()), 1), scores.count - 1)
                #expect(spec.bands[i].minScore == (sorted[k - 1] + sorted[k]) / 2)
            }
            #expect(spec.bands.last?.minScore == nil)
        }
    }

    @Test func aNaNScoreKeepsTheSortedAnswer() {
        let scores = [3.0, .nan, 1.0, 2.0, 5.0, 4.0]
        let spec = ScoringSpec.fromQuantiles(scores, shares: [0.5, 0.5], labels: ["a", "b"], colours: ["g", "r"], scale: .probability)
        let sorted = scores.sorted(by: >)
        // Bit patterns, so a NaN cut (if the NaN sorts into the middle) compares equal too.
        #expect(spec.bands[0].minScore?.bitPattern == ((sorted[2] + sorted[3]) / 2).bitPattern)
    }
}
