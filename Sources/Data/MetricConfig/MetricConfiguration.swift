import Foundation
import ScoringCore

/// The analyst's definition of the health formula: which column plays which role, which way each
/// metric is healthier, how it is transformed, and which metrics are averaged into one group.
/// Anything it leaves out falls back to what `fit` infers without a configuration.
public struct MetricConfiguration: Sendable, Equatable {
    public var target: String?
    public var positive: String?
    public var id: String?
    public var time: String?
    public var weights: String?
    public var missing: MissingPolicy?
    public var impute: ImputeStatistic?
    /// Categories below this share of training rows are pooled into `(other)`.
    public var rareLevelShare: Double?
    public var unseenLevels: UnknownLevelPolicy?
    public var autoTransform: Bool?
    /// Numeric metrics correlated above this (absolute) are averaged into one group each.
    public var correlationThreshold: Double?
    /// Columns the file does not list: fitted as metrics (`include`) or left out (`exclude`).
    public var unlisted: Unlisted = .include
    /// In file order.
    public var metrics: [Metric] = []
    /// Label values meaning "stayed" (with `positive`); rows with other values are left out.
    public var negatives: [String] = []
    /// How the export writes numbers (`number_format: grouped`).
    public var numberFormat: NumberFormat?
    /// Later commands refuse the model if its fit warned that the weights may be wrong.
    public var requireTrustworthy: Bool?

    public enum Unlisted: String, Sendable, CaseIterable { case include, exclude }

    public init() {}

    public struct Metric: Sendable, Equatable {
        public var column: String
        public var role: Role = .metric
        public var type: MetricType?
        public var display: String?
        public var healthierWhen: Direction = .unknown
        /// nil: not given (the automatic rule may apply); []: explicitly none.
        public var transform: [MetricTransform.Kind]?
        public var group: String?
        /// Categorical: the level the others are compared with.
        public var reference: String?
        /// false: in the score, never given as a reason (no CSM can change a plan or a region).
        public var actionable = true
        /// Line in the file, for messages about this metric.
        public var line: Int?
        public init(column: String) { self.column = column }
    }

    public enum Role: String, Sendable, CaseIterable { case metric, exclude, id, time, target, weights }
    public enum MetricType: String, Sendable, CaseIterable { case numeric, categorical }

    /// The business prior on a metric: `higher` means more of it is healthier (less churn).
    public enum Direction: String, Sendable, CaseIterable {
        case higher, lower, unknown
        /// The sign the churn weight may take: higher-is-healthier may not raise churn risk.
        public var allowedChurnSign: Double? { self == .higher ? -1 : (self == .lower ? 1 : nil) }
    }

    public func metric(_ column: String) -> Metric? { metrics.first { $0.column == column } }

    /// Groups in order of first appearance, with their members in file order.
    public var groups: [(name: String, members: [Metric])] {
        var order: [String] = []
        var members: [String: [Metric]] = [:]
        for m in metrics where m.role == .metric {
            guard let g = m.group else { continue }
            if members[g] == nil { order.append(g) }
            members[g, default: []].append(m)
        }
        return order.map { ($0, members[$0]!) }
    }
}


