import Foundation

/// A transform learned at fit time and applied identically at scoring, so heavy-tailed metrics
/// (logins, days late) enter the score on a scale where one weight fits all customers.
public struct MetricTransform: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// log(1 + x), for non-negative counts and amounts.
        case log1p
        /// asinh(x): log-like in both tails, defined for signed metrics.
        case asinh
        /// Clip to the training 1st and 99th percentiles (stored), taming outliers.
        case clip
    }
    public var kind: Kind
    public var lower: Double?
    public var upper: Double?

    public init(kind: Kind, lower: Double? = nil, upper: Double? = nil) {
        self.kind = kind; self.lower = lower; self.upper = upper
    }

    /// nil when x is outside the transform's domain (log1p of x ≤ −1).
    public func apply(_ x: Double) -> Double? {
        switch kind {
        case .log1p: return x > -1 ? Foundation.log1p(x) : nil
        case .asinh: return Foundation.asinh(x)
        case .clip: return min(max(x, lower ?? -.infinity), upper ?? .infinity)
        }
    }

    public var name: String {
        kind == .clip ? "clip[\(lower.map { String($0) } ?? "-inf"), \(upper.map { String($0) } ?? "inf")]" : kind.rawValue
    }

    /// Applies a chain in order; nil when a value leaves a transform's domain.
    public static func apply(_ chain: [MetricTransform], to x: Double) -> Double? {
        var v = x
        for t in chain { guard let next = t.apply(v) else { return nil }; v = next }
        return v
    }
}
