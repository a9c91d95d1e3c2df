/// The Kolmogorov–Smirnov separation of a score: the largest gap between the share of churners and the
/// share of non-churners flagged at one threshold, with the operating point where it occurs.
public struct KSStatistic: Codable, Sendable, Equatable {
    /// max over thresholds of |TPR − FPR|, in [0, 1].
    public var statistic: Double
    /// Flag rows with score ≥ this value to reach the maximum (the highest such threshold if several tie).
    public var threshold: Double
    public var truePositiveRate: Double
    public var falsePositiveRate: Double
}

extension ROC {
    /// The KS statistic, max |TPR − FPR| over the distinct score thresholds. Compared as exact integers
    /// (|tp·N − fp·P|), so ties between thresholds are detected exactly and resolved to the highest one.
    public static func ks<L: ChurnLabel>(labels: [L], scores: [Double]) throws -> KSStatistic {
        let checked = try checkInputs(labels: labels, scores: scores, requirement: .finite, minimumPerClass: 1, metric: "KS")
        return ks(RankedSample(churned: checked.churned, scores: scores))
    }

    static func ks(_ ranked: RankedSample) -> KSStatistic {
        let p = ranked.churners, q = ranked.nonChurners
        var tp = 0, fp = 0
        var best = -1, bestTP = 0, bestFP = 0
        var bestThreshold = 0.0
        for g in ranked.groups.reversed() {
            tp += g.churners
            fp += g.nonChurners
            let gap = abs(tp * q - fp * p)
            if gap > best {
                best = gap
                bestTP = tp
                bestFP = fp
                bestThreshold = g.score
            }
        }
        return KSStatistic(
            statistic: Double(best) / (Double(p) * Double(q)), threshold: bestThreshold,
            truePositiveRate: Double(bestTP) / Double(p), falsePositiveRate: Double(bestFP) / Double(q))
    }
}
