import Foundation
import ScoringCore
import Support

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
}

/// Turns a typed table into a treatment-coded design and a 0/1 response: the design learned from
/// the whole table (`DesignStatistics` on one piece) and applied to it (`DesignRecipe`), the same
/// two steps `--streaming` takes chunk by chunk.
public enum DesignBuilder {
    /// Above this many levels a text column is refused as a metric unless most rows share levels:
    /// it is almost always an identifier or a free-text field.
    public static let identifierLevelLimit = 1_000

    /// Takes the table by value so that, when the caller hands it over (`consume`), each raw column
    /// is released as soon as its terms are written: raw table and design are never both whole.
    public static func build(_ table: consuming RawTable, roles: ColumnRoles, naValues: [String]) throws -> Design {
        try validate(table, roles: roles)
        let path = table.path
        let selection: RowSelection
        var statistics = DesignStatistics(roles: roles, naValues: naValues, path: path)
        do {
            let place = PieceLocation(table: copy table, recordOffset: 0)
            let features = DesignStatistics.featureColumns(table, roles: roles)
            selection = try RowSelection.select(place, roles: roles, features: features)
            try statistics.observe(table, place: place, features: features, selection: selection)
        }
        var extraGroups: [MetricGroup] = []
        if let threshold = roles.correlationThreshold {
            let members = Set(roles.groups.flatMap { $0.members.map(\.column) })
            let candidates = DesignStatistics.featureColumns(table, roles: roles).filter { c in
                if case .numeric = c.values { return !members.contains(c.name) } else { return false }
            }
            extraGroups = MetricGrouping.correlated(candidates, rows: selection.kept ?? Array(0..<table.rowCount),
                                                    threshold: threshold, roles: roles)
        }
        var recipe = try statistics.recipe(extraGroups: extraGroups)
        statistics = DesignStatistics(roles: roles, naValues: naValues, path: path)

        let n = recipe.rows
        // The id column alone, for the distinct-customer count that runs beside the terms below.
        let idTable = RawTable(path: path, columns: [roles.id.flatMap { table.column(named: $0) }].compactMap { $0 },
                               rowCount: table.rowCount, recordLines: [],
                               hashedColumns: roles.id.flatMap { id in table.hashedColumns[id].map { [id: $0] } } ?? [:])
        let clusters = clusterCodes(table, roles: roles, selection: selection)
        let sourceRecords = (0..<n).map { selection.row($0) + 1 }
        let place = PieceLocation(table: RawTable(path: path, columns: [], rowCount: table.rowCount, recordLines: table.recordLines),
                                  recordOffset: 0)
        let labelTable = RawTable(path: path, columns: [table.column(named: roles.target)].compactMap { $0 }
                                      + [roles.weights.flatMap { table.column(named: $0) }].compactMap { $0 },
                                  rowCount: table.rowCount, recordLines: [])
        var response = [Double](repeating: 0, count: n)
        try response.withUnsafeMutableBufferPointer {
            try recipe.writeLabel(labelTable, selection: selection, place: place, response: $0.baseAddress!)
        }
        var weights: [Double]? = nil
        if recipe.hasWeights {
            var w = [Double](repeating: 0, count: n)
            response.withUnsafeBufferPointer { y in
                w.withUnsafeMutableBufferPointer { recipe.writeWeights(labelTable, selection: selection, response: y.baseAddress!, weights: $0.baseAddress!) }
            }
            weights = w
        }

        // Terms column by column into storage allocated once and touched only as it is written,
        // the steps spread over the cores (each owns its columns of the design, so nothing is
        // merged); each raw column goes as soon as its terms are in.
        var columns = table.columns
        var index: [String: Int] = [:]
        for (k, c) in columns.enumerated() where index[c.name] == nil { index[c.name] = k }
        _ = consume table
        let p = recipe.termNames.count
        let frozen = recipe
        let steps = frozen.steps
        var offsets: [Int] = []
        var term = 1
        for step in steps { offsets.append(term); term += step.termCount }
        let stepColumns = steps.map { $0.columns.map { index[$0]! } }
        // A column read by two steps is only freed at the end, so no step frees what another reads.
        var uses = [Int](repeating: 0, count: columns.count)
        for list in stepColumns { for k in list { uses[k] += 1 } }
        var groupMoments = [Moments?](repeating: nil, count: steps.count)
        // Written by task 0 alone, read once the workers have joined.
        var ids: (hashes: [UInt64]?, distinct: Int?) = (nil, nil)
        let storage = try [Double](unsafeUninitializedCapacity: n * p) { buffer, initialized in
            let x = buffer.baseAddress!
            adviseHugePages(UnsafeMutableRawPointer(x), bytes: n * p * MemoryLayout<Double>.stride)
            x.update(repeating: 1, count: n)
            try columns.withUnsafeMutableBufferPointer { raw in
                try groupMoments.withUnsafeMutableBufferPointer { moments in
                    // Task 0 counts distinct customers (a sort of a million hashes), the rest write terms.
                    try ColumnWork.forEach(steps.count + 1) { task, _ in
                        if task == 0 { ids = identities(idTable, roles: roles, selection: selection); return }
                        let s = task - 1
                        let step = steps[s]
                        let out = x + offsets[s] * n
                        try frozen.write(step, columns: stepColumns[s].map { raw[$0] }, selection: selection, place: place,
                                         x: out, stride: n)
                        if case .group = step { moments[s] = Moments(UnsafeBufferPointer(start: out, count: n)) }
                        for k in stepColumns[s] where uses[k] == 1 {
                            raw[k] = RawColumn(name: raw[k].name, values: .numeric([]), missingCount: 0)
                        }
                    }
                }
            }
            initialized = n * p
        }
        columns = []
        for (s, m) in groupMoments.enumerated() {
            guard let m else { continue }
            recipe.schema.features[s].mean = m.mean
            recipe.schema.features[s].standardDeviation = m.sd
        }
        return Design(rows: n, termNames: recipe.termNames, storage: storage, response: response,
                            sourceRecords: sourceRecords, schema: recipe.schema,
                            nDropped: recipe.dropped, nImputedCells: recipe.imputedCells, dropReasons: recipe.dropReasons,
                            termSources: recipe.termSources, distinctIds: ids.distinct, weights: weights,
                            clusterCodes: clusters?.codes, clusterCount: clusters?.count ?? 0, idHashes: ids.hashes)
    }

