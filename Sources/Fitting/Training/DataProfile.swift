import Foundation
import MetricConfig
import ScoringCore
import Tabular
import Support

/// Column statistics behind `healthscore init`'s starter configuration.
public enum DataProfile {
    /// Metrics correlated above this are proposed (commented) as a group.
    public static let groupThreshold = 0.9

    public static func starter(dataPath: String, target: String, positive: String?, negatives: [String] = [], id: String?, time: String?,
                               naValues: [String] = FitPipeline.defaultNAValues) throws -> String {
        var csv = CSVOptions()
        csv.naValues = Set(naValues)
        csv.textColumns = Set([target, id, time].compactMap { $0 })
        let table = try CSVReader.read(path: dataPath, options: csv)
        for name in [id, time].compactMap({ $0 }) where !table.hasColumn(name) {
            throw Diagnostic(.data, file: dataPath, row: nil, line: nil, column: name, problem: "no column named '\(name)'",
                            fix: "pass one of the header names (\(table.columns.prefix(8).map(\.name).joined(separator: ", ")))")
        }
        let label = try DesignBuilder.label(table, target: target, positive: positive, negatives: negatives)
        let y = label.values
        let labelled = y.filter { !$0.isNaN }
        let churnRate = labelled.isEmpty ? 0 : labelled.reduce(0, +) / Double(labelled.count)
        var profiles = table.columns.map { profile($0, table: table, target: target, y: y) }
        // Identifier and date columns are roles, not metrics: the first of each becomes the proposed
        // --id / --time when none was given, any others are left out (with the reason in a comment).
        var proposedId = id, proposedTime = time
        for i in profiles.indices where profiles[i].name != id && profiles[i].name != time {
            switch profiles[i].looksLike {
            case .identifier?:
                if proposedId == nil { proposedId = profiles[i].name } else { profiles[i].role = .exclude }
            case .date?:
                if proposedTime == nil { proposedTime = profiles[i].name } else { profiles[i].role = .exclude }
            case nil: break
            }
        }
        proposeGroups(&profiles, table: table)
        return StarterConfig.render(dataFile: (dataPath as NSString).lastPathComponent, rows: table.rowCount, target: target,
                                    positive: label.positive, negatives: negatives, churnRate: churnRate, id: proposedId, time: proposedTime, profiles: profiles,
                                    proposed: (id: proposedId == id ? nil : proposedId, time: proposedTime == time ? nil : proposedTime))
    }

