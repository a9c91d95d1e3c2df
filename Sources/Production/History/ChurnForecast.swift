import Foundation
import Support

/// The renewal forecast of one run: how many customers, and how much revenue, to expect to lose
/// over the model's horizon, treating customers as independent with their scored probabilities.
public struct ChurnForecast: Codable, Sendable, Equatable {
    public static let levels = [0.90, 0.95]

    public var customers: Int
    /// Σpᵢ.
    public var expectedChurned: Double
    /// √Σpᵢ(1−pᵢ).
    public var standardDeviation: Double
    /// How the intervals were computed (exact distribution, or the refined normal approximation above
    /// `PoissonBinomial.exactLimit` customers).
    public var method: String
    public var intervals: [CountInterval]
    /// Nil when the run stored no revenue column.
    public var revenue: RevenueAtRisk?

    public init(_ scores: [ScoreRecord], exactLimit: Int = PoissonBinomial.exactLimit) {
        let p = scores.map(\.churnProbability)
        let d = PoissonBinomial(p, exactLimit: exactLimit)
        customers = p.count
        expectedChurned = d.mean
        standardDeviation = d.variance.squareRoot()
        switch d.method {
        case .exact: method = "exact Poisson-binomial distribution of the \(p.count) churn probabilities (dynamic programming)"
        case .refinedNormal: method = "refined normal approximation (normal with a skewness correction): \(p.count) customers are more than the \(exactLimit) computed exactly"
        }
        intervals = Self.levels.map { d.interval(level: $0) }
        let withRevenue = scores.filter { $0.revenue != nil }
        revenue = withRevenue.isEmpty ? nil
            : RevenueAtRisk(probabilities: withRevenue.map(\.churnProbability), revenue: withRevenue.map { $0.revenue! },
                            customersWithoutRevenue: scores.count - withRevenue.count)
    }
}

/// Revenue at risk R = Σ Bᵢ·revᵢ with Bᵢ ~ Bernoulli(pᵢ) independent.
///
/// Mean Σpᵢrevᵢ, variance Σpᵢ(1−pᵢ)revᵢ², third cumulant Σpᵢ(1−pᵢ)(1−2pᵢ)revᵢ³. The interval is the
/// normal approximation corrected for skewness γ by the Cornish–Fisher expansion,
/// q(z) = mean + sd·(z + γ(z²−1)/6), clipped to [0, total revenue]. Revenue at risk is skewed to
/// the right (few churners, unequal contracts), which the plain normal interval ignores. When
/// |γ| > 1 a few large contracts dominate, the expansion is no longer trustworthy and the plain
/// normal interval is given with a warning.
public struct RevenueAtRisk: Codable, Sendable, Equatable {
    public var customers: Int
    /// Customers of the run whose revenue cell was empty: left out of these figures.
    public var customersWithoutRevenue: Int
    public var totalRevenue: Double
    public var expected: Double
    public var standardDeviation: Double
    public var skewness: Double
    public var method: String
    public var intervals: [RevenueInterval]
    public var warning: String?

    public init(probabilities p: [Double], revenue: [Double], customersWithoutRevenue: Int = 0) {
        precondition(p.count == revenue.count, "one revenue per probability")
        customers = p.count
        self.customersWithoutRevenue = customersWithoutRevenue
        var total = 0.0, mean = 0.0, variance = 0.0, third = 0.0
        for (pi, r) in zip(p, revenue) {
            let q = pi * (1 - pi)
            total += r
            mean += pi * r
            variance += q * r * r
            third += q * (1 - 2 * pi) * r * r * r
        }
        totalRevenue = total
        expected = mean
        let sd = variance.squareRoot()
        standardDeviation = sd
        let gamma = variance > 0 ? third / pow(variance, 1.5) : 0
        skewness = gamma
        let corrected = abs(gamma) <= 1
        method = corrected
            ? "normal approximation with the Cornish–Fisher skewness correction (variance Σp(1−p)rev², skewness \(String(format: "%.2f", gamma)))"
            : "normal approximation (variance Σp(1−p)rev²)"
        warning = corrected ? nil
            : "a few large contracts dominate (skewness \(String(format: "%.2f", gamma))): the revenue interval is rough; look at those accounts one by one"
        intervals = ChurnForecast.levels.map { level in
            let z = (try? SpecialFunctions.normalQuantile(0.5 + level / 2)) ?? .nan  // levels are in (0, 1)
            func q(_ z: Double) -> Double {
                let w = corrected ? z + gamma * (z * z - 1) / 6 : z
                return min(max(mean + sd * w, 0), total)
            }
            return RevenueInterval(level: level, lower: q(-z), upper: q(z))
        }
    }
}

public struct RevenueInterval: Codable, Sendable, Equatable {
    public var level: Double
    public var lower: Double
    public var upper: Double
}
