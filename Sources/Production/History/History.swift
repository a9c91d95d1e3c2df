// The score history: an embedded SQLite database of scoring runs, trends and alerts.
//
// One database file holds every scoring run of a customer base, one run per as-of date:
//
//   runs(as_of PRIMARY KEY, model_checksum, model_file, data_file, id_column, revenue_column,
//        late_column, scale, bands, scored_at, row_count)
//   scores(as_of → runs, customer_id, churn_probability, health_score, band, band_rank,
//          reasons (JSON), revenue, days_late, PRIMARY KEY (as_of, customer_id))
//
// `HistoryDatabase.record` writes a run in one transaction and replaces an earlier run of the same
// as-of date, so rerunning a scoring job is idempotent. `TrendReport.make` turns two runs into the
// lists customer-success teams work from, and `ChurnForecast` the expected churn of the latest run.
// The module depends on the scoring core and SQLite only: production embeds it with the core.
import Foundation
import ScoringCore

/// Everything that goes wrong with the score history, as one line with the fix.
public struct HistoryError: Error, CustomStringConvertible, Sendable {
    /// A customer id that occurs more than once in one run, with its 1-based rows in the input.
    public struct Duplicate: Sendable, Equatable {
        public var customerID: String
        public var rows: [Int]
        public init(customerID: String, rows: [Int]) { self.customerID = customerID; self.rows = rows }
    }

    public var path: String?
    public var problem: String
    public var fix: String
    public var duplicate: Duplicate?

    public init(path: String?, problem: String, fix: String, duplicate: Duplicate? = nil) {
        self.path = path; self.problem = problem; self.fix = fix; self.duplicate = duplicate
    }

    public var description: String {
        (path.map { $0 + ": " } ?? "") + problem + ". Fix: " + fix
    }
}

/// Calendar dates written YYYY-MM-DD: the key of a run. Text in this form sorts chronologically.
public enum HistoryDate {
    /// Whether `text` is a real calendar date in the form YYYY-MM-DD (e.g. 2024-02-30 is not).
    public static func isValid(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var v = 0
            for i in range {
                guard b[i] >= UInt8(ascii: "0") && b[i] <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int(b[i] - UInt8(ascii: "0"))
            }
            return v
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return false }
        guard year >= 1, (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    /// Throws a one-line error naming the option when `text` is not a date.
    public static func validate(_ text: String, option: String) throws {
        guard isValid(text) else {
            throw HistoryError(path: nil, problem: "\(option) '\(text)' is not a calendar date in the form YYYY-MM-DD",
                               fix: "write the date as e.g. 2024-01-31")
        }
    }

    /// Now, as ISO 8601 UTC with seconds (when a run was scored).
    public static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
