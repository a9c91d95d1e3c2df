import Foundation
import Tabular
import Support

// Snapshot times and horizons for time-based evaluation: parsing a snapshot column (ISO dates,
// year-months, ISO date-times or integer periods), calendar arithmetic ("add 3 months", clamped to
// the month's end) and errors that name the row and column.


/// How the snapshot times of a column are written. One column uses exactly one format.
public enum SnapshotFormat: String, Sendable, Codable, CustomStringConvertible {
    /// `YYYY-MM-DD`.
    case date
    /// `YYYY-MM`: stands for the first day of the month.
    case yearMonth
    /// `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]` (a space may replace the `T`): only the date part is used.
    case dateTime
    /// A whole number: period 1, 2, 3, …
    case period
    /// `YYYYMM` as a whole number (202312): exports write months so; read as calendar months, since
    /// as plain numbers 202401 − 202312 would be 89 periods and an embargo across a year would fail.
    case compactYearMonth
    /// `YYYYMMDD` as a whole number (20231231): read as calendar days.
    case compactDate

    /// The pattern shown in messages.
    public var pattern: String {
        switch self {
        case .date: return "YYYY-MM-DD"
        case .yearMonth: return "YYYY-MM"
        case .dateTime: return "YYYY-MM-DDTHH:MM:SS"
        case .period: return "integer period"
        case .compactYearMonth: return "YYYYMM"
        case .compactDate: return "YYYYMMDD"
        }
    }

    public var description: String {
        switch self {
        case .date: return "a date (YYYY-MM-DD)"
        case .yearMonth: return "a year-month (YYYY-MM)"
        case .dateTime: return "a date-time (YYYY-MM-DDTHH:MM:SS)"
        case .period: return "an integer period"
        case .compactYearMonth: return "a year-month written YYYYMM (read as calendar months)"
        case .compactDate: return "a date written YYYYMMDD (read as calendar days)"
        }
    }

    public var kind: SnapshotTime.Kind { self == .period ? .period : .date }
}

/// A snapshot's position in time: a calendar day (proleptic Gregorian, no time zone) or an integer
/// period number. Ordered in time; dates and periods never meet in one column, but for a total
/// order every date sorts before every period.
public struct SnapshotTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case date
        case period
    }

    public let kind: Kind
    /// Dates: days since 1970-01-01. Periods: the period number.
    public let ordinal: Int

    private init(kind: Kind, ordinal: Int) {
        self.kind = kind
        self.ordinal = ordinal
    }

    public static func period(_ number: Int) -> SnapshotTime {
        SnapshotTime(kind: .period, ordinal: number)
    }

    /// The day `daysSinceEpoch` days after 1970-01-01 (negative: before).
    public static func day(_ daysSinceEpoch: Int) -> SnapshotTime {
        SnapshotTime(kind: .date, ordinal: daysSinceEpoch)
    }

    /// nil when the day does not exist (month 13, 30 February, …).
    public static func date(year: Int, month: Int, day: Int) -> SnapshotTime? {
        guard (1...12).contains(month), day >= 1, day <= CivilCalendar.daysIn(year: year, month: month) else { return nil }
        return SnapshotTime(kind: .date, ordinal: CivilCalendar.days(year: year, month: month, day: day))
    }

    /// Year, month (1–12) and day of a date; nil for a period.
    public var calendarDate: (year: Int, month: Int, day: Int)? {
        kind == .date ? CivilCalendar.civil(days: ordinal) : nil
    }

    /// `YYYY-MM-DD` for a date, the number for a period.
    public var iso: String {
        guard let (y, m, d) = calendarDate else { return String(ordinal) }
        let year = y >= 0 && y <= 9999 ? TimeText.pad(y, 4) : String(y)
        return "\(year)-\(TimeText.pad(m, 2))-\(TimeText.pad(d, 2))"
    }

    public var description: String { iso }

    public static func < (a: SnapshotTime, b: SnapshotTime) -> Bool {
        if a.kind != b.kind { return a.kind == .date }
        return a.ordinal < b.ordinal
    }

    /// `self` moved forward by `horizon`. Months and years are calendar steps with the day clamped to
    /// the end of the month (31 Jan + 1m = 28 or 29 Feb; 29 Feb 2024 + 1y = 28 Feb 2025); weeks and days
    /// count days; periods add to a period number. Throws when the horizon does not fit the time's
    /// kind (a calendar horizon on periods, a plain number on dates).
    public func adding(_ horizon: Horizon) throws -> SnapshotTime {
        try horizon.check(fits: kind)
        return shifted(by: horizon.amount, horizon.unit)
    }

    /// `self` moved back by `horizon`, with the same clamping as `adding`.
    public func subtracting(_ horizon: Horizon) throws -> SnapshotTime {
        try horizon.check(fits: kind)
        return shifted(by: -horizon.amount, horizon.unit)
    }

    /// Unchecked: the caller has matched the unit to the kind.
    func shifted(by amount: Int, _ unit: Horizon.Unit) -> SnapshotTime {
        switch unit {
        case .days: return .day(ordinal + amount)
        case .weeks: return .day(ordinal + 7 * amount)
        case .months: return .day(CivilCalendar.adding(months: amount, to: ordinal))
        case .years: return .day(CivilCalendar.adding(months: 12 * amount, to: ordinal))
        case .periods: return .period(ordinal + amount)
        }
    }

    /// One cell's text as a snapshot time and the format it was written in; nil when it is none of
    /// the accepted formats. Surrounding spaces are ignored.
    public static func parse(_ text: String) -> (time: SnapshotTime, format: SnapshotFormat)? {
        if case let .time(time, format) = SnapshotParser.parse(text) { return (time, format) }
        return nil
    }
}

