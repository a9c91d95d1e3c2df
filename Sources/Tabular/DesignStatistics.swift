import Foundation
import ScoringCore

/// What a design learns from the training rows, gathered piece by piece: the in-memory fit shows it
/// the whole table as one piece, `--streaming` the file's chunks in order, merged as they come.
/// `recipe()` freezes it into the `DesignRecipe` that turns any piece into design rows.
///
/// Memory: a few numbers per column, a count per category level, plus one 8-byte value per fitted
/// row for each column whose statistic does not merge (clip percentiles, the median fill) and,
/// with an id column, one 8-byte id hash per fitted row (to count distinct customers).
public struct DesignStatistics: Sendable {
    public let roles: ColumnRoles
    let naValues: [String]
    let path: String
    /// Records seen, and those the fit uses.
    public private(set) var records = 0
    public private(set) var rows = 0
    var dropReasons: [(String, Int)] = []
    /// Per label text: rows carrying it (all rows), and the fitted rows' count and weight.
    var labels: [String: LabelTally] = [:]
    var labelOrder: [String] = []
    /// Metric columns in header order, and whether each is read as text.
    var featureNames: [String] = []
    var isText: [String: Bool] = [:]
    var numeric: [String: NumericStatistics] = [:]
    var categorical: [String: CategoryTally] = [:]
    /// Cells missing over all rows, to refuse a column with no value at all.
    var missingTotal: [String: Int] = [:]
    var anyPositiveWeight = false
    /// Columns read as numbers in some pieces and as text in others (a piece's reader types each
    /// column by what it sees). Learning must be redone with them listed as text columns.
    public private(set) var mixedColumns: Set<String> = []
    /// The fitted rows' id hashes (streaming only; the in-memory build reads the id column itself).
    var idHashes: [UInt64]? = nil

    struct LabelTally: Sendable { var rows = 0, fitted = 0, weight = 0.0 }
    struct CategoryTally: Sendable { var counts: [String: Int] = [:]; var order: [String] = []; var missing = 0 }

    /// `collectIds`: keep the fitted rows' id hashes for the distinct-customer count.
    public init(roles: ColumnRoles, naValues: [String], path: String, collectIds: Bool = false) {
        self.roles = roles
        self.naValues = naValues
        self.path = path
        if collectIds && roles.id != nil { idHashes = [] }
    }

    /// The metric columns of a table: every column read, less the role columns and, with an
    /// `onlyColumns` list, those not on it.
    static func featureColumns(_ table: RawTable, roles: ColumnRoles) -> [RawColumn] {
        let skip = Set([roles.target] + [roles.id, roles.time, roles.weights].compactMap { $0 } + roles.exclude)
        return table.columns.filter { !skip.contains($0.name) && (roles.onlyColumns?.contains($0.name) ?? true) }
    }

    /// Adds one piece; `recordOffset`: records of the file before it.
    public mutating func observe(_ piece: RawTable, recordOffset: Int) throws {
        if records == 0 { try DesignBuilder.validate(piece, roles: roles) }
        let place = PieceLocation(table: piece, recordOffset: recordOffset)
        let features = Self.featureColumns(piece, roles: roles)
        let selection = try RowSelection.select(place, roles: roles, features: features)
        try observe(piece, place: place, features: features, selection: selection)
    }

