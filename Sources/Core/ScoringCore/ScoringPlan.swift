import Foundation
import Support

/// One input column of a block of rows, as the plan reads it.
public enum PlanColumn: Sendable {
    /// `.nan` for missing.
    case numbers([Double])
    /// Dictionary-coded text (a CSV reader's interned cells): -1 for missing. Each level is resolved
    /// once per block, so a category costs one table lookup per row.
    case coded(codes: [Int32], levels: [String])
    /// One string per row, nil for missing (JSON requests).
    case strings([String?])

    var count: Int {
        switch self {
        case .numbers(let x): return x.count
        case .coded(let c, _): return c.count
        case .strings(let s): return s.count
        }
    }
}

/// Why one row got no score. The batch goes on without it.
public struct RowProblem: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case missing, unseenLevel = "unseen_level", outsideDomain = "outside_domain", notANumber = "not_a_number", infinite
    }
    /// 0-based row within the block.
    public var row: Int
    public var column: String
    public var kind: Kind
    /// The offending cell as text ("" when missing).
    public var value: String
    /// The transform chain, for `outsideDomain` ("log1p then clip[0.0, 9.5]").
    public var transforms: String = ""

    /// A short note for the output's `problem` column: "csat missing".
    public var short: String {
        switch kind {
        case .missing: return "\(column) missing"
        case .unseenLevel where value == FeatureSpec.missingLevel: return "\(column) missing (never missing in training)"
        case .unseenLevel: return "\(column) unseen level '\(value)'"
        case .outsideDomain: return "\(column) \(value) outside \(transforms)"
        case .notANumber: return "\(column) '\(value)' not a number"
        case .infinite: return "\(column) infinite"
        }
    }

    /// The same problem as an error naming the row (1-based within the block).
    public func error(knownLevels: [String] = []) -> Diagnostic {
        let r = row + 1
        switch kind {
        case .missing:
            return Diagnostic(.scoring, row: r, column: column, problem: "missing value, and the model was fitted with --missing drop",
                                fix: "fill the value, or refit with --missing impute")
        case .unseenLevel where value == FeatureSpec.missingLevel:
            return Diagnostic(.scoring, row: r, column: column,
                                problem: "missing value; the model imputes missing values, but '\(column)' was never missing in training, so it has no weight for a missing one",
                                fix: "fill in one of the known levels (\(Scorer.preview(knownLevels))), or score with --unknown-level reference (or other)")
        case .unseenLevel:
            let folded = value.trimmingCharacters(in: .whitespaces).lowercased()
            let near = knownLevels.first { $0.trimmingCharacters(in: .whitespaces).lowercased() == folded }
                .map { "it differs from the known level '\($0)' only in case or spaces: map it to '\($0)'; otherwise " } ?? ""
            return Diagnostic(.scoring, row: r, column: column,
                                problem: "level '\(value)' was not seen in training (known: \(Scorer.preview(knownLevels)))",
                                fix: near + "map it to a known level, or score with --unknown-level reference (or other)")
        case .outsideDomain:
            return Diagnostic(.scoring, row: r, column: column, problem: "value \(value) is outside the domain of the model's \(transforms) transform",
                                fix: "check the value; log1p needs values above −1")
        case .notANumber:
            var copy = value
            let formats = NumberFormat.allCases.filter { f in copy.withUTF8 { f.value(of: $0) } != nil }.map(\.rawValue)
            let hint = formats.isEmpty ? ""
                : "if the export writes numbers like this, refit with --number-format \(formats.joined(separator: " or --number-format ")) (the model keeps the format, and scoring then reads such cells); otherwise "
            return Diagnostic(.scoring, row: r, column: column, problem: "'\(value)' is not a number and the model treats this column as numeric",
                                fix: hint + "clean the value, or leave the cell empty for missing")
        case .infinite:
            return Diagnostic(.scoring, row: r, column: column, problem: "infinite value", fix: "replace it with a finite number or an empty cell")
        }
    }
}

/// The scores of a block of rows. Arrays are per row; a row with a problem has `.nan` probability
/// and score, band -1 and no reasons.
public struct ScoredRows: Sendable {
    public var count: Int
    public var eta: [Double]
    public var probability: [Double]
    public var score: [Double]
    /// Index into `ScoringPlan.bands`; -1 for none.
    public var band: [Int32]
    /// One per unscored row, in row order.
    public var problems: [RowProblem]
    /// `reasons` slots per row: a feature index (-1 for an empty slot) and its points, worst first.
    public var reasons: Int
    public var reasonFeature: [Int32]
    public var reasonPoints: [Double]
    /// Every feature's points per row (row-major), when asked for (or its log-odds part less the
    /// average, with `contributionsInLogOdds`).
    public var contributions: [Double]