/// A length of time: the outcome window of a label ("churned within 1 month": `1m`) or a test window.
public struct Horizon: Hashable, Sendable, CustomStringConvertible {
    public enum Unit: String, Sendable, Codable {
        case days
        case weeks
        case months
        case years
        /// Integer periods; only for snapshot times that are period numbers.
        case periods
    }

    public let amount: Int
    public let unit: Unit

    public init(_ amount: Int, _ unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    public static func days(_ n: Int) -> Horizon { Horizon(n, .days) }
    public static func weeks(_ n: Int) -> Horizon { Horizon(n, .weeks) }
    public static func months(_ n: Int) -> Horizon { Horizon(n, .months) }
    public static func years(_ n: Int) -> Horizon { Horizon(n, .years) }
    public static func periods(_ n: Int) -> Horizon { Horizon(n, .periods) }

    /// The kind of snapshot time the horizon can be added to.
    public var kind: SnapshotTime.Kind { unit == .periods ? .period : .date }

    /// `3m`, `2w`, `30d`, `1y`, or `3` for periods: the form `parse` reads.
    public var description: String {
        switch unit {
        case .days: return "\(amount)d"
        case .weeks: return "\(amount)w"
        case .months: return "\(amount)m"
        case .years: return "\(amount)y"
        case .periods: return "\(amount)"
        }
    }

    /// `amount` times as long (for windows laid end to end from one anchor, so that month-end
    /// clamping never accumulates).
    public func times(_ k: Int) -> Horizon { Horizon(amount * k, unit) }

    /// Reads `3m` (calendar months), `2w` (weeks), `30d` (days), `1y` (years) or a plain positive
    /// integer `3` (periods, for integer snapshot times). Unit words (`3 months`, `2 weeks`) and upper
    /// case are accepted. `name` says what is being read, for the message ("horizon", "test window").
    public static func parse(_ text: String, name: String = "horizon") throws -> Horizon {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let rest = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let fix = "write a whole number with a unit: 3m (calendar months), 2w (weeks), 30d (days), 1y (years), "
            + "or a plain number such as 3 when the snapshot times are integer periods"
        guard !digits.isEmpty, let amount = Int(digits) else {
            throw Diagnostic(.time, problem: "\(name) '\(Diagnostic.excerpt(text))' is not a length of time", fix: fix)
        }
        let unit: Unit
        switch rest {
        case "": unit = .periods
        case "m", "mo", "month", "months": unit = .months
        case "w", "wk", "week", "weeks": unit = .weeks
        case "d", "day", "days": unit = .days
        case "y", "yr", "year", "years": unit = .years
        case "p", "period", "periods": unit = .periods
        default:
            throw Diagnostic(.time, problem: "\(name) '\(Diagnostic.excerpt(text))' has an unknown unit '\(Diagnostic.excerpt(rest))'", fix: fix)
        }
        guard amount >= 1 else {
            throw Diagnostic(.time, problem: "\(name) '\(Diagnostic.excerpt(text))' is not positive", fix: fix)
        }
        return Horizon(amount, unit)
    }

    /// Throws unless the horizon can be added to times of `kind`. `column`/`name` go into the message.
    public func check(fits kind: SnapshotTime.Kind, column: String? = nil, name: String = "horizon") throws {
        guard kind != self.kind else { return }
        if kind == .date {
            throw Diagnostic(.time, column: column,
                            problem: "the snapshot times are dates, but the \(name) '\(self)' counts integer periods",
                            fix: "give the \(name) with a unit, e.g. \(amount)m for calendar months, \(amount)w or \(amount)d")
        }
        throw Diagnostic(.time, column: column,
                        problem: "the snapshot times are integer periods, but the \(name) '\(self)' is a calendar length",
                        fix: "give the \(name) as a plain number of periods, e.g. \(amount)")
    }
}

/// A parsed snapshot column: one time per row, all in one format.
public struct SnapshotColumn: Sendable {
    public let name: String
    public let format: SnapshotFormat
    public let times: [SnapshotTime]

