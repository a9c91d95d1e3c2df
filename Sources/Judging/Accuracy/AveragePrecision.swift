/// Precision–recall summaries of a ranking.
public enum PrecisionRecall {
    /// Average precision, scikit-learn's `average_precision_score`: Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct
    /// score thresholds taken from the highest down, where Pₙ and Rₙ are precision and recall when rows
    /// with score ≥ the n-th threshold are flagged (R₀ = 0). A step-function area — no interpolation
    /// between points, which would overstate the area. Tied scores enter together, so the value does
    /// not depend on row order. Needs at least one churner; non-churners may be absent.
    public static func averagePrecision<L: ChurnLabel>(labels: [L], scores: [Double]) throws -> Double {
        let checked = try checkInputs(labels: labels, scores: scores, requirement: .finite, minimumPerClass: 0, metric: "")
        guard checked.churners > 0 else {
            throw AccuracyError.notEnoughOfEachClass(
                metric: "average precision (recall is undefined without churners)",
                churners: 0, nonChurners: checked.nonChurners, needed: 1)
        }
        return averagePrecision(RankedSample(churned: checked.churned, scores: scores))
    }

    static func averagePrecision(_ ranked: RankedSample) -> Double {
        let p = Double(ranked.churners)
        var tp = 0, flagged = 0
        var sum = CompensatedSum()
        for g in ranked.groups.reversed() {
            tp += g.churners
            flagged += g.count
            if g.churners > 0 {
                // (ΔR)·P = (Δtp / P)·(tp / flagged)
                sum.add(Double(g.churners) / p * (Double(tp) / Double(flagged)))
            }
        }
        return sum.value
    }
}
