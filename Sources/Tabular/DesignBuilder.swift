import Foundation
import ScoringCore

/// How the analyst's columns are used.
public struct ColumnRoles: Sendable {
    public var target: String
    public var id: String?
    public var time: String?
    public var exclude: [String] = []
    /// The label value meaning "churned"; inferred for 0/1, true/false, yes/no when nil.
    public var positive: String?
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
    /// Read as categories even when every value is a number (e.g. area codes).
    public var categorical: Set<String> = []
    /// From the metric configuration, stored per feature for reports.
    public var displayNames: [String: String] = [:]
    public var healthierWhen: [String: String] = [:]
    /// When set, only these columns (plus the role columns) are metrics.
    public var onlyColumns: Set<String>?
    /// The score scale and how the health bands are cut (frozen into the model at fit time).
    public var scoring = ScoringChoice()
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

public enum ClassWeight: String, Sendable, CaseIterable { case none, balanced }

/// Correlated metrics fitted as one term: the mean of their standard scores, each member turned by
/// `sign` (+1/−1) so that all point the same way.
public struct MetricGroup: Sendable, Equatable {
    public var name: String
    public var members: [(column: String, sign: Double)]
    public init(name: String, members: [(column: String, sign: Double)]) { self.name = name; self.members = members }
    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.members.map(\.column) == b.members.map(\.column) && a.members.map(\.sign) == b.members.map(\.sign)
    }
}

/// A numeric design ready for the fit: column-major, column 0 the intercept.
public struct Design: Sendable {
    public var rows: Int
    public var termNames: [String]
    /// Column-major rows × termNames.count.
    public var storage: [Double]
    public var response: [Double]
    /// The data-file record (1-based) behind each design row.
    public var sourceRecords: [Int]
    public var schema: InputSchema
    public var nDropped: Int
    public var nImputedCells: Int
    /// Per dropped reason, e.g. "missing label" → 3.
    public var dropReasons: [String: Int]
    /// For each term, the feature column it comes from (nil for the intercept) and the level.
    public var termSources: [(column: String?, level: String?)]
    /// Distinct customers among the design rows, when the id column was read (`--id`).
    public var distinctIds: Int?
    /// Per design row: sample weight × class weight, or nil when both are absent.
    public var weights: [Double]?
    /// Dense cluster code per design row (`ColumnRoles.cluster`), and the number of clusters.
    public var clusterCodes: [Int32]?
    public var clusterCount: Int = 0
    /// Per design row, a 64-bit code of the customer id (`ColumnRoles.id`): equal ids, equal codes.
    /// Cross-validation keeps a customer's snapshots in one fold with it.
    public var idHashes: [UInt64]? = nil
    /// Scale and band choice, carried from the roles to the trainer.
    public var scoring = ScoringChoice()
}

/// Turns a typed table into a treatment-coded design and a 0/1 response.
public enum DesignBuilder {
    /// Above this many levels a text column is refused as a metric unless most rows share levels:
    /// it is almost always an identifier or a free-text field.
    public static let identifierLevelLimit = 1_000

