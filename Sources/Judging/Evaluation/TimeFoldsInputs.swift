import Foundation
import Tabular
import Support

/// Per-row inputs of the fold constructions, from the forms the rest of the package has them in.
public enum FoldInputs {
    /// 0/1 labels (as `Design.response`) to churned flags. Any other value, NaN included, is an error
    /// naming the row.
    public static func churnLabels(_ values: [Double], column: String? = nil) throws -> [Bool] {
        var out = [Bool](repeating: false, count: values.count)
        for (i, v) in values.enumerated() {
            if v == 1 {
                out[i] = true
            } else if v != 0 {
                throw Diagnostic(.time, row: i + 1, column: column,
                                     problem: "the churn label is '\(v.isNaN ? "missing" : TimeText.number(v))', not 0 or 1",
                                     fix: "code the label as 1 = churned, 0 = stayed, and drop rows without an outcome")
            }
        }
        return out
    }

    /// One key per row for a customer-id column read by `CSVReader`: the level code of a text
    /// column, the bit pattern of a numeric one. A missing id is an error naming the row.
    public static func customerKeys(_ column: RawColumn) throws -> [UInt64] {
        switch column.values {
        case let .text(codes, _):
            return try codes.enumerated().map { i, code in
                guard code >= 0 else { throw missingID(row: i + 1, column: column.name) }
                return UInt64(code)
            }
        case let .numeric(values):
            return try values.enumerated().map { i, v in
                guard !v.isNaN else { throw missingID(row: i + 1, column: column.name) }
                return (v == 0 ? 0.0 : v).bitPattern  // -0 and 0 are one id
            }
        }
    }

    /// Keys from `RawTable.hashedColumns` (0 marks a missing cell).
    public static func customerKeys(hashes: [UInt64], column: String) throws -> [UInt64] {
        if let i = hashes.firstIndex(of: 0) { throw missingID(row: i + 1, column: column) }
        return hashes
    }

    static func missingID(row: Int, column: String) -> Diagnostic {
        Diagnostic(.time, row: row, column: column, problem: "the customer id is missing",
                       fix: "fill in the customer id of every row, or drop the rows that have none")
    }

    /// Dense customer numbers 0..<count in order of first appearance (never dependent on hashing).
    static func denseCodes(_ keys: [UInt64]) -> (codes: [Int], count: Int) {
        var index: [UInt64: Int] = [:]
        index.reserveCapacity(keys.count / 4)
        var codes = [Int](repeating: 0, count: keys.count)
        for (i, key) in keys.enumerated() {
            if let c = index[key] {
                codes[i] = c
            } else {
                codes[i] = index.count
                index[key] = index.count
            }
        }
        return (codes, index.count)
    }

    static func checkCount(_ count: Int, rows: Int, what: String) throws {
        guard count == rows else {
            throw Diagnostic(.time, problem: "\(count) \(what) for \(rows) rows",
                                 fix: "pass exactly one \(what.hasSuffix("s") ? String(what.dropLast()) : what) per row")
        }
    }
}

/// Rows, distinct customers, churned rows and distinct snapshot times in one part of a split.
public struct FoldCounts: Codable, Sendable, Equatable {
    public var rows: Int
    /// Distinct customer ids; nil when no ids were given.
    public var customers: Int?
    /// Rows labelled churned.
    public var churners: Int
    /// Distinct snapshot times (time folds); nil for cross-validation.
    public var snapshots: Int?

    public init(rows: Int, customers: Int?, churners: Int, snapshots: Int? = nil) {
        self.rows = rows
        self.customers = customers
        self.churners = churners
        self.snapshots = snapshots
    }
}

/// Counts of several row sets over the same rows, with distinct customers counted by stamping.
struct PartCounter {
    let labels: [Bool]
    let customerCodes: [Int]?
    let customerCount: Int
    private var stamp: [Int32]
    private var generation: Int32 = 0

    init(labels: [Bool], customerCodes: [Int]?, customerCount: Int) {
        self.labels = labels
        self.customerCodes = customerCodes
        self.customerCount = customerCount
        stamp = [Int32](repeating: 0, count: customerCodes == nil ? 0 : customerCount)
    }

    mutating func count(_ rows: [Int], snapshots: Int? = nil) -> FoldCounts {
        var churners = 0
        for i in rows where labels[i] { churners += 1 }
        var customers: Int?
        if let codes = customerCodes {
            generation += 1
            var distinct = 0
            for i in rows where stamp[codes[i]] != generation {
                stamp[codes[i]] = generation
                distinct += 1
            }
            customers = distinct
        }
        return FoldCounts(rows: rows.count, customers: customers, churners: churners, snapshots: snapshots)
    }
}
