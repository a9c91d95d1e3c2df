import Dispatch
import Foundation
import Support
import ScoringCore
import Tabular

/// The scores file: key columns (or `row`), churn_probability, health_score, band, the reasons,
/// then `status` (scored / unscored) and `problem` (why a row has no score), one row per input row
/// in input order.
public struct ScoreCSV: Sendable {
    /// Columns copied from the input (id, snapshot time, `--keep`).
    public let keys: [String]
    /// A `row` column (the record number) first: without an id, the only way to join scores back.
    public let rowNumber: Bool
    public let reasons: Int
    let plan: ScoringPlan
    let bandFields: [[UInt8]]

    public init(plan: ScoringPlan, keys: [String], rowNumber: Bool, reasons: Int) {
        self.plan = plan; self.keys = keys; self.rowNumber = rowNumber; self.reasons = reasons
        bandFields = plan.bandLabels.map { label in
            var b = CSVBytes()
            b.field(label)
            return b.bytes
        }
    }

    public func header() -> [UInt8] {
        var out = CSVBytes()
        if rowNumber { out.raw("row") }
        for (k, key) in keys.enumerated() {
            if k > 0 || rowNumber { out.comma() }
            out.field(key)
        }
        out.raw(",churn_probability,health_score,band")
        for r in 0..<reasons { out.raw(",reason_\(r + 1)") }
        out.raw(",status,problem\n")
        return out.bytes
    }

    /// The piece's rows, formatted on `threads` cores; the parts follow row order.
    public func rows(_ piece: ScoreFile.Piece, threads: Int) -> [[UInt8]] {
        let n = piece.rowCount
        let parts = max(1, min(threads, n / 4096 + 1))
        let keyColumns = keys.map { piece.table.column(named: $0) }
        var out = [[UInt8]](repeating: [], count: parts)
        let input = UncheckedShared((piece: piece, keyColumns: keyColumns))
        out.withUnsafeMutableBufferPointer { slots in
            let slots = DisjointWrites(slots)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let lo = n * part / parts, hi = n * (part + 1) / parts
                slots[part] = format(input.value.piece, rows: lo..<hi, keyColumns: input.value.keyColumns)
            }
        }
        return out
    }

    func format(_ piece: ScoreFile.Piece, rows: Range<Int>, keyColumns: [RawColumn?]) -> [UInt8] {
        let s = piece.scored
        var out = CSVBytes(capacity: rows.count * (64 + 48 * reasons))
        var reason = CSVBytes(capacity: 128)
        var problemAt = s.problems.firstIndex { $0.row >= rows.lowerBound } ?? s.problems.count
        for i in rows {
            if rowNumber { out.integer(piece.firstRecord + i + 1) }
            for (k, c) in keyColumns.enumerated() {
                if k > 0 || rowNumber { out.comma() }
                if let text = c?.text(at: i) { out.field(text) }
            }
            guard s.isScored(i) else {
                out.raw(",,,")
                for _ in 0..<reasons { out.comma() }
                out.raw(",unscored,")
                while problemAt < s.problems.count && s.problems[problemAt].row < i { problemAt += 1 }
                if problemAt < s.problems.count && s.problems[problemAt].row == i { out.field(s.problems[problemAt].short) }
                out.newline()
                continue
            }
            out.comma(); out.shortest(s.probability[i])
            out.comma(); out.fixed(s.score[i], digits: 2)
            out.comma()
            if s.band[i] >= 0 { out.bytes.append(contentsOf: bandFields[Int(s.band[i])]) }
            for r in 0..<reasons {
                out.comma()
                let j = Int(s.reasonFeature[i * reasons + r])
                guard j >= 0 else { continue }
                reason.bytes.removeAll(keepingCapacity: true)
                reason.raw(plan.displayNames[j])
                reason.raw(" = ")
                let value = plan.valueText(feature: j, row: i, columns: piece.columns)
                reason.raw(value.isEmpty ? "missing" : value)
                reason.raw(" (")
                reason.fixed(s.reasonPoints[i * reasons + r], digits: 1)
                reason.raw(" points)")
                reason.bytes.withUnsafeBufferPointer { out.field($0) }
            }
            out.raw(",scored,\n")
        }
        return out.bytes
    }
}