    public static func build(_ table: RawTable, roles: ColumnRoles, naValues: [String]) throws -> Design {
        let file = table.path
        func err(_ column: String?, _ problem: String, _ fix: String, row: Int? = nil) -> DataError {
            DataError(file: file, row: row, line: row.map { table.line(ofRecord: $0) }, column: column, problem: problem, fix: fix)
        }
        let names = table.columns.map(\.name) + table.skippedColumns
        func require(_ name: String, role: String, flag: String) throws {
            guard table.hasColumn(name) else {
                throw err(nil, "no column named '\(name)' for \(role) (columns: \(names.prefix(12).joined(separator: ", "))\(names.count > 12 ? ", …" : ""))",
                          "pass one of the header names to \(flag)")
            }
        }
        if roles.exclude.contains(roles.target) {
            throw err(roles.target, "the target column is also listed in --exclude", "remove '\(roles.target)' from --exclude")
        }
        try require(roles.target, role: "the target", flag: "--target")
        guard let targetColumn = table.column(named: roles.target) else {
            throw err(roles.target, "the target column was not read", "do not skip the target column")
        }
        if let id = roles.id { try require(id, role: "the id", flag: "--id") }
        if let t = roles.time { try require(t, role: "the snapshot time", flag: "--time") }
        for e in roles.exclude { try require(e, role: "--exclude", flag: "--exclude") }
        if let c = roles.cluster { try require(c, role: "clustering", flag: "--covariance cluster:") }
        if let w = roles.weights {
            try require(w, role: "the weights", flag: "--weights")
            if w == roles.target { throw err(w, "the target column is also given as --weights", "use a separate weights column") }
        }
        for name in roles.transforms.keys { try require(name, role: "--transform", flag: "--transform") }
        var memberOf = try MetricGrouping.validate(roles.groups, table: table, roles: roles, error: { err($0, $1, $2) })
        for (flag, name) in [("--id", roles.id), ("--time", roles.time)] where name == roles.target {
            throw err(roles.target, "the target column is also given as \(flag)", "use different columns for \(flag) and --target")
        }

        // 1. The label.
        let label = try LabelCoding.code(targetColumn, positive: roles.positive, file: file, table: table)

        // 2. Which rows survive, and the features.
        let skip = Set([roles.target] + [roles.id, roles.time, roles.weights].compactMap { $0 } + roles.exclude)
        let featureColumns = table.columns.filter { !skip.contains($0.name) && (roles.onlyColumns?.contains($0.name) ?? true) }
        for c in featureColumns where c.missingCount == table.rowCount {
            throw err(c.name, "every value is missing", "drop the column or pass --exclude \(c.name)")
        }
        var keep = label.values.map { !$0.isNaN }
        var dropReasons: [String: Int] = [:]
        let missingLabels = keep.filter { !$0 }.count
        if missingLabels > 0 { dropReasons["missing label"] = missingLabels }
        var weightValues: [Double]? = nil
        if let name = roles.weights {
            guard let c = table.column(named: name), case .numeric(let w) = c.values else {
                throw err(name, "the weights column is not numeric", "give one non-negative number per row")
            }
            var dropped = 0
            for i in 0..<table.rowCount {
                if w[i].isNaN { if keep[i] { keep[i] = false; dropped += 1 }; continue }
                if w[i] < 0 {
                    throw err(name, "negative weight \(w[i])", "weights must be zero or positive", row: i + 1)
                }
            }
            if dropped > 0 { dropReasons["missing \(name) (weight)"] = dropped }
            weightValues = w
        }
        var clusterColumn: RawColumn? = nil
        if let name = roles.cluster {
            guard let c = table.column(named: name) else {
                throw err(name, "the cluster column was not read", "do not exclude the cluster column")
            }
            clusterColumn = c
            let missing = c.missingMask()
            var dropped = 0
            for i in 0..<table.rowCount where keep[i] && missing[i] { keep[i] = false; dropped += 1 }
            if dropped > 0 { dropReasons["missing \(name) (cluster)"] = dropped }
        }
        if roles.missing == .drop {
            for c in featureColumns where c.missingCount > 0 {
                var dropped = 0
                let missing = c.missingMask()
                for i in 0..<table.rowCount where keep[i] && missing[i] { keep[i] = false; dropped += 1 }
                if dropped > 0 { dropReasons["missing \(c.name)"] = dropped }
            }
        }
        let rowsKept = keep.indices.filter { keep[$0] }
        if rowsKept.isEmpty {
            throw err(nil, "no rows left after dropping rows with missing values (\(dropReasons.map { "\($0.key): \($0.value)" }.sorted().joined(separator: ", ")))",
                      roles.missing == .drop ? "pass --missing impute, or --exclude the mostly-missing columns" : "check the label column")
        }
        let response = rowsKept.map { label.values[$0] }
        var weights: [Double]? = weightValues.map { w in rowsKept.map { w[$0] } }
        if let w = weights, !w.contains(where: { $0 > 0 }) {
            throw err(roles.weights, "every weight is zero", "give the rows to fit a positive weight")
        }
        if roles.classWeight == .balanced {
            // scikit-learn's "balanced": each class gets total weight N/2.
            let base = weights ?? [Double](repeating: 1, count: response.count)
            var total = [0.0, 0.0]
            for (yi, wi) in zip(response, base) { total[Int(yi)] += wi }
            let all = total[0] + total[1]
            if total[0] > 0 && total[1] > 0 {
                weights = zip(response, base).map { $1 * all / (2 * total[Int($0)]) }
            }
        }
        let events = response.reduce(0, +)
        if events == 0 || events == Double(response.count) {
            let only = events == 0 ? "non-churners" : "churners"
            throw err(roles.target, "only \(only) remain (\(response.count) rows): a churn model needs both classes",
                      "check --positive and the label values, or use a file with both churned and retained customers")
        }

        var groups = roles.groups
        if let threshold = roles.correlationThreshold {
            let candidates = featureColumns.filter { c in
                if case .numeric = c.values { return memberOf[c.name] == nil } else { return false }
            }
            for g in MetricGrouping.correlated(candidates, rows: rowsKept, threshold: threshold, roles: roles) {
                groups.append(g)
                for m in g.members { memberOf[m.column] = g.name }
            }
        }

        // 3. Terms, column by column.
        let n = rowsKept.count
        var termNames = [Coefficient.interceptTerm]
        var termSources: [(column: String?, level: String?)] = [(nil, nil)]
        var storage = [Double](repeating: 1, count: n)
        storage.reserveCapacity(n * (1 + featureColumns.count))
        var features: [FeatureSpec] = []
        var imputedCells = 0
        for c in featureColumns where memberOf[c.name] == nil {
            let missingInKept: Int
            if c.missingCount == 0 {
                missingInKept = 0
            } else {
                let missing = c.missingMask()
                missingInKept = rowsKept.reduce(0) { $0 + (missing[$1] ? 1 : 0) }
            }
            switch c.values {
            case .numeric(let rawValues):
                let prepared = try NumericMetric.prepare(rawValues, rows: rowsKept, column: c.name, roles: roles,
                                                         error: { err(c.name, $0, $1) })
                let values = prepared.values
                var spec = FeatureSpec(column: c.name, kind: .numeric, mean: prepared.mean, standardDeviation: prepared.sd,
                                       missingShare: Double(missingInKept) / Double(n))
                spec.transforms = prepared.chain.isEmpty ? nil : prepared.chain
                termNames.append(c.name)
                termSources.append((c.name, nil))
                if n == table.rowCount && missingInKept == 0 {
                    storage.append(contentsOf: values)
                } else {
                    let base = storage.count
                    let fill = prepared.fill
                    storage.append(contentsOf: repeatElement(0, count: n))
                    values.withUnsafeBufferPointer { v in
                        storage.withUnsafeMutableBufferPointer { out in
                            for (r, i) in rowsKept.enumerated() { let x = v[i]; out[base + r] = x.isNaN ? fill : x }
                        }
                    }
                }
                if roles.missing == .impute {
                    spec.imputeValue = prepared.fill
                    spec.imputation = roles.impute
                    if missingInKept > 0 {
                        imputedCells += missingInKept
                        let term = FeatureSpec.indicatorTerm(c.name)
                        spec.missingIndicator = term
                        termNames.append(term)
                        termSources.append((c.name, nil))
                        for i in rowsKept { storage.append(values[i].isNaN ? 1 : 0) }
                    }
                }
                features.append(spec)
            case .text(let codes, let levels):
                var counts = [Int](repeating: 0, count: levels.count)
                for i in rowsKept where codes[i] >= 0 { counts[Int(codes[i])] += 1 }
                let minimum = (roles.rareLevelShare ?? 0) * Double(n)
                let pooled = levels.indices.filter { counts[$0] > 0 && Double(counts[$0]) < minimum }.map { levels[$0] }
                    .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                var levelNames = levels.indices.filter { Double(counts[$0]) >= max(minimum, 1) }.map { levels[$0] }
                    .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                let distinct = counts.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
                if distinct > identifierLevelLimit && distinct * 2 > n {
                    throw err(c.name, "text column with \(distinct) distinct values in \(n) rows looks like an identifier or free text",
                              "pass --id \(c.name) or --exclude \(c.name)")
                }
                if !pooled.isEmpty { levelNames.append(FeatureSpec.otherLevel) }
                if missingInKept > 0 { // impute policy only: drop removed them
                    imputedCells += missingInKept
                    levelNames.append(FeatureSpec.missingLevel)
                }
                guard let reference = levelNames.first else { continue }
                var spec = FeatureSpec(column: c.name, kind: .categorical, levels: levelNames, reference: reference,
                                       missingShare: Double(missingInKept) / Double(n))
                spec.pooledLevels = pooled.isEmpty ? nil : pooled
                var position: [String: Int] = [:]
                for (pos, name) in levelNames.enumerated() { position[name] = pos }
                let otherPos = position[FeatureSpec.otherLevel] ?? -1
                let pooledSet = Set(pooled)
                // code → position among levelNames
                let index = levels.map { pooledSet.contains($0) ? otherPos : (position[$0] ?? -1) }
                let missingPos = levelNames.count - 1
                let base = storage.count
                let dummies = levelNames.count - 1
                storage.append(contentsOf: repeatElement(0, count: n * dummies))
                var levelCounts = [Int](repeating: 0, count: levelNames.count)
                storage.withUnsafeMutableBufferPointer { out in
                    for (r, i) in rowsKept.enumerated() {
                        let pos = codes[i] < 0 ? missingPos : index[Int(codes[i])]
                        if pos >= 0 { levelCounts[pos] += 1 }
                        if pos > 0 { out[base + (pos - 1) * n + r] = 1 }
                    }
                }
                spec.levelShares = levelCounts.map { Double($0) / Double(n) }
                for level in levelNames.dropFirst() {
                    termNames.append(FeatureSpec.levelTerm(c.name, level))
                    termSources.append((c.name, level))
                }
                features.append(spec)
            }
        }
        for group in groups {
            let built = try MetricGrouping.build(group, table: table, rows: rowsKept, roles: roles, error: { err($0, $1, $2) })
            termNames.append(group.name)
            termSources.append((group.name, nil))
            storage.append(contentsOf: built.values)
            var spec = built.spec
            // Members are turned to agree with the first, so the group shares its direction when all have one.
            let directions = group.members.map { roles.healthierWhen[$0.column] }
            if directions.allSatisfy({ $0 != nil }) { spec.healthierWhen = directions[0] }
            features.append(spec)
        }
        for i in features.indices {
            if let name = roles.displayNames[features[i].column] { features[i].displayName = name }
            if let d = roles.healthierWhen[features[i].column] { features[i].healthierWhen = d }
        }
        var distinctIds: Int? = nil
        var idHashes: [UInt64]? = nil
        if let id = roles.id {
            if let hashes = table.hashedColumns[id] {
                idHashes = rowsKept.map { hashes[$0] }
                // Sorting 8-byte keys beats a million-entry hash set.
                var sorted = rowsKept.map { hashes[$0] }
                sorted.sort()
                var distinct = sorted.isEmpty ? 0 : 1
                for i in sorted.indices.dropFirst() where sorted[i] != sorted[i - 1] { distinct += 1 }
                distinctIds = distinct
            } else if let c = table.column(named: id) {
                let (codes, levels) = c.levelCodes()
                idHashes = rowsKept.map { UInt64(bitPattern: Int64(codes[$0])) }
                var seen = [Bool](repeating: false, count: levels.count)
                for i in rowsKept where codes[i] >= 0 { seen[Int(codes[i])] = true }
                distinctIds = seen.filter { $0 }.count
            }
        }
        var clusterCodes: [Int32]? = nil
        var clusterCount = 0
        if let c = clusterColumn {
            // Dense codes 0..<G over the kept rows.
            let (codes, levels) = c.levelCodes()
            var dense = [Int32](repeating: -1, count: levels.count)
            clusterCodes = rowsKept.map { i in
                let code = Int(codes[i])
                if dense[code] < 0 { dense[code] = Int32(clusterCount); clusterCount += 1 }
                return dense[code]
            }
        }
        var schema = InputSchema(target: TargetSpec(column: roles.target, positive: label.positive, negative: label.negatives),
                                 id: roles.id, time: roles.time, excluded: roles.exclude, missingPolicy: roles.missing,
                                 naValues: naValues, features: features)
        schema.clusterColumn = roles.cluster
        schema.weightsColumn = roles.weights
        schema.classWeight = roles.classWeight == .none ? nil : roles.classWeight.rawValue
        schema.unseenLevels = roles.unseenLevels
        schema.rareLevelShare = roles.rareLevelShare
        var design = Design(rows: n, termNames: termNames, storage: storage, response: response,
                      sourceRecords: rowsKept.map { $0 + 1 }, schema: schema,
                      nDropped: table.rowCount - n, nImputedCells: imputedCells, dropReasons: dropReasons,
                      termSources: termSources, distinctIds: distinctIds, weights: weights, clusterCodes: clusterCodes, clusterCount: clusterCount,
                      idHashes: idHashes)
        design.scoring = roles.scoring
        return design
    }
}