    public var kind: SnapshotTime.Kind { format.kind }

    public init(name: String, format: SnapshotFormat, times: [SnapshotTime]) {
        self.name = name
        self.format = format
        self.times = times
    }

    /// The column as read by `CSVReader`: text (dates, or period numbers kept as text) or numeric
    /// (period numbers). Missing cells, unreadable values and a mix of formats are errors naming the
    /// first offending row.
    public init(parsing column: RawColumn) throws {
        switch column.values {
        case let .text(codes, levels):
            // Each distinct text is parsed once; rows are then checked in order so the first bad row is named.
            let parsed = levels.map { SnapshotParser.parse($0) }
            var times = [SnapshotTime]()
            times.reserveCapacity(codes.count)
            var reference: (row: Int, format: SnapshotFormat, text: String)?
            for (i, code) in codes.enumerated() {
                guard code >= 0 else { throw SnapshotParser.missing(row: i + 1, column: column.name) }
                let text = levels[Int(code)]
                let (time, format) = try SnapshotParser.accept(parsed[Int(code)], text: text, row: i + 1,
                                                               column: column.name, reference: reference)
                if reference == nil { reference = (i + 1, format, text) }
                times.append(time)
            }
            guard let reference else {
                throw Diagnostic(.time, column: column.name, problem: "the column has no rows", fix: "pass a file with data rows")
            }
            self.init(name: column.name, format: reference.format, times: times)
        case let .numeric(values):
            var times = [SnapshotTime]()
            times.reserveCapacity(values.count)
            for (i, v) in values.enumerated() {
                guard !v.isNaN else { throw SnapshotParser.missing(row: i + 1, column: column.name) }
                guard v == v.rounded(), abs(v) < 9.0e15 else {
                    throw Diagnostic(.time, row: i + 1, column: column.name,
                                    problem: "'\(TimeText.number(v))' is not a date (YYYY-MM-DD, YYYY-MM or an integer period): a period number must be whole",
                                    fix: SnapshotParser.formatFix)
                }
                times.append(.period(Int(v)))
            }
            guard !times.isEmpty else {
                throw Diagnostic(.time, column: column.name, problem: "the column has no rows", fix: "pass a file with data rows")
            }
            self.init(name: column.name, format: .period, times: times)
        }
        if format == .period, let calendar = Self.compactCalendar(times) { self = calendar.renamed(name) }
    }

