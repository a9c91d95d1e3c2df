import Foundation

public struct SimulationConfig: Sendable {
    /// Number of distinct customers.
    public var customers: Int
    /// Length of the observation window in months.
    public var months: Int
    public var seed: UInt64
    /// Extra generic metrics `usage_01…usage_K`, used to reach wide designs for benchmarks.
    public var extraMetrics: Int
    public var startYear: Int = 2023, startMonth: Int = 1

    public init(customers: Int, months: Int, seed: UInt64, extraMetrics: Int = 0) {
        self.customers = customers
        self.months = months
        self.seed = seed
        self.extraMetrics = extraMetrics
    }
}

/// The logistic model the labels were drawn from, written next to the CSV so that fits can be
/// checked against the truth.
public struct TrueModel: Codable, Sendable {
    public var label: String
    public var horizonMonths: Int
    public var intercept: Double
    /// One per design term, in design order, named the way healthscore names terms.
    public var weights: [TrueWeight]
    public var seed: UInt64, customers: Int, months: Int, extraMetrics: Int

    public init(
        label: String, horizonMonths: Int, intercept: Double, weights: [TrueWeight],
        seed: UInt64, customers: Int, months: Int, extraMetrics: Int
    ) {
        self.label = label
        self.horizonMonths = horizonMonths
        self.intercept = intercept
        self.weights = weights
        self.seed = seed
        self.customers = customers
        self.months = months
        self.extraMetrics = extraMetrics
    }

    public func weight(for term: String) -> Double? {
        weights.first(where: { $0.term == term })?.weight
    }

    /// η for one row given its design-term values; absent terms count as zero (reference levels).
    public func linearPredictor(_ values: [String: Double]) -> Double {
        weights.reduce(intercept) { $0 + $1.weight * (values[$1.term] ?? 0) }
    }
}

public struct TrueWeight: Codable, Sendable, Equatable {
    public var term: String
    public var weight: Double

    public init(term: String, weight: Double) {
        self.term = term
        self.weight = weight
    }
}

