import Foundation
import ScoringCore
import Support

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
    /// Columns the data has that a config's `metrics_only` list leaves out, in header order.
    var unlisted: [String] = []
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
    struct CategoryTally: Sendable {
        var counts: [String: Int] = [:]; var order: [String] = []; var missing = 0
        /// Each level's first record in the file (over all rows, fitted or not), for messages.
        var firstSeen: [String: Sighting] = [:]
        /// Cells per level over all rows, fitted or not: a column's type is decided from every cell
        /// (a stray '-' in a row dropped for another blank still says the column is a number).
        var cells: [String: Int] = [:]
        /// Fitted rows per level and label text (the missing cells under "" as level), to tell a
        /// level whose rows all carry one label: it separates.
        var labelled: [String: [String: Int]] = [:]
    }

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
        if featureNames.isEmpty {
            featureNames = features.map(\.name)
            if let only = roles.onlyColumns {
                let roleColumns = Set([roles.target] + [roles.id, roles.time, roles.weights].compactMap { $0 } + roles.exclude)
                unlisted = piece.columns.map(\.name).filter { !only.contains($0) && !roleColumns.contains($0) }
            }
        }
        records += piece.rowCount
        rows += selection.count
        for (reason, count) in selection.reasons {
            if let k = dropReasons.firstIndex(where: { $0.0 == reason }) { dropReasons[k].1 += count } else { dropReasons.append((reason, count)) }
        }
        try observeLabel(piece, selection: selection)
        let label = piece.column(named: roles.target)?.levelCodes()
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
                if let (labelCodes, labelLevels) = label {
                    var pairs = [Int](repeating: 0, count: (levels.count + 1) * labelLevels.count)
                    codes.withUnsafeBufferPointer { k in
                        for r in 0..<selection.count {
                            let i = selection.row(r)
                            let y = Int(labelCodes[i])
                            guard y >= 0 else { continue }
                            pairs[(Int(k[i]) + 1) * labelLevels.count + y] += 1
                        }
                    }
                    for (index, count) in pairs.enumerated() where count > 0 {
                        let code = index / labelLevels.count - 1
                        let level = code < 0 ? "" : levels[code]
                        tally.labelled[level, default: [:]][labelLevels[index % labelLevels.count], default: 0] += count
                    }
                }
                // One pass over every row: cells per level and where each level first occurs.
                var all = [Int](repeating: 0, count: levels.count)
                var first = [Int](repeating: -1, count: levels.count)
                codes.withUnsafeBufferPointer { k in
                    for i in 0..<k.count where k[i] >= 0 {
                        let code = Int(k[i])
                        if all[code] == 0 { first[code] = i }
                        all[code] += 1
                    }
                }
                for (code, count) in all.enumerated() where count > 0 { tally.cells[levels[code], default: 0] += count }
                for (code, i) in first.enumerated() where i >= 0 && tally.firstSeen[levels[code]] == nil {
                    let line = i < piece.recordLines.count ? Int(piece.recordLines[i]) : 0
                    tally.firstSeen[levels[code]] = Sighting(row: place.recordOffset + i + 1, line: line)
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
        if featureNames.isEmpty { featureNames = other.featureNames; unlisted = other.unlisted }
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
            for (level, seen) in t.firstSeen where mine.firstSeen[level] == nil { mine.firstSeen[level] = seen }
            mine.cells.merge(t.cells, uniquingKeysWith: +)
            for (level, byLabel) in t.labelled { mine.labelled[level, default: [:]].merge(byLabel, uniquingKeysWith: +) }
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

// MARK: - Exchange between processes

/// Design statistics in a flat byte form, so that the processes of a distributed fit can learn on
/// their own rows and combine: each serialises, all gather, each merges every part in rank order.
/// Rank order is file order, so "first seen" orders (label values, category levels, the values
/// kept for quantiles, the auto-transform probe) come out as one process reading the file gives
/// them, and moments combine by Chan et al.'s pairwise update (`Moments.merge`).
extension DesignStatistics {
    /// Every learned number and text of these statistics (roles, NA values and path are the
    /// caller's, equal on every process). Id hashes go sorted and deduplicated: only their
    /// distinct count is used, and that is unchanged by a union.
    public func serialized() -> [UInt8] {
        var out = StatisticsWriter()
        out.bytes.append(contentsOf: StatisticsWriter.magic)
        out.int(records); out.int(rows)
        out.int(dropReasons.count)
        for (reason, count) in dropReasons { out.string(reason); out.int(count) }
        out.int(labelOrder.count)
        for text in labelOrder {
            let t = labels[text]!
            out.string(text); out.int(t.rows); out.int(t.fitted); out.double(t.weight)
        }
        out.strings(featureNames)
        out.strings(unlisted)
        let textKeys = isText.keys.sorted()
        out.int(textKeys.count)
        for name in textKeys { out.string(name); out.int(isText[name]! ? 1 : 0) }
        let numericKeys = numeric.keys.sorted()
        out.int(numericKeys.count)
        for name in numericKeys {
            let s = numeric[name]!
            out.string(name); out.int(s.missing)
            out.moments(s.moments); out.moments(s.log1pMoments); out.moments(s.asinhMoments)
            out.doubles(s.firstPresent); out.doubles(s.values)
        }
        let categoricalKeys = categorical.keys.sorted()
        out.int(categoricalKeys.count)
        for name in categoricalKeys {
            let t = categorical[name]!
            out.string(name); out.int(t.missing); out.int(t.order.count)
            for level in t.order { out.string(level); out.int(t.counts[level]!) }
            let seen = t.firstSeen.keys.sorted()
            out.int(seen.count)
            for level in seen { out.string(level); out.int(t.firstSeen[level]!.row); out.int(t.firstSeen[level]!.line) }
            let cellLevels = t.cells.keys.sorted()
            out.int(cellLevels.count)
            for level in cellLevels { out.string(level); out.int(t.cells[level]!) }
            let labelledLevels = t.labelled.keys.sorted()
            out.int(labelledLevels.count)
            for level in labelledLevels {
                let byLabel = t.labelled[level]!
                out.string(level); out.int(byLabel.count)
                for text in byLabel.keys.sorted() { out.string(text); out.int(byLabel[text]!) }
            }
        }
        let missingKeys = missingTotal.keys.sorted()
        out.int(missingKeys.count)
        for name in missingKeys { out.string(name); out.int(missingTotal[name]!) }
        out.int(anyPositiveWeight ? 1 : 0)
        out.strings(mixedColumns.sorted())
        if let ids = idHashes {
            out.int(1)
            var distinct = ids.sorted()
            var k = 0
            for h in distinct where k == 0 || distinct[k - 1] != h { distinct[k] = h; k += 1 }
            out.int(k)
            for h in distinct.prefix(k) { out.uint(h) }
        } else {
            out.int(0)
        }
        return out.bytes
    }

    /// The statistics of the parts in the order given (rank order, which must be file order), as
    /// if one process had read all their rows in turn.
    public static func merging(_ parts: [[UInt8]], roles: ColumnRoles, naValues: [String], path: String) throws -> DesignStatistics {
        var merged = DesignStatistics(roles: roles, naValues: naValues, path: path)
        for (k, bytes) in parts.enumerated() {
            var part = DesignStatistics(roles: roles, naValues: naValues, path: path)
            do { try part.decode(bytes) } catch let e as Diagnostic {
                throw Diagnostic(.peer, problem: "the design statistics from process \(k) \(e.description)")
            }
            merged.merge(part)
        }
        return merged
    }

    private mutating func decode(_ bytes: [UInt8]) throws {
        var input = StatisticsReader(bytes: bytes)
        guard Array(try input.take(StatisticsWriter.magic.count)) == StatisticsWriter.magic else {
            throw Diagnostic(.peer, problem: "do not start with the expected tag")
        }
        records = try input.int(); rows = try input.int()
        for _ in 0..<(try input.count()) { dropReasons.append((try input.string(), try input.int())) }
        for _ in 0..<(try input.count()) {
            let text = try input.string()
            labels[text] = LabelTally(rows: try input.int(), fitted: try input.int(), weight: try input.double())
            labelOrder.append(text)
        }
        featureNames = try input.strings()
        unlisted = try input.strings()
        for _ in 0..<(try input.count()) { isText[try input.string()] = try input.int() != 0 }
        for _ in 0..<(try input.count()) {
            let name = try input.string()
            var s = NumericStatistics(column: name, roles: roles)
            s.missing = try input.int()
            s.moments = try input.moments(); s.log1pMoments = try input.moments(); s.asinhMoments = try input.moments()
            s.firstPresent = try input.doubles(); s.values = try input.doubles()
            numeric[name] = s
        }
        for _ in 0..<(try input.count()) {
            let name = try input.string()
            var t = CategoryTally()
            t.missing = try input.int()
            for _ in 0..<(try input.count()) {
                let level = try input.string()
                t.order.append(level)
                t.counts[level] = try input.int()
            }
            for _ in 0..<(try input.count()) {
                let level = try input.string()
                t.firstSeen[level] = Sighting(row: try input.int(), line: try input.int())
            }
            for _ in 0..<(try input.count()) { t.cells[try input.string()] = try input.int() }
            for _ in 0..<(try input.count()) {
                let level = try input.string()
                for _ in 0..<(try input.count()) { t.labelled[level, default: [:]][try input.string()] = try input.int() }
            }
            categorical[name] = t
        }
        for _ in 0..<(try input.count()) { missingTotal[try input.string()] = try input.int() }
        anyPositiveWeight = try input.int() != 0
        mixedColumns = Set(try input.strings())
        if try input.int() != 0 {
            var ids: [UInt64] = []
            for _ in 0..<(try input.count()) { ids.append(try input.uint()) }
            idHashes = ids
        }
        guard input.atEnd else { throw Diagnostic(.peer, problem: "have \(bytes.count - input.position) bytes left over") }
    }
}


/// Little-endian fixed-width fields; a string or array is its count followed by its elements.
private struct StatisticsWriter {
    /// "HSDS" and a format version: ranks running different builds fail on the tag, not on garbage.
    static let magic: [UInt8] = [0x48, 0x53, 0x44, 0x53, 1]
    var bytes: [UInt8] = []
    mutating func uint(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func int(_ v: Int) { uint(UInt64(bitPattern: Int64(v))) }
    mutating func double(_ v: Double) { uint(v.bitPattern) }
    mutating func string(_ s: String) { let u = Array(s.utf8); int(u.count); bytes.append(contentsOf: u) }
    mutating func strings(_ list: [String]) { int(list.count); for s in list { string(s) } }
    mutating func doubles(_ list: [Double]) { int(list.count); for v in list { double(v) } }
    mutating func moments(_ m: Moments) {
        int(m.count); double(m.mean); double(m.sd); double(m.m3); double(m.minimum); double(m.maximum)
    }
}

private struct StatisticsReader {
    let bytes: [UInt8]
    var position = 0
    var atEnd: Bool { position == bytes.count }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else {
            throw Diagnostic(.peer, problem: "end after \(position) of \(bytes.count) bytes, inside a field")
        }
        defer { position += n }
        return bytes[position..<position + n]
    }
    mutating func uint() throws -> UInt64 {
        var v: UInt64 = 0
        for (k, b) in try take(8).enumerated() { v |= UInt64(b) << (8 * UInt64(k)) }
        return v
    }
    mutating func int() throws -> Int { Int(Int64(bitPattern: try uint())) }
    /// A count, checked against the bytes left so a corrupt one cannot ask for a huge allocation.
    mutating func count() throws -> Int {
        let n = try int()
        guard n >= 0, n <= bytes.count - position else {
            throw Diagnostic(.peer, problem: "give a count of \(n) with \(bytes.count - position) bytes left")
        }
        return n
    }
    mutating func double() throws -> Double { Double(bitPattern: try uint()) }
    mutating func string() throws -> String { String(decoding: try take(try count()), as: UTF8.self) }
    mutating func strings() throws -> [String] { try (0..<(try count())).map { _ in try string() } }
    mutating func doubles() throws -> [Double] { try (0..<(try count())).map { _ in try double() } }
    mutating func moments() throws -> Moments {
        var m = Moments()
        m.count = try int(); m.mean = try double(); m.sd = try double(); m.m3 = try double()
        m.minimum = try double(); m.maximum = try double()
        return m
    }
}
