import Foundation
import ScoringCore
import Support

/// A design frozen from its training statistics: label coding, category levels, transforms,
/// fills and weights. Applying it to any piece of the training file gives that piece's design
/// rows, the same numbers the whole file in memory would give them.
public struct DesignRecipe: Sendable {
    public let roles: ColumnRoles
    public internal(set) var termNames: [String]
    public internal(set) var termSources: [(column: String?, level: String?)]
    public internal(set) var schema: InputSchema
    /// Fitted rows, records dropped and why, cells imputed.
    public internal(set) var rows: Int
    public internal(set) var dropped: Int
    public internal(set) var dropReasons: [String: Int]
    public internal(set) var imputedCells: Int
    public internal(set) var events: Int
    /// Whether the design carries per-row weights (a weights column or balanced classes).
    public var hasWeights: Bool { roles.weights != nil || classTotals != nil }

    var steps: [Step]
    /// Label texts coded 1; every other present text is coded 0.
    var positiveLabels: Set<String>
    /// Balanced class weighting: the classes' total base weight (0, 1) and their sum.
    var classTotals: (negative: Double, positive: Double)?

    enum Step: Sendable {
        case numeric(column: String, metric: NumericMetric, indicator: Bool)
        /// `positions`: level text → position among the spec's levels (pooled levels → "(other)");
        /// position 0 is the reference, coded all zero.
        case categorical(column: String, positions: [String: Int], missingPosition: Int, dummies: Int)
        case group(members: [(column: String, member: GroupMember, metric: NumericMetric)])

        var termCount: Int {
            switch self {
            case .numeric(_, _, let indicator): return indicator ? 2 : 1
            case .categorical(_, _, _, let dummies): return dummies
            case .group: return 1
            }
        }

        var columns: [String] {
            switch self {
            case .numeric(let c, _, _), .categorical(let c, _, _, _): return [c]
            case .group(let members): return members.map(\.column)
            }
        }
    }
}

extension DesignStatistics {
    /// A weight per level needs rows at each level; thousands of levels are an identifier, a free-text
    /// field or a geography that wants grouping, and a dense design of them would not fit in memory.
    public static let maxLevels = 1_000
    /// The p×p information matrix and its Cholesky factor stay in memory (5,000 terms: 200 MB each).
    public static let maxTerms = 5_000

    /// Standardising divides by the standard deviation: a column of subnormal values has one whose
    /// reciprocal overflows, and its weight on the column's own scale would not be a double.
    static func checkScale(_ sd: Double, column: String, err: (String?, String, String) -> Diagnostic) throws {
        guard sd > 0, !(1 / sd).isFinite else { return }
        throw err(column, "the values are too small to fit (standard deviation \(sd), below the smallest normal double)",
                  "rescale the column (e.g. multiply it by 1e6) or --exclude \(column)")
    }