extension RawColumn {
    /// One flag per row; built once per column so row loops do not re-match the enum.
    public func missingMask() -> [Bool] {
        switch values {
        case .numeric(let v): return v.map(\.isNaN)
        case .text(let codes, _): return codes.map { $0 < 0 }
        }
    }

    /// The cell as text (numbers printed in their shortest exact form); nil when missing.
    public func text(at i: Int) -> String? {
        switch values {
        case .numeric(let v):
            if v[i].isNaN { return nil }
            return v[i] == v[i].rounded() && abs(v[i]) < 1e15 ? String(Int64(v[i])) : String(v[i])
        case .text(let codes, let levels): return codes[i] < 0 ? nil : levels[Int(codes[i])]
        }
    }
}

extension DesignBuilder {
    /// The label as 1 (churned), 0, or NaN when missing, with the positive value it settled on.
    public static func label(_ table: RawTable, target: String, positive: String?) throws -> (values: [Double], positive: String) {
        guard let column = table.column(named: target) else {
            throw DataError(file: table.path, row: nil, line: nil, column: target, problem: "no column named '\(target)' for the target",
                            fix: "pass one of the header names to --target")
        }
        let coded = try LabelCoding.code(column, positive: positive, file: table.path, table: table)
        return (coded.values, coded.positive)
    }
}