    public func isScored(_ i: Int) -> Bool { !probability[i].isNaN }
}

/// A model compiled once for scoring: every slope resolved, transforms, imputation, bands and the
/// points scale laid out per feature, so that scoring a block of rows does no lookup by name and no
/// allocation per row. The arithmetic is the scorer's, operation for operation, so scores are
/// bit-identical to `Scorer`'s.
public struct ScoringPlan: Sendable {
    public let unknownLevels: UnknownLevelPolicy
    /// The input columns the model reads, each once, in schema order.
    public let inputs: [String]
    /// Per feature: the column (or group) name and the name shown to people.
    public let metrics: [String]
    public let displayNames: [String]
    /// Features allowed to be reasons (`actionable: false` ones stay in the score only).
    public let actionable: [Bool]
    /// Band labels, best first (empty when the model has none).
    public let bandLabels: [String]
    let bandCuts: [Double?]
    let intercept: Double
    let features: [Feature]
    /// Each feature's term for the average training customer.
    let averages: [Double]
    let scale: ScoreScale
    let basePoints: Double?
    let numberFormat: NumberFormat
    /// The model was fitted with `--missing impute`.
    let impute: Bool

    enum Kind { case numeric, group, categorical }

    struct Member: Sendable {
        var input: Int
        var column: String
        var transforms: [MetricTransform]
        var imputeValue: Double?
        var spec: GroupMember
    }

    struct Feature: Sendable {
        var kind: Kind
        var column: String
        var input: Int
        var slope: Double
        var indicatorSlope: Double
        var imputeTerm: Double?
        var transforms: [MetricTransform]
        var members: [Member]
        /// Categorical: the slope of every known level (pooled ones already mapped to the pool's).
        var levelSlopes: [String: Double]
        var levels: [String]
    }

    public init(model: ModelArtifact, unknownLevels: UnknownLevelPolicy? = nil) {
        self.unknownLevels = unknownLevels ?? model.schema.unseenLevels ?? .error
        numberFormat = model.schema.numberFormat ?? .plain
        var byTerm: [String: Double] = [:]
        for c in model.coefficients { byTerm[c.term] = c.estimate }
        intercept = byTerm[Coefficient.interceptTerm] ?? 0
        let impute = model.schema.missingPolicy == .impute
        self.impute = impute

        var inputs: [String] = []
        var inputIndex: [String: Int] = [:]
        func input(_ name: String) -> Int {
            if let i = inputIndex[name] { return i }
            inputs.append(name)
            inputIndex[name] = inputs.count - 1
            return inputs.count - 1
        }
        var features: [Feature] = []
        var averages: [Double] = []
        for f in model.schema.features {
            let slope = byTerm[f.column] ?? 0
            let indicatorSlope = f.missingIndicator.flatMap { byTerm[$0] } ?? 0
            var feature = Feature(kind: .numeric, column: f.column, input: -1, slope: slope, indicatorSlope: indicatorSlope,
                                  imputeTerm: nil, transforms: f.transforms ?? [], members: [], levelSlopes: [:], levels: f.levels ?? [])
            switch f.kind {
            case .numeric:
                feature.input = input(f.column)
                if impute { feature.imputeTerm = slope * (f.imputeValue ?? 0) + indicatorSlope }
                averages.append(slope * (f.mean ?? 0) + indicatorSlope * f.missingShare)
            case .group:
                feature.kind = .group
                feature.members = (f.members ?? []).map {
                    Member(input: input($0.column), column: $0.column, transforms: $0.transforms ?? [],
                           imputeValue: impute ? $0.imputeValue : nil, spec: $0)
                }
                averages.append(slope * (f.mean ?? 0))
            case .categorical:
                feature.kind = .categorical
                feature.input = input(f.column)
                var levelSlopes: [String: Double] = [:]
                for level in f.levels ?? [] { levelSlopes[level] = byTerm[FeatureSpec.levelTerm(f.column, level)] ?? 0 }
                let average: Double
                if let levels = f.levels, let shares = f.levelShares, shares.count == levels.count {
                    average = zip(levels, shares).reduce(0) { $0 + (levelSlopes[$1.0] ?? 0) * $1.1 }
                } else {
                    average = 0
                }
                if let pool = levelSlopes[FeatureSpec.otherLevel] {
                    for level in f.pooledLevels ?? [] { levelSlopes[level] = pool }
                } else {
                    // A pooled level with no pool term is an unknown level, as in the scorer.
                    for level in f.pooledLevels ?? [] { levelSlopes[level] = nil }
                }
                feature.levelSlopes = levelSlopes
                averages.append(average)
            }
            features.append(feature)
        }
        self.inputs = inputs
        self.features = features
        self.averages = averages
        metrics = model.schema.features.map(\.column)
        displayNames = model.schema.features.map { $0.displayName ?? $0.column }
        actionable = model.schema.features.map { $0.actionable ?? true }
        scale = model.scoring?.scale ?? .probability
        bandLabels = model.scoring?.bands.map(\.label) ?? []
        bandCuts = model.scoring?.bands.map(\.minScore) ?? []
        if scale.kind == .points {
            let b = scale.offset - scale.factor * (intercept + averages.reduce(0, +))
            basePoints = scale.rounds ? b.rounded() : b
        } else {
            basePoints = nil
        }
    }

