import Foundation
import Testing
@testable import ScoringCore

/// Band cuts come from order statistics found by selection; a NaN score (which has no order) must
/// give the answer a full sort gives.
@Suite struct BandSelectionTests {
    @Test func aNaNScoreKeepsTheSortedAnswer() {
        let scores = [3.0, .nan, 1.0, 2.0, 5.0, 4.0]
        let spec = ScoringSpec.fromQuantiles(scores, shares: [0.5, 0.5], labels: ["a", "b"], colours: ["g", "r"], scale: .probability)
        let sorted = scores.sorted(by: >)
        // Bit patterns, so a NaN cut (if the NaN sorts into the middle) compares equal too.
        #expect(spec.bands[0].minScore?.bitPattern == ((sorted[2] + sorted[3]) / 2).bitPattern)
    }
}