    /// Snapshot-date spellings in text: YYYY-MM-DD, YYYY-MM and ISO date-times.
    static func isDateLike(_ text: String) -> Bool {
        text.range(of: #"^\s*\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}.*)?)?\s*$"#, options: .regularExpression) != nil
    }

    static func profile(_ c: RawColumn, table: RawTable, target: String, y: [Double]) -> ColumnProfile {
        let n = table.rowCount
        let share = n > 0 ? Double(c.missingCount) / Double(n) : 0
        if c.name == target { return ColumnProfile(name: c.name, role: .target, type: .categorical, missingShare: share) }
        switch c.values {
        case .numeric(let v):
            var p = ColumnProfile(name: c.name, role: .metric, type: .numeric, missingShare: share)
            let present = v.filter { !$0.isNaN }
            guard !present.isEmpty else { p.role = .exclude; return p }
            let (mean, sd) = NumericMetric.moments(present)
            p.mean = mean; p.sd = sd
            p.min = present.min(); p.max = present.max()
            let skew = TransformRule.skewness(present)
            p.skew = skew
            if Set(present.prefix(1_000)).count > 2 && skew > TransformRule.skewThreshold {
                p.proposedTransform = [(p.min ?? 0) >= 0 ? .log1p : .asinh]
            }
            var sums = [0.0, 0.0], counts = [0.0, 0.0]
            for i in 0..<n where !v[i].isNaN && !y[i].isNaN { sums[Int(y[i])] += v[i]; counts[Int(y[i])] += 1 }
            if counts[0] > 0 && counts[1] > 0 { p.churnerMean = sums[1] / counts[1]; p.otherMean = sums[0] / counts[0] }
            if Set(present).count == 1 { p.role = .exclude }
            // Whole numbers that are all YYYYMM or YYYYMMDD, in a column named like a time.
            let timeName = c.name.lowercased().range(of: "date|month|period|time|snapshot|as_of|asof", options: .regularExpression) != nil
            if timeName && present.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e9 }) && CompactDate.kind(of: present.map { Int($0) }) != nil {
                p.looksLike = .date; p.role = .time
            }
            return p
        case .text(let codes, let levels):
            var p = ColumnProfile(name: c.name, role: .metric, type: .categorical, missingShare: share)
            var counts = [Int](repeating: 0, count: levels.count)
            for code in codes where code >= 0 { counts[Int(code)] += 1 }
            let distinct = counts.filter { $0 > 0 }.count
            p.levels = distinct
            let present = max(n - c.missingCount, 1)
            p.topLevels = levels.indices.sorted { counts[$0] > counts[$1] }.prefix(3).filter { counts[$0] > 0 }
                .map { (levels[$0], Double(counts[$0]) / Double(present)) }
            // An identifier or free text: nearly one level per row.
            if distinct > DesignBuilder.identifierLevelLimit && distinct * 2 > n || distinct <= 1 { p.role = .exclude }
            let shown = levels.indices.filter { counts[$0] > 0 }
            var cells: [String: Int] = [:]
            for i in shown { cells[levels[i]] = counts[i] }
            if let advice = ColumnTyping.numericAdvice(c.name, counts: cells) {
                // Numbers with stray cells or in a business format: a metric, once read as such.
                p.type = .numeric
                p.numericAdvice = advice.problem + ". Fix: " + advice.fix
            } else if !shown.isEmpty && shown.allSatisfy({ isDateLike(levels[$0]) }) {
                p.looksLike = .date; p.role = .time
            } else if distinct >= 20 && Double(distinct) >= 0.9 * Double(present) {
                p.looksLike = .identifier; p.role = .id
            } else if distinct >= 20, c.name.lowercased().range(of: #"(^|_)(id|customer|account|user|client)(_|$)|id$"#, options: .regularExpression) != nil {
                // Repeated snapshots per customer: many levels and an id-like name.
                p.looksLike = .identifier; p.role = .id
            }
            // The most common level is proposed as the reference (the default is the first in byte order).
            if p.numericAdvice != nil { p.topLevels = [] }
            if let top = p.topLevels.first, distinct > 1 {
                let first = levels.indices.filter { counts[$0] > 0 }.map { levels[$0] }.min { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                if first != top.level { p.proposedReference = top.level }
            }
            return p
        }
    }

    /// Links numeric metrics with |r| above `groupThreshold` and names each linked set.
    static func proposeGroups(_ profiles: inout [ColumnProfile], table: RawTable) {
        // Text columns that are really numbers (`numericAdvice`) have no values read as numbers yet.
        let numeric = profiles.indices.filter {
            profiles[$0].role == .metric && profiles[$0].type == .numeric && profiles[$0].numericAdvice == nil
        }
        let values: [[Double]] = numeric.map { i in
            if case .numeric(let v) = table.columns[i].values { return v }
            return []
        }
        var parent = Array(numeric.indices)
        func root(_ i: Int) -> Int { var i = i; while parent[i] != i { i = parent[i] }; return i }
        for a in numeric.indices {
            for b in numeric.indices where b > a {
                let r = MetricGrouping.pearson(values[a], values[b])
                guard abs(r) > groupThreshold else { continue }
                profiles[numeric[a]].correlated.append((profiles[numeric[b]].name, r))
                profiles[numeric[b]].correlated.append((profiles[numeric[a]].name, r))
                parent[root(b)] = root(a)
            }
        }
        for a in numeric.indices where !profiles[numeric[a]].correlated.isEmpty {
            profiles[numeric[a]].proposedGroup = profiles[numeric[root(a)]].name + "_group"
        }
    }
}