    public var featureCount: Int { features.count }

    /// The weights of one schema feature as the exports write them, from the same compilation that
    /// scores: the slope (numeric and group), the missing indicator's slope, each known level's slope
    /// (a level the model pools is not among them) and the feature's term for the average customer.
    public struct FeatureWeights: Sendable {
        public let slope: Double
        public let indicatorSlope: Double
        public let levelSlopes: [String: Double]
        public let average: Double
    }

    public var interceptWeight: Double { intercept }

    /// Per schema feature, in schema order.
    public var featureWeights: [FeatureWeights] {
        zip(features, averages).map { f, average in
            var known: [String: Double] = [:]
            for level in f.levels { known[level] = f.levelSlopes[level] }
            return FeatureWeights(slope: f.slope, indicatorSlope: f.indicatorSlope, levelSlopes: f.kind == .categorical ? known : [:],
                                  average: average)
        }
    }

    /// Known levels of an input column, when a categorical feature reads it.
    public func levels(ofColumn name: String) -> [String] {
        features.first { $0.kind == .categorical && $0.column == name }?.levels ?? []
    }

    @inline(__always)
    func bandIndex(_ score: Double) -> Int32 {
        for (b, cut) in bandCuts.enumerated() {
            guard let cut else { return Int32(b) }
            if score >= cut { return Int32(b) }
        }
        return -1
    }

    // MARK: - Per-block resolution

    /// A term or the reason there is none.
    enum Term {
        case value(Double)
        case problem(RowProblem.Kind, String)
    }

    /// A feature's input, resolved for one block: categorical levels to slopes, text numbers to values.
    enum Bound {
        case numbers([Double])
        case levelTerms(codes: [Int32], terms: [Term], missing: Term)
        case levelNumbers(codes: [Int32], values: [Term], missing: Term)
        case strings([String?])
    }

    /// The term of a category level (nil: the cell is missing), by the unseen-level policy.
    func categoricalTerm(_ f: Feature, level text: String?) -> Term {
        guard let level = text ?? (impute ? FeatureSpec.missingLevel : nil) else { return .problem(.missing, "") }
        if let slope = f.levelSlopes[level] { return .value(slope) }
        switch unknownLevels {
        case .error: return .problem(.unseenLevel, level)
        case .reference: return .value(0)
        case .other: return .value(f.levelSlopes[FeatureSpec.otherLevel] ?? 0)
        }
    }

    /// The value of a numeric cell given as text; a problem when it is no finite number. Only decimal
    /// text counts (`Double` alone would also read `0x19` as 25 and `nan` as a number); the spellings
    /// of infinity are named as such.
    func number(fromText s: String) -> Term {
        var text = s
        if numberFormat != .plain, let v = text.withUTF8({ numberFormat.value(of: $0) }) { return .value(v) }
        let t = s.trimmedOfSpaces
        if Self.isDecimal(t), let v = Double(t) { return v.isFinite ? .value(v) : .problem(.infinite, s) }
        var spelled = t
        return spelled.withUTF8(NumberFormat.isInfinitySpelling) ? .problem(.infinite, s) : .problem(.notANumber, s)
    }