    /// Freezes the statistics. `extraGroups`: groups found from the data (correlated metrics).
    public func recipe(extraGroups: [MetricGroup] = []) throws -> DesignRecipe {
        func err(_ column: String?, _ problem: String, _ fix: String) -> Diagnostic {
            Diagnostic(.data, file: path, column: column, problem: problem, fix: fix)
        }
        if let name = mixedColumns.sorted().first {
            throw err(name, "numbers in some parts of the file and text in others", "mark the column categorical in the metric configuration")
        }
        let distinctLabels = labelOrder.filter { labels[$0]!.rows > 0 }
        let coding = try LabelCoding.decide(distinctLabels.map { ($0, labels[$0]!.rows) }, positive: roles.positive,
                                            negatives: roles.negatives, file: path, column: roles.target)
        for name in featureNames where missingTotal[name] == records {
            throw err(name, "every value is missing", "drop the column or pass --exclude \(name)")
        }
        let reasons = Dictionary(dropReasons, uniquingKeysWith: +)
        guard rows > 0 else {
            throw err(nil, "no rows left after dropping rows with missing values (\(reasons.map { "\($0.key): \($0.value)" }.sorted().joined(separator: ", ")))",
                      roles.missing == .drop ? "pass --missing impute, or --exclude the mostly-missing columns" : "check the label column")
        }
        if roles.weights != nil && !anyPositiveWeight {
            throw err(roles.weights, "every weight is zero", "give the rows to fit a positive weight")
        }
        var events = 0, total = [0.0, 0.0]
        for text in distinctLabels {
            let t = labels[text]!
            let positive = coding.positives.contains(text)
            if positive { events += t.fitted }
            total[positive ? 1 : 0] += t.weight
        }
        if events == 0 || events == rows {
            throw err(roles.target, "only \(events == 0 ? "non-churners" : "churners") remain (\(rows) rows): a churn model needs both classes",
                      "check --positive and the label values, or use a file with both churned and retained customers")
        }

        var groups = roles.groups + extraGroups
        var memberOf: [String: String] = [:]
        for g in groups { for m in g.members { memberOf[m.column] = g.name } }
        let n = rows
        var termNames = [Coefficient.interceptTerm]
        var termSources: [(column: String?, level: String?)] = [(nil, nil)]
        var features: [FeatureSpec] = []
        var steps: [DesignRecipe.Step] = []
        var imputedCells = 0
        for name in featureNames where memberOf[name] == nil {
            if let stats = numeric[name] {
                let metric = try stats.finish(file: path)
                try Self.checkScale(metric.sd, column: name, err: err)
                var spec = FeatureSpec(column: name, kind: .numeric, mean: metric.mean, standardDeviation: metric.sd,
                                       missingShare: Double(metric.missing) / Double(n))
                spec.transforms = metric.chain.isEmpty ? nil : metric.chain
                termNames.append(name)
                termSources.append((name, nil))
                var indicator = false
                if roles.missing == .impute {
                    spec.imputeValue = metric.fill
                    spec.imputation = roles.impute
                    if metric.missing > 0 {
                        imputedCells += metric.missing
                        indicator = true
                        let term = FeatureSpec.indicatorTerm(name)
                        spec.missingIndicator = term
                        termNames.append(term)
                        termSources.append((name, nil))
                    }
                }
                steps.append(.numeric(column: name, metric: metric, indicator: indicator))
                features.append(spec)
            } else if let tally = categorical[name] {
                let present = tally.order.filter { tally.counts[$0]! > 0 }
                let byBytes = { (a: String, b: String) in a.utf8.lexicographicallyPrecedes(b.utf8) }
                let minimum = (roles.rareLevelShare ?? 0) * Double(n)
                var pooled = present.filter { Double(tally.counts[$0]!) < minimum }.sorted(by: byBytes)
                // Blank cells (impute policy only: drop removed them) are a level like any other:
                // rare ones pool into (other) by the same rule rather than separate on their own.
                let missingPooled = tally.missing > 0 && Double(tally.missing) < minimum
                var levelNames = present.filter { Double(tally.counts[$0]!) >= max(minimum, 1) }.sorted(by: byBytes)
                if !roles.categorical.contains(name) {
                    try ColumnTyping.checkNumeric(name, counts: tally.cells, firstSeen: tally.firstSeen, format: roles.numberFormat, file: path)
                    try ColumnTyping.checkIdentifier(name, levels: tally.cells.count, cells: tally.cells.values.reduce(0, +), file: path)
                }
                if levelNames.count > Self.maxLevels {
                    let counts = present.map { tally.counts[$0]! }
                    let pooling = ColumnTyping.poolingShare(counts, rows: n, limit: Self.maxLevels)
                        .map { "pool its rare levels (--rare-levels \($0)), " } ?? ""
                    // Most often an id with several snapshots per customer: say that first.
                    let quoted = ColumnTyping.shellWord(name)
                    throw err(name, "the column has \(levelNames.count) levels; at most \(Self.maxLevels) can each get their own weight",
                              "if it names the customer, pass --id \(quoted) (an id is never a metric); otherwise \(pooling)group the levels in the data (e.g. city → region), or --exclude \(quoted)")
                }
                if let wanted = roles.references[name] {
                    guard let at = levelNames.firstIndex(of: wanted) else {
                        let shown = levelNames.prefix(12).map { "'\($0)'" }.joined(separator: ", ")
                        throw err(name, "the reference level '\(wanted)' is not one of the column's fitted levels (\(shown)\(levelNames.count > 12 ? ", …" : "")\(pooled.contains(wanted) ? "; it was pooled as rare" : ""))",
                                  "name one of those levels: --reference \(name)=LEVEL")
                    }
                    levelNames.insert(levelNames.remove(at: at), at: 0)
                }
                if !pooled.isEmpty || missingPooled { levelNames.append(FeatureSpec.otherLevel) }
                if tally.missing > 0 { imputedCells += tally.missing }
                if tally.missing > 0 && !missingPooled { levelNames.append(FeatureSpec.missingLevel) }
                guard let reference = levelNames.first else { continue }
                var spec = FeatureSpec(column: name, kind: .categorical, levels: levelNames, reference: reference,
                                       missingShare: Double(tally.missing) / Double(n))
                if missingPooled { pooled.append(FeatureSpec.missingLevel) }
                spec.pooledLevels = pooled.isEmpty ? nil : pooled
                var positions: [String: Int] = [:]
                for (pos, level) in levelNames.enumerated() { positions[level] = pos }
                let otherPosition = positions[FeatureSpec.otherLevel] ?? -1
                var levelCounts = [Int](repeating: 0, count: levelNames.count)
                for level in pooled { positions[level] = otherPosition; levelCounts[otherPosition] += tally.counts[level] ?? 0 }
                for (pos, level) in levelNames.enumerated() { levelCounts[pos] += tally.counts[level] ?? 0 }
                let missingPosition = tally.missing == 0 ? -1 : missingPooled ? otherPosition : levelNames.count - 1
                if missingPosition >= 0 { levelCounts[missingPosition] += tally.missing }
                positions[FeatureSpec.missingLevel] = nil
                spec.levelShares = levelCounts.map { Double($0) / Double(n) }
                var levelEvents = [Int](repeating: 0, count: levelNames.count)
                for (level, byLabel) in tally.labelled {
                    let position = level.isEmpty ? missingPosition : positions[level] ?? -1
                    guard position >= 0 else { continue }
                    for (text, count) in byLabel where coding.positives.contains(text) { levelEvents[position] += count }
                }
                spec.levelChurners = levelEvents
                for level in levelNames.dropFirst() {
                    termNames.append(FeatureSpec.levelTerm(name, level))
                    termSources.append((name, level))
                }
                steps.append(.categorical(column: name, positions: positions, missingPosition: missingPosition,
                                          dummies: levelNames.count - 1))
                features.append(spec)
            }
        }
        for group in groups {
            var members: [(column: String, member: GroupMember, metric: NumericMetric)] = []
            var missingCells = 0
            for m in group.members {
                guard let stats = numeric[m.column] else { continue }
                let metric = try stats.finish(file: path)
                guard metric.sd > 0 else {
                    throw err(m.column, "group '\(group.name)' member '\(m.column)' is constant on the training rows", "remove it from the group")
                }
                try Self.checkScale(metric.sd, column: m.column, err: err)
                missingCells += metric.missing
                members.append((m.column, GroupMember(column: m.column, transforms: metric.chain.isEmpty ? nil : metric.chain,
                                                      mean: metric.mean, standardDeviation: metric.sd, sign: m.sign,
                                                      imputeValue: roles.missing == .impute ? metric.fill : nil), metric))
            }
            termNames.append(group.name)
            termSources.append((group.name, nil))
            // The group's own mean and sd are those of its design column, filled in once it is written.
            var spec = FeatureSpec(column: group.name, kind: .group, missingShare: Double(missingCells) / Double(max(n * members.count, 1)))
            spec.members = members.map(\.member)
            // Members are turned to agree with the first, so the group shares its direction when all have one.
            let directions = group.members.map { roles.healthierWhen[$0.column] }
            if directions.allSatisfy({ $0 != nil }) { spec.healthierWhen = directions[0] }
            steps.append(.group(members: members))
            features.append(spec)
        }
        groups = []
        if termNames.count - 1 > Self.maxTerms {
            let gigabytes = Double(termNames.count) * Double(termNames.count) * 8 / 1e9
            throw err(nil, "the design would have \(termNames.count - 1) terms besides the intercept; at most \(Self.maxTerms) can be fitted (their information matrix alone would take \(String(format: "%.1f", gigabytes)) GB)",
                      "--exclude columns that are not metrics, pool levels with --rare-levels, or list the metrics in a config (healthscore init)")
        }
        for i in features.indices {
            if let d = roles.displayNames[features[i].column] { features[i].displayName = d }
            if let d = roles.healthierWhen[features[i].column] { features[i].healthierWhen = d }
            if roles.unactionable.contains(features[i].column) { features[i].actionable = false }
        }
        var schema = InputSchema(target: TargetSpec(column: roles.target, positive: coding.positive, negative: coding.negatives),
                                 id: roles.id, time: roles.time, excluded: roles.exclude, missingPolicy: roles.missing,
                                 naValues: naValues, features: features)
        schema.clusterColumn = roles.cluster
        schema.weightsColumn = roles.weights
        schema.classWeight = roles.classWeight == .none ? nil : roles.classWeight.rawValue
        schema.unseenLevels = roles.unseenLevels
        schema.rareLevelShare = roles.rareLevelShare
        schema.numberFormat = roles.numberFormat == .plain ? nil : roles.numberFormat
        schema.requireTrustworthy = roles.requireTrustworthy ? true : nil
        schema.unlistedColumns = unlisted.isEmpty ? nil : unlisted
        let balanced = roles.classWeight == .balanced && total[0] > 0 && total[1] > 0
        return DesignRecipe(roles: roles, termNames: termNames, termSources: termSources, schema: schema, rows: n,
                            dropped: records - n, dropReasons: reasons, imputedCells: imputedCells, events: events,
                            steps: steps, positiveLabels: coding.positives,
                            classTotals: balanced ? (total[0], total[1]) : nil)
    }
}
