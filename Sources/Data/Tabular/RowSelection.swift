import Foundation
import ScoringCore
import Support

/// The rows of one piece of the file that the fit uses, and why the others are left out. Learning
/// and applying a design both select with this one rule, so they always see the same rows.
struct RowSelection {
    /// Local row indices; nil when every row is used (no temporary per row then).
    var kept: [Int]?
    var count: Int
    /// In the order the rules apply: each row counts once, under the first rule that drops it.
    var reasons: [(String, Int)] = []

    /// `features`: the metric columns (under the drop policy a missing cell drops its row).
    static func select(_ place: PieceLocation, roles: ColumnRoles, features: [RawColumn]) throws -> RowSelection {
        let piece = place.table
        let n = piece.rowCount
        var checks: [(reason: String, column: RawColumn)] = []
        var labelKeep: [Bool]? = nil
        var reasons: [(String, Int)] = []
        if let label = piece.column(named: roles.target) {
            checks.append(("missing label", label))
            // With --negative, a label value that is neither churn nor a listed non-churn leaves the fit.
            if let positive = roles.positive, !roles.negatives.isEmpty {
                let known = Set([positive] + roles.negatives)
                let (codes, levels) = label.levelCodes()
                let other = levels.map { !known.contains($0) }
                if other.contains(true) {
                    var k = [Bool](repeating: true, count: n)
                    var dropped = 0
                    for i in 0..<n where codes[i] >= 0 && other[Int(codes[i])] { k[i] = false; dropped += 1 }
                    if dropped > 0 { reasons.append(("label neither --positive nor --negative", dropped)); labelKeep = k }
                }
            }
        }
        if let name = roles.weights {
            guard let c = piece.column(named: name), case .numeric(let w) = c.values else {
                throw place.error(name, "the weights column is not numeric", "give one non-negative number per row")
            }
            for i in 0..<n where w[i] < 0 {
                throw place.error(name, "negative weight \(w[i])", "weights must be zero or positive", row: i)
            }
            checks.append(("missing \(name) (weight)", c))
        }
        if let name = roles.cluster {
            guard let c = piece.column(named: name) else {
                throw place.error(name, "the cluster column was not read", "do not exclude the cluster column")
            }
            checks.append(("missing \(name) (cluster)", c))
        }
        if roles.missing == .drop { for c in features { checks.append(("missing \(c.name)", c)) } }
        checks = checks.filter { $0.column.missingCount > 0 }
        guard !checks.isEmpty || labelKeep != nil else { return RowSelection(kept: nil, count: n) }

        var keep = labelKeep ?? [Bool](repeating: true, count: n)
        for check in checks {
            var dropped = 0
            keep.withUnsafeMutableBufferPointer { k in
                switch check.column.values {
                case .numeric(let v):
                    v.withUnsafeBufferPointer { v in for i in 0..<n where k[i] && v[i].isNaN { k[i] = false; dropped += 1 } }
                case .text(let codes, _):
                    codes.withUnsafeBufferPointer { c in for i in 0..<n where k[i] && c[i] < 0 { k[i] = false; dropped += 1 } }
                }
            }
            if dropped > 0 { reasons.append((check.reason, dropped)) }
        }
        var kept: [Int] = []
        kept.reserveCapacity(n - reasons.reduce(0) { $0 + $1.1 })
        for i in 0..<n where keep[i] { kept.append(i) }
        return RowSelection(kept: kept, count: kept.count, reasons: reasons)
    }

    /// The local index of the r-th used row.
    @inline(__always) func row(_ r: Int) -> Int { kept?[r] ?? r }
}

/// A piece of a file and where it sits, so messages name the file's own rows and lines.
struct PieceLocation {
    let table: RawTable
    /// Records before this piece.
    let recordOffset: Int

    /// `row`: the piece's local row index.
    func error(_ column: String?, _ problem: String, _ fix: String, row: Int? = nil) -> Diagnostic {
        Diagnostic(.data, file: table.path, row: row.map { recordOffset + $0 + 1 }, line: row.map { table.line(ofRecord: $0 + 1) },
                  column: column, problem: problem, fix: fix)
    }
}