/// Maps label values to 1 (churned) and 0.
enum LabelCoding {
    static let pairs: [(positive: String, negative: String)] = [("1", "0"), ("true", "false"), ("yes", "no")]

    static func normalised(_ s: String) -> String { s.trimmingCharacters(in: .whitespaces).lowercased() }

    struct Coded { var values: [Double]; var positive: String; var negatives: [String] }

    static func code(_ column: RawColumn, positive: String?, file: String, table: RawTable) throws -> Coded {
        // Work on distinct values, then map rows by code: a million-row label costs no String per row.
        let (codes, levels) = column.levelCodes()
        var seen = [Bool](repeating: false, count: levels.count)
        for c in codes where c >= 0 { seen[Int(c)] = true }
        let distinct = levels.indices.filter { seen[$0] }.map { levels[$0] }
        let shown = distinct.sorted().prefix(8).map { "'\($0)'" }.joined(separator: ", ")
        let isPositive: [Bool]
        let positiveText: String
        if let positive {
            guard distinct.contains(positive) else {
                throw DataError(file: file, row: nil, line: nil, column: column.name,
                                problem: "--positive '\(positive)' does not occur in the label (values: \(shown))",
                                fix: "pass one of the label values to --positive")
            }
            isPositive = levels.map { $0 == positive }
            positiveText = positive
        } else {
            let lowered = Set(distinct.map(normalised))
            guard let pair = pairs.first(where: { lowered.isSubset(of: [$0.positive, $0.negative]) }) else {
                let example = distinct.sorted().first ?? "churned"
                throw DataError(file: file, row: nil, line: nil, column: column.name,
                                problem: "the label is not binary 0/1, true/false or yes/no (values: \(shown)\(distinct.count > 8 ? ", …" : ""))",
                                fix: "pass --positive VALUE naming the value that means churned, e.g. --positive \(example)")
            }
            isPositive = levels.map { normalised($0) == pair.positive }
            positiveText = distinct.first { normalised($0) == pair.positive } ?? pair.positive
        }
        let values = codes.map { $0 < 0 ? Double.nan : (isPositive[Int($0)] ? 1 : 0) }
        let negatives = distinct.filter { !isPositive[levels.firstIndex(of: $0)!] }.sorted()
        return Coded(values: values, positive: positiveText, negatives: negatives)
    }
}

