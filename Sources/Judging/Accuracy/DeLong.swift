import Support

// DeLong, DeLong & Clarke-Pearson (1988) inference for the AUC, with the placements ("structural
// components") V10 and V01 obtained from one sort as in Sun & Xu (2014).
//
// Sun & Xu write V10(i) = (T_Z(i) − T_X(i)) / n with T_Z the midrank of churner i among all rows and
// T_X its midrank among churners; that difference is exactly (non-churners ranked below) + ½·(tied
// non-churners). The walk over tie groups produces it directly, doubled to stay an integer:
//   c_i = 2·(non-churners below) + (non-churners tied)   so  V10(i) = c_i / (2N)
//   d_j = 2·(churners above)     + (churners tied)       so  V01(j) = d_j / (2M)
// (M churners, N non-churners). With S = Σ c_i, the deviations V10(i) − AUC = (M·c_i − S)/(2MN) have
// exact integer numerators (|M·c_i − S| < n²/2 fits Int64 for n ≤ Int32.max, and is exact as a Double
// below ~10^8 rows), so the variance is a sum of non-negative squares: no cancellation.

/// The AUC with its DeLong variance and normal confidence interval, as pROC's `ci.auc(method = "delong")`.
public struct DeLongAUC: Codable, Sendable, Equatable {
    public var auc: Double
    /// DeLong variance S10/M + S01/N (S10, S01: sample variances of the placements, denominators M−1, N−1).
    public var variance: Double
    public var standardError: Double
    public var confidenceLevel: Double
    /// AUC − z·SE and AUC + z·SE with z the normal quantile (1.959963984540054 at 95%), clamped to [0, 1]
    /// exactly as pROC 1.18.0 does (its R/delong.R sets CI ends above 1 to 1 and below 0 to 0).
    public var lower: Double
    public var upper: Double
    /// M and N, the class sizes the variance is built from.
    public var churners: Int
    public var nonChurners: Int
}

/// The paired DeLong test that two scores of the same rows have equal AUC, as pROC's
/// `roc.test(method = "delong", paired = TRUE)`.
public struct DeLongTest: Codable, Sendable, Equatable {
    public var auc1: Double
    public var auc2: Double
    /// auc1 − auc2, computed from the exact integer Mann–Whitney numerators.
    public var difference: Double
    public var variance1: Double
    public var variance2: Double
    /// DeLong covariance of the two AUC estimates.
    public var covariance: Double
    /// Standard error of the difference, sqrt(var1 + var2 − 2·cov), computed directly from the
    /// per-row differences of placements so that near-equal scores do not lose digits to cancellation.
    public var standardError: Double
    /// z = difference / standardError.
    public var z: Double
    /// Two-sided p-value 2·Φ(−|z|) = erfc(|z|/√2).
    public var pValue: Double
    public var confidenceLevel: Double
    /// Normal confidence interval of the difference (pROC 1.18's `conf.int`), not clamped.
    public var differenceLower: Double
    public var differenceUpper: Double
}

extension ROC {
    /// AUC with DeLong variance, standard error and confidence interval. Needs at least two churners and
    /// two non-churners (the placement variances divide by M−1 and N−1).
    public static func delong<L: ChurnLabel>(
        labels: [L], scores: [Double], confidenceLevel: Double = 0.95
    ) throws -> DeLongAUC {
        let checked = try checkInputs(labels: labels, scores: scores, requirement: .finite, minimumPerClass: 2, metric: "DeLong inference")
        let z = try SpecialFunctions.twoSidedNormalQuantile(confidenceLevel: confidenceLevel)
        return delong(RankedSample(churned: checked.churned, scores: scores), z: z, confidenceLevel: confidenceLevel)
    }

    /// Paired DeLong test comparing the AUCs of two scores of the same rows (e.g. a full model and one
    /// without a predictor). Throws `degenerate` if the two scores rank every row identically, where the
    /// difference has zero variance and z is undefined.
    public static func delongTest<L: ChurnLabel>(
        labels: [L], scores1: [Double], scores2: [Double], confidenceLevel: Double = 0.95
    ) throws -> DeLongTest {
        let checked = try checkInputs(labels: labels, scores: scores1, requirement: .finite, minimumPerClass: 2, metric: "the DeLong test")
        try checkScores(scores2, count: checked.count, requirement: .finite, what: "scores2")
        let zq = try SpecialFunctions.twoSidedNormalQuantile(confidenceLevel: confidenceLevel)
        let a = Placements(RankedSample(churned: checked.churned, scores: scores1), churned: checked.churned)
        let b = Placements(RankedSample(churned: checked.churned, scores: scores2), churned: checked.churned)
        let m = a.churners, n = a.nonChurners

        let moments = Placements.pairedMoments(a, b)
        let difference = Double(a.sumChurners - b.sumChurners) / (2 * Double(m) * Double(n))
        let varDiff = moments.varianceOfDifference
        guard varDiff > 0 else {
            throw AccuracyError.degenerate(
                "the two scores rank the rows identically (the AUC difference has zero variance); nothing to test")
        }
        let se = varDiff.squareRoot()
        let z = difference / se
        return DeLongTest(
            auc1: a.auc, auc2: b.auc, difference: difference,
            variance1: moments.variance1, variance2: moments.variance2, covariance: moments.covariance,
            standardError: se, z: z, pValue: SpecialFunctions.normalTwoSidedPValue(z),
            confidenceLevel: confidenceLevel,
            differenceLower: difference - zq * se, differenceUpper: difference + zq * se)
    }

