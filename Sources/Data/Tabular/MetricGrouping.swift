import Foundation
import ScoringCore
import Support

/// Builds the averaged standard score of a metric group.
public enum MetricGrouping {
    /// Checks the groups against the table; returns member column → group name.
    static func validate(_ groups: [MetricGroup], table: RawTable, roles: ColumnRoles,
                         error: (String?, String, String) -> Diagnostic) throws -> [String: String] {
        var memberOf: [String: String] = [:]
        let roleColumns = Set([roles.target] + [roles.id, roles.time, roles.weights, roles.cluster].compactMap { $0 } + roles.exclude)
        for g in groups {
            if table.hasColumn(g.name) {
                throw error(g.name, "group name '\(g.name)' is also a column of the data", "give the group a name that is not a column")
            }
            if g.members.count < 2 {
                throw error(g.name, "group '\(g.name)' has \(g.members.count) member", "a group needs at least two metrics; drop the group or add members")
            }
            for m in g.members {
                guard let c = table.column(named: m.column) else {
                    throw error(m.column, "group '\(g.name)' names no column '\(m.column)'", "use a header name of the data")
                }
                guard case .numeric = c.values else {
                    throw error(m.column, "group '\(g.name)' member '\(m.column)' is not numeric", "groups average numeric metrics; leave categories out")
                }
                if roleColumns.contains(m.column) {
                    throw error(m.column, "group '\(g.name)' member '\(m.column)' is also the target, id, time, weights or an excluded column", "remove it from the group")
                }
                if let other = memberOf[m.column] {
                    throw error(m.column, "'\(m.column)' is in both groups '\(other)' and '\(g.name)'", "put each metric in one group")
                }
                memberOf[m.column] = g.name
            }
        }
        return memberOf
    }
}

extension MetricGrouping {
    /// Groups of numeric columns linked by |r| > threshold (connected components, Pearson on the
    /// rows given, missing cells skipped pairwise). A member negatively correlated with the group's
    /// first member, or with the opposite business direction, is turned (sign −1).
    static func correlated(_ columns: [RawColumn], rows: [Int], threshold: Double, roles: ColumnRoles) -> [MetricGroup] {
        let values: [[Double]] = columns.map { c in
            guard case .numeric(let v) = c.values else { return [] }
            return rows.map { v[$0] }
        }
        let p = columns.count
        var parent = Array(0..<p)
        func root(_ i: Int) -> Int { var i = i; while parent[i] != i { i = parent[i] }; return i }
        var r = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for a in 0..<p {
            for b in (a + 1)..<max(a + 1, p) {
                r[a][b] = pearson(values[a], values[b]); r[b][a] = r[a][b]
                if abs(r[a][b]) > threshold { parent[root(b)] = root(a) }
            }
        }
        var components: [Int: [Int]] = [:]
        var order: [Int] = []
        for i in 0..<p {
            let k = root(i)
            if components[k] == nil { order.append(k) }
            components[k, default: []].append(i)
        }
        return order.compactMap { k in
            let idx = components[k]!
            guard idx.count > 1 else { return nil }
            let first = idx[0]
            let direction = roles.healthierWhen[columns[first].name]
            let members = idx.map { i -> (column: String, sign: Double) in
                if let d = direction, let di = roles.healthierWhen[columns[i].name] { return (columns[i].name, d == di ? 1 : -1) }
                return (columns[i].name, i == first || r[first][i] >= 0 ? 1 : -1)
            }
            return MetricGroup(name: members.map(\.column).joined(separator: "+"), members: members)
        }
    }

    /// Pearson correlation over the rows where both are present; 0 when either is constant there.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        var n = 0.0, mx = 0.0, my = 0.0
        for i in x.indices where !x[i].isNaN && !y[i].isNaN { n += 1; mx += x[i]; my += y[i] }
        guard n > 1 else { return 0 }
        mx /= n; my /= n
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in x.indices where !x[i].isNaN && !y[i].isNaN {
            let dx = x[i] - mx, dy = y[i] - my
            sxx += dx * dx; syy += dy * dy; sxy += dx * dy
        }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
    }
}
