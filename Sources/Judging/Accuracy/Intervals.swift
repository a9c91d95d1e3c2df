import Support
/// Wilson score interval for a binomial proportion (Wilson 1927): the set of rates p for which the
/// observed count is not rejected by the score test. Unlike the Wald interval p̂ ± z·√(p̂(1−p̂)/n) it
/// never leaves [0, 1] and keeps sensible coverage for small bands and rates near 0 or 1.
public struct WilsonInterval: Codable, Sendable, Equatable {
    public var lower: Double
    public var upper: Double

    /// Interval for `successes` out of `trials` at `confidenceLevel` (default 95%, z = 1.959963984540054):
    /// (2k + z² ± z·√(z² + 4k(n−k)/n)) / (2(n + z²)). The lower end is evaluated as
    /// k² / (n(n + z²)·upper) — the two ends multiply to that — to avoid cancellation for small k.
    public init(successes: Int, trials: Int, confidenceLevel: Double = 0.95) throws {
        guard trials > 0 else { throw AccuracyError.invalidArgument("a Wilson interval needs at least 1 trial, got \(trials)") }
        guard successes >= 0, successes <= trials else {
            throw AccuracyError.invalidArgument("Wilson interval: successes must be in 0…\(trials), got \(successes)")
        }
        let z = try SpecialFunctions.twoSidedNormalQuantile(confidenceLevel: confidenceLevel)
        let k = Double(successes), n = Double(trials), z2 = z * z
        let root = z * (z2 + 4 * k * (n - k) / n).squareRoot()
        let upperEnd = (2 * k + z2 + root) / (2 * (n + z2))  // no cancellation: all terms ≥ 0
        upper = successes == trials ? 1 : min(1, upperEnd)
        lower = successes == 0 ? 0 : max(0, k * k / (n * (n + z2) * upperEnd))
    }
}

/// Churn in one band (e.g. a health-score tier) with its Wilson interval.
public struct BandChurnRate: Codable, Sendable, Equatable {
    public var band: String
    public var count: Int
    public var churners: Int
    public var rate: Double
    public var lower: Double
    public var upper: Double
}

public enum ChurnBands {
    /// Churn rate per band with Wilson intervals. Bands are listed in `order` if given (bands missing
    /// from `order` follow, and listed bands absent from the data are skipped), otherwise sorted by name
    /// (byte order) so the output does not depend on row order.
    public static func rates<L: ChurnLabel>(
        bands: [String], labels: [L], confidenceLevel: Double = 0.95, order: [String]? = nil
    ) throws -> [BandChurnRate] {
        let checked = try checkLabels(labels)
        guard bands.count == checked.count else {
            throw AccuracyError.lengthMismatch(what: "bands", expected: checked.count, actual: bands.count)
        }
        var counts: [String: (count: Int, churners: Int)] = [:]
        for (row, band) in bands.enumerated() {
            counts[band, default: (0, 0)].count += 1
            if checked.churned[row] { counts[band, default: (0, 0)].churners += 1 }
        }
        let byName = counts.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var names: [String] = []
        if let order {
            var listed = Set<String>()
            for band in order where counts[band] != nil && !listed.contains(band) {
                names.append(band)
                listed.insert(band)
            }
            names += byName.filter { !listed.contains($0) }
        } else {
            names = byName
        }
        return try names.map { band in
            let c = counts[band]!
            let interval = try WilsonInterval(successes: c.churners, trials: c.count, confidenceLevel: confidenceLevel)
            return BandChurnRate(band: band, count: c.count, churners: c.churners,
                                 rate: Double(c.churners) / Double(c.count),
                                 lower: interval.lower, upper: interval.upper)
        }
    }
}

extension SpecialFunctions {
    /// z for a two-sided interval at `confidenceLevel`, i.e. Φ⁻¹(1 − (1 − level)/2). At 0.95 this is
    /// R's `qnorm(0.975)` = 1.959963984540054 exactly, so intervals match pROC digit for digit.
    public static func twoSidedNormalQuantile(confidenceLevel: Double) throws -> Double {
        guard confidenceLevel > 0, confidenceLevel < 1 else {
            throw AccuracyError.invalidArgument("confidence level must be strictly between 0 and 1, got \(confidenceLevel)")
        }
        if confidenceLevel == 0.95 { return 1.959963984540054 }
        return try normalQuantile(1 - (1 - confidenceLevel) / 2)
    }
}
