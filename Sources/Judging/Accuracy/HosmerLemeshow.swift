import Support

/// One risk group of the Hosmer–Lemeshow test.
public struct HosmerLemeshowGroup: Codable, Sendable, Equatable {
    public var count: Int
    /// Churners observed in the group.
    public var observed: Int
    /// Churners expected, Σ p over the group.
    public var expected: Double
    /// Smallest and largest prediction in the group.
    public var minPredicted: Double
    public var maxPredicted: Double
}

/// The Hosmer–Lemeshow goodness-of-fit test (Hosmer & Lemeshow 1980, "deciles of risk").
public struct HosmerLemeshowTest: Codable, Sendable, Equatable {
    /// Σ_g (O_g − E_g)² / (E_g·(1 − E_g/n_g)) over the risk groups, i.e. the Pearson chi-square of the
    /// g×2 table of observed versus expected churners and non-churners.
    public var statistic: Double
    /// Groups actually formed minus 2.
    public var degreesOfFreedom: Int
    /// Chi-square upper tail P(χ²_df > statistic).
    public var pValue: Double
    public var groups: [HosmerLemeshowGroup]
}

extension Calibration {
    /// Hosmer–Lemeshow test with `groups` risk groups formed like `CalibrationBinning.quantile`
    /// (default 10 = deciles of predicted risk; tied predictions never split, so heavy ties can leave
    /// fewer groups; df = groups formed − 2). A small p-value says the observed churn in some risk
    /// groups departs from the predictions by more than chance. Known caveat: with large n it rejects
    /// for trivial miscalibration, and the result depends on the grouping.
    public static func hosmerLemeshow<L: ChurnLabel>(labels: [L], probabilities: [Double], groups: Int = 10) throws -> HosmerLemeshowTest {
        guard groups >= 3 else {
            throw AccuracyError.invalidArgument("Hosmer–Lemeshow needs at least 3 groups (df = groups − 2), got \(groups)")
        }
        let checked = try checkInputs(labels: labels, scores: probabilities, requirement: .probability, minimumPerClass: 0, metric: "")
        return try hosmerLemeshow(RankedSample(churned: checked.churned, scores: probabilities), groups: groups)
    }

    static func hosmerLemeshow(_ ranked: RankedSample, groups: Int) throws -> HosmerLemeshowTest {
        let sums = binSums(ranked, bins: groups, binning: .quantile)
        guard sums.count >= 3 else {
            throw AccuracyError.degenerate(
                "Hosmer–Lemeshow formed only \(sums.count) risk group(s) (too few distinct predictions); it needs at least 3")
        }
        var statistic = CompensatedSum()
        for s in sums {
            let e1 = s.expectedChurners, e0 = s.expectedNonChurners
            guard e1 > 0, e0 > 0 else {
                throw AccuracyError.degenerate(
                    "a Hosmer–Lemeshow group has predictions all 0 or all 1 (expected count 0); the statistic is undefined")
            }
            let d = Double(s.churners) - e1
            // (O−E)²/E over churners and non-churners; the non-churner residual is −d.
            statistic.add(d * d / e1 + d * d / e0)
        }
        let df = sums.count - 2
        let x = statistic.value
        return HosmerLemeshowTest(
            statistic: x, degreesOfFreedom: df,
            pValue: try SpecialFunctions.chiSquareUpperTail(x, degreesOfFreedom: Double(df)),
            groups: sums.map {
                HosmerLemeshowGroup(count: $0.count, observed: $0.churners, expected: $0.expectedChurners,
                                    minPredicted: $0.lowerBound, maxPredicted: $0.upperBound)
            })
    }
}