    private func renamed(_ name: String) -> SnapshotColumn { SnapshotColumn(name: name, format: format, times: times) }

    /// Whole numbers that are all valid YYYYMM months (1900–2100), or all valid YYYYMMDD days, as
    /// calendar times; nil for plain period numbers.
    static func compactCalendar(_ periods: [SnapshotTime]) -> SnapshotColumn? {
        let values = Set(periods.map(\.ordinal))
        guard let kind = CompactDate.kind(of: values) else { return nil }
        var lookup: [Int: SnapshotTime] = [:]
        for v in values {
            let (year, month, day) = CompactDate.parts(v, kind)
            guard let time = SnapshotTime.date(year: year, month: month, day: day) else { return nil }
            lookup[v] = time
        }
        return SnapshotColumn(name: "", format: kind == .yearMonth ? .compactYearMonth : .compactDate,
                              times: periods.map { lookup[$0.ordinal]! })
    }

    /// Cells as strings, nil for missing; rows numbered from 1 in messages.
    public init(name: String, values: [String?]) throws {
        var times = [SnapshotTime]()
        times.reserveCapacity(values.count)
        var reference: (row: Int, format: SnapshotFormat, text: String)?
        for (i, value) in values.enumerated() {
            guard let value else { throw SnapshotParser.missing(row: i + 1, column: name) }
            let (time, format) = try SnapshotParser.accept(SnapshotParser.parse(value), text: value, row: i + 1,
                                                           column: name, reference: reference)
            if reference == nil { reference = (i + 1, format, value) }
            times.append(time)
        }
        guard let reference else {
            throw Diagnostic(.time, column: name, problem: "the column has no rows", fix: "pass a file with data rows")
        }
        self.init(name: name, format: reference.format, times: times)
        if format == .period, let calendar = Self.compactCalendar(times) { self = calendar.renamed(name) }
    }
}

// MARK: - Parsing

enum SnapshotParser {
    enum Outcome {
        case time(SnapshotTime, SnapshotFormat)
        /// With the specific reason when there is one ("month 13 does not exist").
        case invalid(String?)
    }

    static let formatFix = "write every snapshot time as YYYY-MM-DD (e.g. 2023-06-01), YYYY-MM, an ISO date-time "
        + "such as 2023-06-01T00:00:00Z, a YYYYMM or YYYYMMDD number, or a whole period number, in one format for the whole column"

    static func missing(row: Int, column: String) -> Diagnostic {
        Diagnostic(.time, row: row, column: column, problem: "the snapshot time is missing",
                  fix: "fill in the snapshot time of every row, or drop the rows that have none")
    }

    /// The parsed cell, or the error for it: unreadable, or in another format than the column's first row.
    static func accept(_ outcome: Outcome, text: String, row: Int, column: String,
                       reference: (row: Int, format: SnapshotFormat, text: String)?) throws -> (SnapshotTime, SnapshotFormat) {
        switch outcome {
        case let .invalid(reason):
            var problem = "'\(Diagnostic.excerpt(text))' is not a date (YYYY-MM-DD, YYYY-MM or an integer period)"
            if let reason { problem += ": " + reason }
            throw Diagnostic(.time, row: row, column: column, problem: problem, fix: formatFix)
        case let .time(time, format):
            if let reference, reference.format != format {
                throw Diagnostic(.time, row: row, column: column,
                                problem: "'\(Diagnostic.excerpt(text))' is \(format), but row \(reference.row) holds \(reference.format) "
                                    + "('\(Diagnostic.excerpt(reference.text))'); one column cannot mix formats",
                                fix: "write every snapshot time in the same format (e.g. all as \(reference.format.pattern))")
            }
            return (time, format)
        }
    }

