/// Ranking accuracy of a score: the area under the ROC curve, its DeLong inference, the curve itself
/// and the Kolmogorov–Smirnov statistic.
///
/// Direction is fixed: a higher score means more churn risk. (pROC's `direction = "auto"` would flip a
/// score whose churners rank lower; here such a score simply has AUC < 0.5.)
public enum ROC {
    /// The probability that a randomly chosen churner scores higher than a randomly chosen non-churner,
    /// counting ties as 1/2 — the Mann–Whitney form of the AUC, equal to the trapezoidal area under the
    /// empirical ROC curve. Computed from one sort with an exact integer numerator, so the result is the
    /// correctly rounded rational value (up to ~10^8 rows, where the integers stay below 2^53).
    public static func auc<L: ChurnLabel>(labels: [L], scores: [Double]) throws -> Double {
        let checked = try checkInputs(labels: labels, scores: scores, requirement: .finite, minimumPerClass: 1, metric: "AUC")
        return auc(RankedSample(churned: checked.churned, scores: scores))
    }

    /// The empirical ROC curve: one point per distinct score, read as "flag every row whose score is at
    /// least `threshold`", from (0, 0) (flag nobody) to (1, 1) (flag everybody).
    public static func curve<L: ChurnLabel>(labels: [L], scores: [Double]) throws -> ROCCurve {
        let checked = try checkInputs(labels: labels, scores: scores, requirement: .finite, minimumPerClass: 1, metric: "the ROC curve")
        return curve(RankedSample(churned: checked.churned, scores: scores))
    }

    // MARK: shared with `evaluate`

    /// 2·(Mann–Whitney U) as an exact integer: Σ over churners of 2·(non-churners below) + (non-churners tied).
    static func twiceU(_ ranked: RankedSample) -> Int {
        var nonChurnersBelow = 0
        var twice = 0
        for g in ranked.groups {
            twice += g.churners * (2 * nonChurnersBelow + g.nonChurners)
            nonChurnersBelow += g.nonChurners
        }
        return twice
    }

    static func auc(_ ranked: RankedSample) -> Double {
        Double(twiceU(ranked)) / (2 * Double(ranked.churners) * Double(ranked.nonChurners))
    }

    /// The curve, or at most `maxPoints` of it chosen as `ROCCurve.thinned` would, without first
    /// materialising a point per distinct score.
    static func curve(_ ranked: RankedSample, maxPoints: Int? = nil) -> ROCCurve {
        let p = Double(ranked.churners), q = Double(ranked.nonChurners)
        var selection = ROCCurve.Selection(count: ranked.groups.count + 1, maxPoints: maxPoints)
        var points = [ROCPoint]()
        points.reserveCapacity(selection.expectedCount)
        var tp = 0, fp = 0
        var index = 0
        if selection.next == 0 {
            points.append(ROCPoint(fpr: 0, tpr: 0, threshold: nil))
            selection.advance()
        }
        for g in ranked.groups.reversed() {
            tp += g.churners
            fp += g.nonChurners
            index += 1
            if index == selection.next {
                points.append(ROCPoint(fpr: Double(fp) / q, tpr: Double(tp) / p, threshold: g.score))
                selection.advance()
            }
        }
        return ROCCurve(points: points)
    }
}

/// One operating point of a score: flag rows with score ≥ `threshold`.
public struct ROCPoint: Codable, Sendable, Equatable {
    /// False-positive rate: share of non-churners flagged (1 − specificity).
    public var fpr: Double
    /// True-positive rate: share of churners flagged (sensitivity, recall).
    public var tpr: Double
    /// The cut-off; `nil` for the starting point where nobody is flagged (a threshold above every score,
    /// kept out of the JSON as `nil` because JSON has no infinity).
    public var threshold: Double?

    public init(fpr: Double, tpr: Double, threshold: Double?) {
        self.fpr = fpr
        self.tpr = tpr
        self.threshold = threshold
    }
}

/// The empirical ROC curve, points ordered by decreasing threshold (increasing fpr and tpr).
public struct ROCCurve: Codable, Sendable, Equatable {
    public var points: [ROCPoint]

    public init(points: [ROCPoint]) { self.points = points }

    /// At most `maxPoints` points (≥ 2) for plotting, evenly spaced along the curve's point list and
    /// always keeping both end points. A plot of millions of rows does not need millions of points.
    public func thinned(maxPoints: Int) -> ROCCurve {
        var selection = Selection(count: points.count, maxPoints: maxPoints)
        var kept: [ROCPoint] = []
        kept.reserveCapacity(selection.expectedCount)
        while selection.next < points.count {
            kept.append(points[selection.next])
            selection.advance()
        }
        return ROCCurve(points: kept)
    }

    /// Indices round(k·(count−1)/(m−1)), k = 0…m−1, of the points kept out of `count` (all if `maxPoints`
    /// is nil or not smaller), in increasing order.
    struct Selection {
        private let count: Int
        private let kept: Int
        private var k = 0
        /// The next index to keep; `count` when done.
        private(set) var next = 0

        init(count: Int, maxPoints: Int?) {
            self.count = count
            kept = min(count, max(2, maxPoints ?? count))
            next = count > 0 ? 0 : count
        }

        var expectedCount: Int { kept }

        mutating func advance() {
            while true {
                k += 1
                guard k < kept else {
                    next = count
                    return
                }
                let index = kept == count ? k : Int((Double(k) * Double(count - 1) / Double(kept - 1)).rounded())
                if index > next {
                    next = index
                    return
                }
            }
        }
    }
}