    /// Checks the roles against the header: every named column exists and plays one part.
    static func validate(_ table: RawTable, roles: ColumnRoles) throws {
        func err(_ column: String?, _ problem: String, _ fix: String) -> Diagnostic {
            Diagnostic(.data, file: table.path, column: column, problem: problem, fix: fix)
        }
        let names = table.columns.map(\.name) + table.skippedColumns
        func require(_ name: String, role: String, flag: String) throws {
            guard table.hasColumn(name) else {
                let closest = closestName(to: name, among: names).map { " (closest: '\($0)')" } ?? ""
                throw err(nil, "no column named '\(name)' for \(role)\(closest) (columns: \(names.prefix(12).joined(separator: ", "))\(names.count > 12 ? ", …" : ""))",
                          "pass one of the header names to \(flag)")
            }
        }
        if roles.exclude.contains(roles.target) {
            throw err(roles.target, "the target column is also listed in --exclude", "remove '\(roles.target)' from --exclude")
        }
        try require(roles.target, role: "the target", flag: "--target")
        guard table.column(named: roles.target) != nil else {
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
        _ = try MetricGrouping.validate(roles.groups, table: table, roles: roles, error: { err($0, $1, $2) })
        // A column the configuration names is reported at its line there, before any flag it may
        // have become (a configured transform is not a --transform the user typed).
        for (name, place) in roles.configuredColumns where !table.hasColumn(name) {
            let closest = closestName(to: name, among: names).map { " (closest: '\($0)')" } ?? ""
            throw Diagnostic(.data, file: place, column: name,
                            problem: "the configuration names a column that \(table.path) does not have\(closest)",
                            fix: "correct the name in the configuration\(closest.isEmpty ? "" : " to the closest column") or remove the entry")
        }
        for name in roles.transforms.keys { try require(name, role: "--transform", flag: "--transform") }
        for name in roles.categorical.sorted() { try require(name, role: "--categorical", flag: "--categorical") }
        for name in roles.references.keys.sorted() { try require(name, role: "--reference", flag: "--reference") }
        for (flag, name) in [("--id", roles.id), ("--time", roles.time)] where name == roles.target {
            throw err(roles.target, "the target column is also given as \(flag)", "use different columns for \(flag) and --target")
        }
    }

    /// Per fitted row a 64-bit code of the customer id (equal ids, equal codes), and the number of
    /// distinct customers.
    static func identities(_ table: RawTable, roles: ColumnRoles, selection: RowSelection) -> (hashes: [UInt64]?, distinct: Int?) {
        guard let id = roles.id else { return (nil, nil) }
        if let hashes = table.hashedColumns[id] {
            let picked = (0..<selection.count).map { hashes[selection.row($0)] }
            return (picked, distinctCount(picked))
        }
        guard let c = table.column(named: id) else { return (nil, nil) }
        let (codes, levels) = c.levelCodes()
        var seen = [Bool](repeating: false, count: levels.count)
        let picked = (0..<selection.count).map { r -> UInt64 in
            let code = codes[selection.row(r)]
            if code >= 0 { seen[Int(code)] = true }
            return UInt64(bitPattern: Int64(code))
        }
        return (picked, seen.filter { $0 }.count)
    }

    /// Distinct values: sorted, then counted. A radix sort (four 16-bit digits) takes a million
    /// 8-byte keys in a few milliseconds, where a comparison sort or a hash set takes tens.
    public static func distinctCount(_ hashes: [UInt64]) -> Int {
        let n = hashes.count
        guard n > 1 else { return n }
        var a = hashes, b = [UInt64](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 1 << 16)
        for shift in stride(from: 0, to: 64, by: 16) {
            a.withUnsafeBufferPointer { src in
                b.withUnsafeMutableBufferPointer { dst in
                    counts.withUnsafeMutableBufferPointer { c in
                        c.update(repeating: 0)
                        for x in src { c[Int((x >> UInt64(shift)) & 0xFFFF)] += 1 }
                        var total = 0
                        for d in 0..<c.count { let k = c[d]; c[d] = total; total += k }
                        for x in src {
                            let d = Int((x >> UInt64(shift)) & 0xFFFF)
                            dst[c[d]] = x
                            c[d] += 1
                        }
                    }
                }
            }
            swap(&a, &b)
        }
        var distinct = 1
        a.withUnsafeBufferPointer { s in for i in 1..<n where s[i] != s[i - 1] { distinct += 1 } }
        return distinct
    }

    /// Dense cluster codes 0..<G over the fitted rows, in order of first appearance.
    static func clusterCodes(_ table: RawTable, roles: ColumnRoles, selection: RowSelection) -> (codes: [Int32], count: Int)? {
        guard let name = roles.cluster, let c = table.column(named: name) else { return nil }
        let (codes, levels) = c.levelCodes()
        var dense = [Int32](repeating: -1, count: levels.count)
        var count = 0
        let out = (0..<selection.count).map { r -> Int32 in
            let code = Int(codes[selection.row(r)])
            if dense[code] < 0 { dense[code] = Int32(count); count += 1 }
            return dense[code]
        }
        return (out, count)
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

/// The header name nearest to a mistyped one (edit distance at most a third of its length), else one
/// that starts with it ('churned' → 'churned_next_month').
public func closestName(to name: String, among names: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
    let target = Array(name.lowercased())
    let scored = names.map { ($0, distance(target, Array($0.lowercased()))) }
    if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, name.count / 3) { return best.0 }
    guard !name.isEmpty else { return nil }
    return names.first { $0.lowercased().hasPrefix(name.lowercased()) }
}

extension DesignBuilder {
    /// The label as the roles code it: `positive`, and with `negatives` the values that mean stayed.
    public static func label(_ table: RawTable, roles: ColumnRoles) throws -> (values: [Double], positive: String) {
        try label(table, target: roles.target, positive: roles.positive, negatives: roles.negatives)
    }

    /// The label as 1 (churned), 0, or NaN when missing (or, with `negatives`, neither churn nor a
    /// listed non-churn value), with the positive value it settled on.
    public static func label(_ table: RawTable, target: String, positive: String?,
                             negatives: [String] = []) throws -> (values: [Double], positive: String) {
        guard let column = table.column(named: target) else {
            throw Diagnostic(.data, file: table.path, row: nil, line: nil, column: target, problem: "no column named '\(target)' for the target",
                            fix: "pass one of the header names to --target")
        }
        let coded = try LabelCoding.code(column, positive: positive, negatives: negatives, file: table.path)
        return (coded.values, coded.coding.positive)
    }
}

/// Maps label values to 1 (churned) and 0. Inferred only where the spelling leaves no doubt;
/// anything else is an error that lists the values and their counts.
enum LabelCoding {
    /// Word pairs (positive, negative), compared trimmed and in lower case.
    static let wordPairs: [(positive: Set<String>, negative: Set<String>)] = [
        (["true", "t"], ["false", "f"]),
        (["yes", "y"], ["no", "n"]),
        (["churned", "churn", "churner", "left", "lost", "cancelled", "canceled", "lapsed"],
         ["active", "retained", "stayed", "current", "renewed", "loyal", "no churn", "not churned"]),
    ]

    static func normalised(_ s: String) -> String { s.trimmingCharacters(in: .whitespaces).lowercased() }

    /// Which label texts mean churned.
    struct Coding: Sendable { var positives: Set<String>; var positive: String; var negatives: [String] }

    /// `distinct`: the present label values with their row counts, in order of first appearance.
    static func decide(_ distinct: [(text: String, rows: Int)], positive: String?, negatives: [String] = [],
                       file: String, column: String) throws -> Coding {
        let total = max(1, distinct.reduce(0) { $0 + $1.rows })
        let byCount = distinct.sorted { ($0.rows, $1.text) > ($1.rows, $0.text) }
        let shown = byCount.prefix(8).map { "'\($0.text)' \($0.rows)" }.joined(separator: ", ") + (distinct.count > 8 ? ", …" : "")
        let texts = distinct.map(\.text)
        func err(_ problem: String, _ fix: String) -> Diagnostic { Diagnostic(.data, file: file, column: column, problem: problem, fix: fix) }
        if let positive {
            guard texts.contains(positive) else {
                throw err("--positive '\(positive)' does not occur in the label (values with their rows: \(shown))",
                          "pass one of the label values to --positive")
            }
            if negatives.contains(positive) {
                throw err("'\(positive)' is given both as --positive (churned) and in --negative (stayed)", "name it in one of the two")
            }
            for n in negatives where !texts.contains(n) {
                throw err("--negative '\(n)' does not occur in the label (values with their rows: \(shown))",
                          "pass label values to --negative, separated by commas")
            }
            let others = texts.filter { $0 != positive }
            if others.count > 1 && negatives.isEmpty {
                let rest = others.map(ColumnTyping.shellQuoted).joined(separator: ",")
                throw err("the label has \(distinct.count) values (\(shown)); only '\(positive)' is named as churn, and a third value is not assumed to mean 'stayed'",
                          "name the values that mean stayed: --negative \(others.count == 2 ? others.joined(separator: ",") : rest) (all of them), or fewer to leave the other rows out of the fit")
            }
            let negativeSet = negatives.isEmpty ? Set(others) : Set(negatives)
            return Coding(positives: [positive], positive: positive, negatives: texts.filter { negativeSet.contains($0) }.sorted())
        }
        if let coding = inferred(texts) { return coding }
        let suggestion: String
        if distinct.count == 2, let rarer = byCount.last {
            let share = String(format: "%.1f%%", 100 * Double(rarer.rows) / Double(total))
            suggestion = "pass --positive VALUE naming the value that means churned (the rarer value is '\(rarer.text)', \(share) of rows, usually churn: --positive \(ColumnTyping.shellQuoted(rarer.text)))"
        } else {
            suggestion = "pass --positive VALUE naming the value that means churned, and --negative VALUES naming those that mean stayed"
        }
        throw err("the label is not an unambiguous churn flag (0/1, true/false, yes/no, churned/active); values with their rows: \(shown)", suggestion)
    }

    /// The coding a label's spelling leaves no doubt about: numbers 0 and 1 (`1.0`/`0.0` too),
    /// 1 and −1, or one word of a known churn/stay pair each.
    static func inferred(_ texts: [String]) -> Coding? {
        guard !texts.isEmpty else { return nil }
        let numbers = texts.map { Double($0.trimmingCharacters(in: .whitespaces)) }
        if numbers.allSatisfy({ $0 != nil }) {
            let values = Set(numbers.compactMap { $0 })
            guard values.isSubset(of: [0, 1]) || values.isSubset(of: [1, -1]) else { return nil }
            let positives = Set(texts.indices.filter { numbers[$0] == 1 }.map { texts[$0] })
            return Coding(positives: positives, positive: texts.first { positives.contains($0) } ?? "1",
                          negatives: texts.filter { !positives.contains($0) }.sorted())
        }
        let lowered = texts.map(normalised)
        for pair in wordPairs {
            guard lowered.allSatisfy({ pair.positive.contains($0) || pair.negative.contains($0) }) else { continue }
            // One spelling per side (`yes` and `Yes` are one): `y`, `yes` and `no` together are not a pair.
            guard Set(lowered.filter { pair.positive.contains($0) }).count <= 1,
                  Set(lowered.filter { pair.negative.contains($0) }).count <= 1 else { return nil }
            let positives = Set(texts.filter { pair.positive.contains(normalised($0)) })
            return Coding(positives: positives, positive: texts.first { positives.contains($0) } ?? texts[0],
                          negatives: texts.filter { !positives.contains($0) }.sorted())
        }
        return nil
    }

    /// Per row 1 (churned), 0, or NaN when missing or (with `negatives`) another value.
    static func code(_ column: RawColumn, positive: String?, negatives: [String] = [],
                     file: String) throws -> (values: [Double], coding: Coding) {
        // Work on distinct values, then map rows by code: a million-row label costs no String per row.
        let (codes, levels) = column.levelCodes()
        var rows = [Int](repeating: 0, count: levels.count)
        for c in codes where c >= 0 { rows[Int(c)] += 1 }
        let coding = try decide(levels.indices.filter { rows[$0] > 0 }.map { (levels[$0], rows[$0]) }, positive: positive,
                                negatives: negatives, file: file, column: column.name)
        let negativeSet = Set(coding.negatives)
        let coded = levels.map { coding.positives.contains($0) ? 1.0 : negativeSet.contains($0) ? 0.0 : .nan }
        return (codes.map { $0 < 0 ? Double.nan : coded[Int($0)] }, coding)
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