    static func delong(_ ranked: RankedSample, z: Double, confidenceLevel: Double) -> DeLongAUC {
        let (auc, variance) = Placements.aucAndVariance(ranked)
        let se = variance.squareRoot()
        return DeLongAUC(
            auc: auc, variance: variance, standardError: se, confidenceLevel: confidenceLevel,
            lower: min(1, max(0, auc - z * se)), upper: min(1, max(0, auc + z * se)),
            churners: ranked.churners, nonChurners: ranked.nonChurners)
    }
}

/// Doubled DeLong placements per original row (c_i for churners, d_j for non-churners; see the file
/// header) and their sums, all exact integers — the per-row table the paired test aligns by row.
struct Placements {
    var twice: [Int]
    /// Label per original row.
    var churned: [Bool]
    var churners: Int
    var nonChurners: Int
    var sumChurners = 0
    var sumNonChurners = 0

    init(_ ranked: RankedSample, churned: [Bool]) {
        var twice = [Int](repeating: 0, count: ranked.count)
        var sumC = 0, sumD = 0
        Self.forEachGroupPlacement(ranked) { g, c, d in
            for position in g.start..<g.end {
                twice[Int(ranked.order[position])] = ranked.sortedChurned[position] ? c : d
            }
            sumC += g.churners * c
            sumD += g.nonChurners * d
        }
        self.twice = twice
        self.churned = churned
        churners = ranked.churners
        nonChurners = ranked.nonChurners
        sumChurners = sumC
        sumNonChurners = sumD
    }

    var auc: Double { Double(sumChurners) / (2 * Double(churners) * Double(nonChurners)) }

    /// AUC and DeLong variance of one score straight from the tie groups (all rows of a group share
    /// their placement), without the per-row table the paired test needs.
    static func aucAndVariance(_ ranked: RankedSample) -> (auc: Double, variance: Double) {
        let m = ranked.churners, n = ranked.nonChurners
        var sumC = 0, sumD = 0
        forEachGroupPlacement(ranked) { g, c, d in
            sumC += g.churners * c
            sumD += g.nonChurners * d
        }
        var ss10 = CompensatedSum(), ss01 = CompensatedSum()
        forEachGroupPlacement(ranked) { g, c, d in
            let dev10 = Double(m * c - sumC), dev01 = Double(n * d - sumD)  // exact below ~10^8 rows
            if g.churners > 0 { ss10.add(Double(g.churners) * (dev10 * dev10)) }
            if g.nonChurners > 0 { ss01.add(Double(g.nonChurners) * (dev01 * dev01)) }
        }
        return (Double(sumC) / (2 * Double(m) * Double(n)), combine(ss10.value, ss01.value, m: m, n: n))
    }

    /// Calls `body(group, c, d)` with the doubled placements shared by the group's churners (c) and
    /// non-churners (d).
    @inline(__always)
    private static func forEachGroupPlacement(_ ranked: RankedSample, _ body: (RankedSample.TieGroup, Int, Int) -> Void) {
        let m = ranked.churners
        var nonChurnersBelow = 0, churnersBelow = 0
        for g in ranked.groups {
            body(g, 2 * nonChurnersBelow + g.nonChurners, 2 * (m - churnersBelow - g.churners) + g.churners)
            nonChurnersBelow += g.nonChurners
            churnersBelow += g.churners
        }
    }

    /// For two scores of the same rows, in one pass: both DeLong variances, their covariance and the
    /// variance of the AUC difference. The latter is computed from the per-row differences of the doubled
    /// placements — exact integers — rather than as var1 + var2 − 2·cov, which cancels when the two
    /// scores are close.
    static func pairedMoments(_ a: Placements, _ b: Placements)
        -> (variance1: Double, variance2: Double, covariance: Double, varianceOfDifference: Double) {
        let m = a.churners, n = a.nonChurners
        let sumDiffChurners = a.sumChurners - b.sumChurners, sumDiffNonChurners = a.sumNonChurners - b.sumNonChurners
        var aa10 = CompensatedSum(), bb10 = CompensatedSum(), ab10 = CompensatedSum(), dd10 = CompensatedSum()
        var aa01 = CompensatedSum(), bb01 = CompensatedSum(), ab01 = CompensatedSum(), dd01 = CompensatedSum()
        for row in 0..<a.churned.count {
            let ta = a.twice[row], tb = b.twice[row]
            if a.churned[row] {
                let da = Double(m * ta - a.sumChurners), db = Double(m * tb - b.sumChurners)
                let dd = Double(m * (ta - tb) - sumDiffChurners)
                aa10.add(da * da); bb10.add(db * db); ab10.add(da * db); dd10.add(dd * dd)
            } else {
                let da = Double(n * ta - a.sumNonChurners), db = Double(n * tb - b.sumNonChurners)
                let dd = Double(n * (ta - tb) - sumDiffNonChurners)
                aa01.add(da * da); bb01.add(db * db); ab01.add(da * db); dd01.add(dd * dd)
            }
        }
        return (combine(aa10.value, aa01.value, m: m, n: n), combine(bb10.value, bb01.value, m: m, n: n),
                combine(ab10.value, ab01.value, m: m, n: n), combine(dd10.value, dd01.value, m: m, n: n))
    }

    /// Undo the scalings: a churner deviation is (M·c − S)/(2MN), a non-churner one (N·d − S)/(2MN).
    private static func combine(_ sum10: Double, _ sum01: Double, m: Int, n: Int) -> Double {
        let md = Double(m), nd = Double(n)
        let scale = 4 * md * md * nd * nd  // (2MN)²
        let s10 = sum10 / scale / (md - 1)
        let s01 = sum01 / scale / (nd - 1)
        return s10 / md + s01 / nd
    }
}
