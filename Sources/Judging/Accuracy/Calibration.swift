/// How predicted probabilities are grouped for a reliability table or Hosmer–Lemeshow.
public enum CalibrationBinning: String, Codable, Sendable {
    /// Groups of (nearly) equal size by predicted probability — deciles of risk for 10 bins. Bin k ends
    /// at sorted position ⌊k·n/g⌋, moved up past any rows tied with the row before it: rows with equal
    /// predictions always share a bin, so heavy ties can leave fewer than g bins.
    case quantile
    /// Bins [k/g, (k+1)/g) of equal width in probability (the last one closed at 1). Empty bins are left
    /// out of the table.
    case equalWidth
}

/// One bin of a reliability (calibration) table.
public struct ReliabilityBin: Codable, Sendable, Equatable {
    /// For quantile bins the smallest and largest prediction in the bin; for equal-width bins its edges.
    public var lowerBound: Double
    public var upperBound: Double
    public var count: Int
    public var churners: Int
    /// Mean predicted churn probability in the bin.
    public var meanPredicted: Double
    /// Observed churn rate in the bin.
    public var observedRate: Double
}

/// Predicted versus observed churn by bin, with the count-weighted summary.
public struct ReliabilityTable: Codable, Sendable, Equatable {
    public var binning: CalibrationBinning
    /// Bins asked for; `bins` can have fewer (empty equal-width bins, or tied quantile boundaries).
    public var requestedBins: Int
    /// Non-empty bins in increasing order of prediction.
    public var bins: [ReliabilityBin]
    /// Expected calibration error Σ_b (n_b/n)·|observed_b − predicted_b|.
    public var expectedCalibrationError: Double
    /// Largest |observed_b − predicted_b| over the bins.
    public var maximumCalibrationError: Double
}

/// Agreement between predicted churn probabilities and observed churn.
public enum Calibration {
    /// Reliability table: per bin count, churners, mean prediction and observed rate, plus the expected
    /// and maximum calibration errors. Default: 10 quantile bins (deciles of predicted probability).
    public static func reliability<L: ChurnLabel>(
        labels: [L], probabilities: [Double], bins: Int = 10, binning: CalibrationBinning = .quantile
    ) throws -> ReliabilityTable {
        guard bins >= 1 else { throw AccuracyError.invalidArgument("reliability needs at least 1 bin, got \(bins)") }
        let checked = try checkInputs(labels: labels, scores: probabilities, requirement: .probability, minimumPerClass: 0, metric: "")
        return reliability(RankedSample(churned: checked.churned, scores: probabilities), bins: bins, binning: binning)
    }

    /// Expected calibration error: the count-weighted mean of |observed rate − mean prediction| over
    /// the bins of `reliability` (0 for perfectly calibrated bins; depends on the binning).
    public static func expectedCalibrationError<L: ChurnLabel>(
        labels: [L], probabilities: [Double], bins: Int = 10, binning: CalibrationBinning = .quantile
    ) throws -> Double {
        try reliability(labels: labels, probabilities: probabilities, bins: bins, binning: binning).expectedCalibrationError
    }

    // MARK: shared

    static func reliability(_ ranked: RankedSample, bins: Int, binning: CalibrationBinning) -> ReliabilityTable {
        let sums = binSums(ranked, bins: bins, binning: binning)
        var ece = CompensatedSum()
        var mce = 0.0
        let table = sums.map { s -> ReliabilityBin in
            let predicted = s.expectedChurners / Double(s.count)
            let observed = Double(s.churners) / Double(s.count)
            ece.add(Double(s.count) * abs(observed - predicted))
            mce = max(mce, abs(observed - predicted))
            return ReliabilityBin(lowerBound: s.lowerBound, upperBound: s.upperBound, count: s.count,
                                  churners: s.churners, meanPredicted: predicted, observedRate: observed)
        }
        return ReliabilityTable(binning: binning, requestedBins: bins, bins: table,
                                expectedCalibrationError: ece.value / Double(ranked.count),
                                maximumCalibrationError: mce)
    }

    /// Per-bin totals shared by the reliability table and Hosmer–Lemeshow.
    struct BinSums {
        var lowerBound: Double
        var upperBound: Double
        var count: Int
        var churners: Int
        /// Σ p over the bin.
        var expectedChurners: Double
        /// Σ (1 − p) over the bin, summed directly rather than as count − Σ p.
        var expectedNonChurners: Double
    }

    static func binSums(_ ranked: RankedSample, bins: Int, binning: CalibrationBinning) -> [BinSums] {
        // Assign whole tie groups to bins (both binnings keep equal predictions together).
        var binOfGroup = [Int](repeating: 0, count: ranked.groups.count)
        switch binning {
        case .quantile:
            // Bin k−1 would be sorted positions [⌊(k−1)n/g⌋, ⌊kn/g⌋); a split that falls inside a tie
            // group moves to the group's end, and splits that coincide collapse.
            let n = ranked.count
            func boundary(_ k: Int) -> Int { k * n / bins }
            var k = 1
            while k < bins, boundary(k) <= 0 { k += 1 }
            var bin = 0
            for (index, g) in ranked.groups.enumerated() {
                binOfGroup[index] = bin
                if k < bins, boundary(k) <= g.end {
                    bin += 1
                    while k < bins, boundary(k) <= g.end { k += 1 }
                }
            }
        case .equalWidth:
            for (index, g) in ranked.groups.enumerated() { binOfGroup[index] = equalWidthBin(g.score, bins: bins) }
        }

        var out: [BinSums] = []
        var currentBin = -1
        var expected = CompensatedSum(), expectedNon = CompensatedSum()
        func flush() {
            guard currentBin >= 0 else { return }
            out[out.count - 1].expectedChurners = expected.value
            out[out.count - 1].expectedNonChurners = expectedNon.value
        }
        for (index, g) in ranked.groups.enumerated() {
            let bin = binOfGroup[index]
            if bin != currentBin {
                flush()
                currentBin = bin
                expected = CompensatedSum()
                expectedNon = CompensatedSum()
                let (lower, upper) = binning == .equalWidth
                    ? (Double(bin) / Double(bins), Double(bin + 1) / Double(bins))
                    : (g.score, g.score)
                out.append(BinSums(lowerBound: lower, upperBound: upper, count: 0, churners: 0,
                                   expectedChurners: 0, expectedNonChurners: 0))
            }
            out[out.count - 1].count += g.count
            out[out.count - 1].churners += g.churners
            if binning == .quantile { out[out.count - 1].upperBound = g.score }
            expected.add(Double(g.count) * g.score)
            expectedNon.add(Double(g.count) * (1 - g.score))
        }
        flush()
        return out
    }

    /// The k with k/g ≤ p < (k+1)/g (k = g−1 for p = 1), comparing against the same rounded edges the
    /// table reports so a prediction never lands outside its bin's printed range.
    static func equalWidthBin(_ p: Double, bins: Int) -> Int {
        var k = min(bins - 1, max(0, Int(p * Double(bins))))
        while k > 0, p < Double(k) / Double(bins) { k -= 1 }
        while k < bins - 1, p >= Double(k + 1) / Double(bins) { k += 1 }
        return k
    }
}
