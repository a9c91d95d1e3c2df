import Foundation

// The column roles of a fit live in the scoring core only because the model file stores them (in its
// `FitSpec`): scoring never reads them.

/// How the analyst's columns are used.
public struct ColumnRoles: Sendable, Equatable {
    public var target: String
    public var id: String?
    public var time: String?
    public var exclude: [String] = []
    /// The label value meaning "churned"; inferred for 0/1, true/false, yes/no when nil.
    public var positive: String?
    /// With `positive`: the label values meaning "stayed". Rows with any other label value are left
    /// out of the fit (a third value is never silently counted as non-churn).
    public var negatives: [String] = []
    public var missing: MissingPolicy = .drop
    /// Column whose values group rows for cluster-robust standard errors (may be the id).
    public var cluster: String?
    /// Non-negative sample (frequency) weights.
    public var weights: String?
    /// `balanced` reweights each class to N/(2·N_class), as scikit-learn does.
    public var classWeight: ClassWeight = .none
    /// Per numeric column, transforms to learn and apply in order (clip learns its percentiles).
    public var transforms: [String: [MetricTransform.Kind]] = [:]
    /// Columns without an explicit transform get log1p (asinh if any value is negative) when their
    /// skewness exceeds `TransformRule.skewThreshold`.
    public var autoTransform = false
    /// Impute policy: the fill for a missing number.
    public var impute: ImputeStatistic = .mean
    /// Category levels with a smaller share of the training rows are pooled into `(other)`.
    public var rareLevelShare: Double?
    /// Stored in the model for scoring: what an unseen category level becomes.
    public var unseenLevels: UnknownLevelPolicy?
    /// Metrics fitted as one averaged standard score each.
    public var groups: [MetricGroup] = []
    /// Read as categories even when every value is a number (e.g. area codes), and never refused
    /// as mostly numeric or as an identifier.
    public var categorical: Set<String> = []
    /// Per categorical column, the level its other levels are compared with (default: the first
    /// level in byte order).
    public var references: [String: String] = [:]
    /// Business number spellings (`1,234`, `$5`, `12%`) the export uses; stored in the model.
    public var numberFormat: NumberFormat = .plain
    /// From the metric configuration, stored per feature for reports.
    public var displayNames: [String: String] = [:]
    public var healthierWhen: [String: String] = [:]
    /// Metrics kept in the score but never given as a reason (`actionable: false`).
    public var unactionable: Set<String> = []
    /// When set, only these columns (plus the role columns) are metrics.
    public var onlyColumns: Set<String>?
    /// Columns a metric configuration names, with where (`file:line`): each must be in the data.
    /// Provenance for messages, not part of the fit: neither stored nor compared.
    public var configuredColumns: [(column: String, place: String)] = []
    /// Stored in the model: later commands refuse it if its fit warned that the weights may be wrong.
    public var requireTrustworthy = false
    /// Numeric metrics whose absolute Pearson correlation on the training rows exceeds this are
    /// averaged into one group each (connected components), members turned to agree in sign.
    public var correlationThreshold: Double?

    public init(target: String, id: String? = nil, time: String? = nil, exclude: [String] = [],
                positive: String? = nil, missing: MissingPolicy = .drop, cluster: String? = nil,
                weights: String? = nil, classWeight: ClassWeight = .none) {
        self.target = target; self.id = id; self.time = time; self.exclude = exclude
        self.positive = positive; self.missing = missing; self.cluster = cluster
        self.weights = weights; self.classWeight = classWeight
    }
}

public enum ClassWeight: String, Codable, Sendable, CaseIterable { case none, balanced }

/// Correlated metrics fitted as one term: the mean of their standard scores, each member turned by
/// `sign` (+1/−1) so that all point the same way.
public struct MetricGroup: Codable, Sendable, Equatable {
    public var name: String
    public var members: [(column: String, sign: Double)]
    public init(name: String, members: [(column: String, sign: Double)]) { self.name = name; self.members = members }
    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.members.map(\.column) == b.members.map(\.column) && a.members.map(\.sign) == b.members.map(\.sign)
    }

    private struct Member: Codable { var column: String; var sign: Double }
    private enum CodingKeys: String, CodingKey { case name, members }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        members = try c.decode([Member].self, forKey: .members).map { ($0.column, $0.sign) }
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(members.map { Member(column: $0.column, sign: $0.sign) }, forKey: .members)
    }
}