    static func parse(_ text: String) -> Outcome {
        var bytes = Array(text.utf8)
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        var start = 0
        while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        if start > 0 { bytes.removeFirst(start) }
        let n = bytes.count
        guard n > 0 else { return .invalid("the cell is blank") }
        func isDigit(_ i: Int) -> Bool { i < n && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1] - 0x30) } }

        // Integer period: optional sign, digits only.
        let signed = bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+")
        if n > (signed ? 1 : 0), ((signed ? 1 : 0)..<n).allSatisfy(isDigit) {
            guard let value = Int(String(decoding: bytes, as: UTF8.self)) else { return .invalid("the number is too large") }
            return .time(.period(value), .period)
        }

        // YYYY-MM…
        guard n >= 7, (0..<4).allSatisfy(isDigit), bytes[4] == UInt8(ascii: "-"), isDigit(5), isDigit(6) else {
            return .invalid(nil)
        }
        let year = number(0..<4), month = number(5..<7)
        guard (1...12).contains(month) else { return .invalid("month \(month) does not exist") }
        if n == 7 { return .time(.date(year: year, month: month, day: 1)!, .yearMonth) }

        // …-DD
        guard n >= 10, bytes[7] == UInt8(ascii: "-"), isDigit(8), isDigit(9) else { return .invalid(nil) }
        let day = number(8..<10)
        let length = CivilCalendar.daysIn(year: year, month: month)
        guard day >= 1 else { return .invalid("day 0 does not exist") }
        guard day <= length else { return .invalid("\(CivilCalendar.monthNames[month - 1]) \(year) has \(length) days") }
        let date = SnapshotTime.date(year: year, month: month, day: day)!
        if n == 10 { return .time(date, .date) }

        // THH:MM[:SS[.fff]][Z|±HH[:]MM]
        guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " ") else { return .invalid(nil) }
        let timeText = String(decoding: bytes[11...], as: UTF8.self)
        let badTime = Outcome.invalid("the time part '\(Diagnostic.excerpt(timeText))' is not HH:MM:SS")
        var i = 11
        guard isDigit(i), isDigit(i + 1), i + 2 < n, bytes[i + 2] == UInt8(ascii: ":"), isDigit(i + 3), isDigit(i + 4) else {
            return badTime
        }
        guard number(i..<(i + 2)) <= 23, number((i + 3)..<(i + 5)) <= 59 else { return badTime }
        i += 5
        if i < n, bytes[i] == UInt8(ascii: ":") {
            guard isDigit(i + 1), isDigit(i + 2), number((i + 1)..<(i + 3)) <= 60 else { return badTime }
            i += 3
            if i < n, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: ",") {
                i += 1
                guard isDigit(i) else { return badTime }
                while isDigit(i) { i += 1 }
            }
        }
        if i < n {
            if bytes[i] == UInt8(ascii: "Z") || bytes[i] == UInt8(ascii: "z") {
                i += 1
            } else if bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                guard isDigit(i + 1), isDigit(i + 2), number((i + 1)..<(i + 3)) <= 23 else { return badTime }
                i += 3
                if i < n, bytes[i] == UInt8(ascii: ":") { i += 1 }
                if i < n {
                    guard isDigit(i), isDigit(i + 1), number(i..<(i + 2)) <= 59 else { return badTime }
                    i += 2
                }
            }
        }
        guard i == n else { return badTime }
        return .time(date, .dateTime)
    }
}

// MARK: - Calendar arithmetic

/// Proleptic Gregorian calendar on day numbers (days since 1970-01-01), after H. Hinnant's
/// `days_from_civil` / `civil_from_days`: exact integer arithmetic, no time zones.
enum CivilCalendar {
    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August",
                             "September", "October", "November", "December"]

    static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Calendar months later (earlier when negative), the day clamped to the target month's length.
    static func adding(months: Int, to days: Int) -> Int {
        let (y, m, d) = civil(days: days)
        let index = y * 12 + (m - 1) + months
        let year = index >= 0 ? index / 12 : -((-index + 11) / 12)
        let month = index - year * 12 + 1
        return self.days(year: year, month: month, day: min(d, daysIn(year: year, month: month)))
    }

    static func isMonthEnd(_ days: Int) -> Bool {
        let (y, m, d) = civil(days: days)
        return d == daysIn(year: y, month: m)
    }
}

// MARK: - Message text

enum TimeText {
    static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