extension RawColumn {
    /// Codes and levels for any column; a numeric column's distinct values become text levels.
    func levelCodes() -> (codes: [Int32], levels: [String]) {
        switch values {
        case .text(let codes, let levels): return (codes, levels)
        case .numeric(let v):
            var index: [Double: Int32] = [:]
            var levels: [String] = []
            let codes = v.map { x -> Int32 in
                if x.isNaN { return -1 }
                if let c = index[x] { return c }
                let c = Int32(levels.count)
                index[x] = c
                levels.append(x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x))
                return c
            }
            return (codes, levels)
        }
    }
}


/// Learns a numeric column's transforms from the rows the fit uses.
public enum TransformRule {
    /// Skewness above which `--auto-transform` logs a metric (counts such as logins or days late
    /// typically sit far above it; roughly symmetric metrics near 0).
    public static let skewThreshold = 2.0

    static func learn(_ values: [Double], rows: [Int], column: String, requested: [MetricTransform.Kind]?, auto: Bool,
                      error: (String, String) -> DataError) throws -> ([Double], [MetricTransform]) {
        var kinds = requested ?? []
        if requested == nil && auto {
            let present = rows.lazy.map { values[$0] }.filter { !$0.isNaN }
            let distinct = Set(present.prefix(1_000))
            if distinct.count > 2, skewness(Array(present)) > skewThreshold {
                kinds = [(present.min() ?? 0) >= 0 ? .log1p : .asinh]
            }
        }
        guard !kinds.isEmpty else { return (values, []) }
        var current = values
        var chain: [MetricTransform] = []
        for kind in kinds {
            var t = MetricTransform(kind: kind)
            if kind == .clip {
                let sorted = rows.map { current[$0] }.filter { !$0.isNaN }.sorted()
                guard !sorted.isEmpty else { continue }
                t.lower = quantile(sorted, 0.01)
                t.upper = quantile(sorted, 0.99)
            }
            var next = current
            for i in rows where !current[i].isNaN {
                guard let v = t.apply(current[i]) else {
                    throw error("value \(current[i]) in row \(i + 1) is outside the domain of \(kind.rawValue)",
                                "use asinh for metrics that can be −1 or below")
                }
                next[i] = v
            }
            current = next
            chain.append(t)
        }
        return (current, chain)
    }

    /// Type-7 quantile (linear interpolation), as R's default.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    public static func skewness(_ x: [Double]) -> Double {
        guard x.count > 2 else { return 0 }
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        var m2 = 0.0, m3 = 0.0
        for v in x { let d = v - mean; m2 += d * d; m3 += d * d * d }
        m2 /= n; m3 /= n
        return m2 > 0 ? m3 / pow(m2, 1.5) : 0
    }
}