extension ColumnRoles: Codable {
    private enum CodingKeys: String, CodingKey {
        case target, id, time, exclude, positive, negatives, missing, cluster, weights, classWeight, transforms,
             autoTransform, impute, rareLevelShare, unseenLevels, groups, categorical, references, numberFormat,
             displayNames, healthierWhen, unactionable, onlyColumns, requireTrustworthy, correlationThreshold
    }

    public static func == (a: Self, b: Self) -> Bool {
        // Compared as stored: `configuredColumns` is where the names came from, not what they are.
        (try? JSONEncoder.sorted.encode(a)) == (try? JSONEncoder.sorted.encode(b))
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(target: try c.decode(String.self, forKey: .target))
        id = try c.decodeIfPresent(String.self, forKey: .id)
        time = try c.decodeIfPresent(String.self, forKey: .time)
        exclude = try c.decodeIfPresent([String].self, forKey: .exclude) ?? []
        positive = try c.decodeIfPresent(String.self, forKey: .positive)
        negatives = try c.decodeIfPresent([String].self, forKey: .negatives) ?? []
        missing = try c.decodeIfPresent(MissingPolicy.self, forKey: .missing) ?? .drop
        cluster = try c.decodeIfPresent(String.self, forKey: .cluster)
        weights = try c.decodeIfPresent(String.self, forKey: .weights)
        classWeight = try c.decodeIfPresent(ClassWeight.self, forKey: .classWeight) ?? .none
        transforms = try c.decodeIfPresent([String: [MetricTransform.Kind]].self, forKey: .transforms) ?? [:]
        autoTransform = try c.decodeIfPresent(Bool.self, forKey: .autoTransform) ?? false
        impute = try c.decodeIfPresent(ImputeStatistic.self, forKey: .impute) ?? .mean
        rareLevelShare = try c.decodeIfPresent(Double.self, forKey: .rareLevelShare)
        unseenLevels = try c.decodeIfPresent(UnknownLevelPolicy.self, forKey: .unseenLevels)
        groups = try c.decodeIfPresent([MetricGroup].self, forKey: .groups) ?? []
        categorical = Set(try c.decodeIfPresent([String].self, forKey: .categorical) ?? [])
        references = try c.decodeIfPresent([String: String].self, forKey: .references) ?? [:]
        numberFormat = try c.decodeIfPresent(NumberFormat.self, forKey: .numberFormat) ?? .plain
        displayNames = try c.decodeIfPresent([String: String].self, forKey: .displayNames) ?? [:]
        healthierWhen = try c.decodeIfPresent([String: String].self, forKey: .healthierWhen) ?? [:]
        unactionable = Set(try c.decodeIfPresent([String].self, forKey: .unactionable) ?? [])
        onlyColumns = try c.decodeIfPresent([String].self, forKey: .onlyColumns).map(Set.init)
        requireTrustworthy = try c.decodeIfPresent(Bool.self, forKey: .requireTrustworthy) ?? false
        correlationThreshold = try c.decodeIfPresent(Double.self, forKey: .correlationThreshold)
    }

    /// Sets are written sorted, so a spec's bytes (and the model's checksum) do not depend on hashing.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(target, forKey: .target)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeIfPresent(time, forKey: .time)
        try c.encode(exclude, forKey: .exclude)
        try c.encodeIfPresent(positive, forKey: .positive)
        try c.encode(negatives, forKey: .negatives)
        try c.encode(missing, forKey: .missing)
        try c.encodeIfPresent(cluster, forKey: .cluster)
        try c.encodeIfPresent(weights, forKey: .weights)
        try c.encode(classWeight, forKey: .classWeight)
        try c.encode(transforms, forKey: .transforms)
        try c.encode(autoTransform, forKey: .autoTransform)
        try c.encode(impute, forKey: .impute)
        try c.encodeIfPresent(rareLevelShare, forKey: .rareLevelShare)
        try c.encodeIfPresent(unseenLevels, forKey: .unseenLevels)
        try c.encode(groups, forKey: .groups)
        try c.encode(categorical.sorted(), forKey: .categorical)
        try c.encode(references, forKey: .references)
        try c.encode(numberFormat, forKey: .numberFormat)
        try c.encode(displayNames, forKey: .displayNames)
        try c.encode(healthierWhen, forKey: .healthierWhen)
        try c.encode(unactionable.sorted(), forKey: .unactionable)
        try c.encodeIfPresent(onlyColumns?.sorted(), forKey: .onlyColumns)
        try c.encode(requireTrustworthy, forKey: .requireTrustworthy)
        try c.encodeIfPresent(correlationThreshold, forKey: .correlationThreshold)
    }
}

extension JSONEncoder {
    /// Keys sorted: one byte sequence per value.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