    mutating func observe(_ piece: RawTable, place: PieceLocation, features: [RawColumn], selection: RowSelection) throws {
        if featureNames.isEmpty { featureNames = features.map(\.name) }
        records += piece.rowCount
        rows += selection.count
        for (reason, count) in selection.reasons {
            if let k = dropReasons.firstIndex(where: { $0.0 == reason }) { dropReasons[k].1 += count } else { dropReasons.append((reason, count)) }
        }
        try observeLabel(piece, selection: selection)
        // Numeric columns are gathered here and observed together below, on every core.
        var numericNames: [String] = [], numericStats: [NumericStatistics] = [], numericValues: [[Double]] = []
        for c in features {
            missingTotal[c.name, default: 0] += c.missingCount
            switch c.values {
            case .numeric(let v):
                if isText[c.name] == true { mixedColumns.insert(c.name); continue }
                isText[c.name] = false
                numericNames.append(c.name)
                numericStats.append(numeric[c.name] ?? NumericStatistics(column: c.name, roles: roles))
                numericValues.append(v)
            case .text(let codes, let levels):
                if isText[c.name] == false { mixedColumns.insert(c.name); isText[c.name] = true; continue }
                isText[c.name] = true
                var counts = [Int](repeating: 0, count: levels.count)
                var missing = 0
                codes.withUnsafeBufferPointer { k in
                    for r in 0..<selection.count { let code = k[selection.row(r)]; if code >= 0 { counts[Int(code)] += 1 } else { missing += 1 } }
                }
                var tally = categorical[c.name] ?? CategoryTally()
                tally.missing += missing
                for (code, count) in counts.enumerated() where count > 0 {
                    if tally.counts[levels[code]] == nil { tally.order.append(levels[code]) }
                    tally.counts[levels[code], default: 0] += count
                }
                categorical[c.name] = tally
            }
        }
        try NumericStatistics.observe(&numericStats, values: numericValues, kept: selection.kept, place: place)
        for (name, stats) in zip(numericNames, numericStats) { numeric[name] = stats }
        if idHashes != nil, let id = roles.id, let hashes = piece.hashedColumns[id] {
            for r in 0..<selection.count { idHashes!.append(hashes[selection.row(r)]) }
        }
    }

    private mutating func observeLabel(_ piece: RawTable, selection: RowSelection) throws {
        guard let column = piece.column(named: roles.target) else { return }
        let (codes, levels) = column.levelCodes()
        var all = [Int](repeating: 0, count: levels.count), fitted = all
        var weight = [Double](repeating: 0, count: levels.count)
        for c in codes where c >= 0 { all[Int(c)] += 1 }
        var w: [Double]? = nil
        if let name = roles.weights, case .numeric(let v)? = piece.column(named: name)?.values { w = v }
        for r in 0..<selection.count {
            let i = selection.row(r)
            let c = Int(codes[i])
            fitted[c] += 1
            let wi = w?[i] ?? 1
            weight[c] += wi
            if wi > 0 { anyPositiveWeight = true }
        }
        for (code, text) in levels.enumerated() where all[code] > 0 {
            if labels[text] == nil { labelOrder.append(text) }
            labels[text, default: LabelTally()].rows += all[code]
            labels[text]!.fitted += fitted[code]
            labels[text]!.weight += weight[code]
        }
    }

    /// Adds the statistics of the pieces that follow this one's in the file.
    public mutating func merge(_ other: DesignStatistics) {
        records += other.records
        rows += other.rows
        for (reason, count) in other.dropReasons {
            if let k = dropReasons.firstIndex(where: { $0.0 == reason }) { dropReasons[k].1 += count } else { dropReasons.append((reason, count)) }
        }
        for text in other.labelOrder {
            let t = other.labels[text]!
            if labels[text] == nil { labelOrder.append(text) }
            labels[text, default: LabelTally()].rows += t.rows
            labels[text]!.fitted += t.fitted
            labels[text]!.weight += t.weight
        }
        if featureNames.isEmpty { featureNames = other.featureNames }
        for (name, text) in other.isText {
            if let mine = isText[name], mine != text { mixedColumns.insert(name) }
            isText[name] = (isText[name] ?? false) || text
        }
        mixedColumns.formUnion(other.mixedColumns)
        for (name, s) in other.numeric { if numeric[name] == nil { numeric[name] = s } else { numeric[name]!.merge(s) } }
        for (name, t) in other.categorical {
            var mine = categorical[name] ?? CategoryTally()
            mine.missing += t.missing
            for level in t.order {
                if mine.counts[level] == nil { mine.order.append(level) }
                mine.counts[level, default: 0] += t.counts[level]!
            }
            categorical[name] = mine
        }
        for (name, m) in other.missingTotal { missingTotal[name, default: 0] += m }
        anyPositiveWeight = anyPositiveWeight || other.anyPositiveWeight
        if let ids = other.idHashes { idHashes = (idHashes ?? []) + ids }
    }

    /// Distinct customers among the fitted rows (when the id hashes were collected).
    public var distinctIds: Int? { idHashes.map(DesignBuilder.distinctCount) }

    /// Text columns among the metrics: a streamed file must read them as text in every piece.
    public var textColumns: [String] { isText.filter(\.value).map(\.key) }
}