    /// `[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`
    static func isDecimal(_ t: String) -> Bool {
        var u = t.utf8[...]
        func digits() -> Int {
            let n = u.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            u = u.dropFirst(n)
            return n
        }
        if let c = u.first, c == 0x2B || c == 0x2D { u = u.dropFirst() }
        var mantissa = digits()
        if u.first == 0x2E { u = u.dropFirst(); mantissa += digits() }
        guard mantissa > 0 else { return false }
        if let c = u.first, c == 0x65 || c == 0x45 {
            u = u.dropFirst()
            if let c = u.first, c == 0x2B || c == 0x2D { u = u.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return u.isEmpty
    }


    func bind(_ column: PlanColumn, numeric: Bool, feature: Feature?) -> Bound {
        switch column {
        case .numbers(let x):
            if numeric { return .numbers(x) }
            // A category read as numbers: its text is the number's shortest form.
            var codes = [Int32](repeating: -1, count: x.count)
            var levels: [String] = []
            var seen: [Double: Int32] = [:]
            for (i, v) in x.enumerated() where !v.isNaN {
                if let c = seen[v] { codes[i] = c; continue }
                seen[v] = Int32(levels.count); codes[i] = Int32(levels.count); levels.append(Scorer.numberText(v))
            }
            return bind(.coded(codes: codes, levels: levels), numeric: false, feature: feature)
        case .coded(let codes, let levels):
            if numeric {
                return .levelNumbers(codes: codes, values: levels.map(number(fromText:)), missing: .problem(.missing, ""))
            }
            let f = feature!
            return .levelTerms(codes: codes, terms: levels.map { categoricalTerm(f, level: $0) }, missing: categoricalTerm(f, level: nil))
        case .strings(let s):
            return .strings(s)
        }
    }
}

extension ScoringPlan {
    /// Levels the model never saw that the unseen-level policy scored as another level (reference or
    /// `(other)`): per categorical column, each such level with its rows and first row (0-based).
    /// Empty under the `error` policy, where such rows are unscored instead.
    public func substitutedLevels(_ columns: [PlanColumn?]) -> [(column: String, level: String, rows: Int, firstRow: Int)] {
        guard unknownLevels != .error else { return [] }
        var out: [(column: String, level: String, rows: Int, firstRow: Int)] = []
        for f in features where f.kind == .categorical {
            guard case .coded(let codes, let levels)? = columns[f.input] else { continue }
            let unseen = levels.map { f.levelSlopes[$0] == nil }
            guard unseen.contains(true) else { continue }
            var rows = [Int](repeating: 0, count: levels.count), first = [Int](repeating: -1, count: levels.count)
            for (i, c) in codes.enumerated() where c >= 0 && unseen[Int(c)] {
                rows[Int(c)] += 1
                if first[Int(c)] < 0 { first[Int(c)] = i }
            }
            for k in levels.indices where rows[k] > 0 { out.append((f.column, levels[k], rows[k], first[k])) }
        }
        return out
    }

    /// The customer's value of feature `j` at row `i` as the reasons show it ("" when missing; "a=1, b=2"
    /// for a group's members).
    public func valueText(feature j: Int, row i: Int, columns: [PlanColumn?]) -> String {
        let f = features[j]
        if f.kind == .group {
            return f.members.map { "\($0.column)=\(cellText(columns[$0.input], i, numeric: true))" }.joined(separator: ", ")
        }
        return cellText(columns[f.input], i, numeric: f.kind == .numeric)
    }

    /// A metric's value in a row without formatting it: the number of a numeric metric (nil when
    /// missing or not a number), the level text of a categorical one; neither for a group.
    public func metricValue(feature j: Int, row i: Int, columns: [PlanColumn?]) -> (number: Double?, level: String?) {
        let f = features[j]
        // A group has no input of its own (its members do): ask for none.
        guard f.kind != .group else { return (nil, nil) }
        switch (f.kind, columns[f.input]) {
        case (.group, _), (_, nil): return (nil, nil)
        case (.numeric, .numbers(let x)?): return (x[i].isNaN ? nil : x[i], nil)
        case (.numeric, .coded(let codes, let levels)?):
            guard codes[i] >= 0, case .value(let v) = number(fromText: levels[Int(codes[i])]) else { return (nil, nil) }
            return (v, nil)
        case (.numeric, .strings(let s)?):
            guard let text = s[i], case .value(let v) = number(fromText: text) else { return (nil, nil) }
            return (v, nil)
        case (.categorical, _): return (nil, cellText(columns[f.input], i, numeric: false).nilIfEmpty)
        }
    }

    private func cellText(_ column: PlanColumn?, _ i: Int, numeric: Bool) -> String {
        switch column {
        case .numbers(let x)?: return x[i].isNaN ? "" : Scorer.numberText(x[i])
        case .coded(let codes, let levels)?:
            guard codes[i] >= 0 else { return "" }
            let text = levels[Int(codes[i])]
            // A number in a column read as text (another cell of the piece is not one) shows as it
            // does where the column is numeric.
            if numeric, case .value(let v) = number(fromText: text) { return Scorer.numberText(v) }
            return text
        case .strings(let s)?: return s[i] ?? ""
        case nil: return ""
        }
    }
}

private extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

extension String {
    /// Without leading and trailing spaces and tabs, as `trimmingCharacters(in: .whitespaces)` for
    /// the ASCII blanks a cell has, without Foundation's cost on a hot path (itself when none).
    public var trimmedOfSpaces: String {
        let u = utf8
        guard let first = u.first, let last = u.last,
              first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 else { return self }
        var lo = u.startIndex, hi = u.endIndex
        while lo < hi, u[lo] == 0x20 || u[lo] == 0x09 { lo = u.index(after: lo) }
        while hi > lo, u[u.index(before: hi)] == 0x20 || u[u.index(before: hi)] == 0x09 { hi = u.index(before: hi) }
        return String(self[lo..<hi])
    }
}
