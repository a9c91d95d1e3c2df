import Foundation

/// What one metric did to one customer's score, against the average training customer.
public struct Contribution: Codable, Sendable, Equatable {
    /// The input column (or group) name.
    public var metric: String
    /// The analyst's name for it, or the column name.
    public var displayName: String
    /// The customer's value as given ("" when missing; "a=1, b=2" for a group's members).
    public var value: String
    /// Score points this metric adds (+) or costs (−) compared with an average value. On the points
    /// scale these add up (with the base points) to the score; on the probability scale each is the
    /// change in the score if only this metric were average, so they need not add up.
    public var points: Double

    public init(metric: String, displayName: String, value: String, points: Double) {
        self.metric = metric; self.displayName = displayName; self.value = value; self.points = points
    }
}

public struct Explanation: Sendable, Equatable {
    public var score: Score
    /// One per metric, in schema order.
    public var contributions: [Contribution]
    /// The metrics that cost the most points (negative contributions only), worst first.
    public var reasons: [Contribution]
    /// Points scale: the part of the score that belongs to no metric (the average customer's score
    /// less nothing); nil on the probability scale.
    public var basePoints: Double?
}
