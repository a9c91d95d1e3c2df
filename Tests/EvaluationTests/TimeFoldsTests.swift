import Foundation
import Testing
import Tabular
import TestSupport
@testable import Evaluation
import Support

/// datasets/simulated_history.csv read the way the CLI reads it: ids and dates as text.
struct HistoryFixture: Sendable {
    let snapshots: SnapshotColumn
    let dateText: [String]
    let labels: [Double]
    let customers: [UInt64]
    var rows: Int { labels.count }

    static let shared: HistoryFixture = {
        var options = CSVOptions()
        options.textColumns = ["snapshot_date", "customer_id"]
        let table = try! CSVReader.read(path: Fixtures.dataset("simulated_history.csv"), options: options)
        let dates = table.column(named: "snapshot_date")!
        guard case let .text(codes, levels) = dates.values, case let .numeric(labels) = table.column(named: "churned_next_month")!.values
        else { fatalError("unexpected column types") }
        return HistoryFixture(snapshots: try! SnapshotColumn(parsing: dates), dateText: codes.map { levels[Int($0)] },
                              labels: labels, customers: try! FoldInputs.customerKeys(table.column(named: "customer_id")!))
    }()
}

/// An oracle independent of the code under test: Foundation's Gregorian calendar in UTC.
enum Oracle {
    static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    static func date(_ iso: String) -> Date {
        let p = iso.split(separator: "-").map { Int($0)! }
        return calendar.date(from: DateComponents(year: p[0], month: p[1], day: p[2]))!
    }

    static func iso(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    static func adding(months: Int, to date: Date) -> Date {
        calendar.date(byAdding: .month, value: months, to: date)!
    }
}

func captureTimeError(_ body: () throws -> Void) -> Diagnostic? {
    do {
        try body()
        return nil
    } catch let error as Diagnostic {
        return error
    } catch {
        Issue.record("expected a Diagnostic, got \(error)")
        return nil
    }
}

@Suite struct TimeFoldsTests {
    // MARK: - Backtests on the simulated history

    /// Checks the rules every fold of every plan must keep, against Foundation's calendar.
    func checkInvariants(_ plan: TimeFoldPlan, horizonMonths: Int, data h: HistoryFixture) throws {
        // 12 distinct dates: compute each date and its outcome close once.
        var dateOf: [String: Date] = [:], closeOf: [String: Date] = [:]
        for text in Set(h.dateText) {
            dateOf[text] = Oracle.date(text)
            closeOf[text] = Oracle.adding(months: horizonMonths, to: dateOf[text]!)
        }
        let dates = h.dateText.map { dateOf[$0]! }, closes = h.dateText.map { closeOf[$0]! }
        var previous: TimeFold?
        for fold in plan.folds {
            let start = Oracle.date(fold.testStart.iso), end = Oracle.date(fold.testEnd.iso)
            // Embargo: every training row's outcome window closes no later than the test window opens.
            let leaking = fold.train.filter { closes[$0] > start }
            #expect(leaking.count == 0, "fold \(fold.index): training rows with outcomes open at \(fold.testStart)")
            // …and every row that satisfies it is used.
            let eligible = (0..<h.rows).filter { closes[$0] <= start }
            let trainIsEligible = fold.train == eligible
            #expect(trainIsEligible, "fold \(fold.index): \(fold.train.count) training rows, \(eligible.count) eligible")
            // Test rows: exactly the rows with a snapshot inside [start, end).
            let inWindow = (0..<h.rows).filter { dates[$0] >= start && dates[$0] < end }
            let testIsWindow = fold.test == inWindow
            #expect(testIsWindow, "fold \(fold.index): \(fold.test.count) test rows, \(inWindow.count) in the window")
            #expect(!fold.test.isEmpty && !fold.train.isEmpty)
            // Embargoed rows: before the window, outcome still open at its start.
            let embargoed = (0..<h.rows).filter { dates[$0] < start && closes[$0] > start }
            #expect(fold.embargoedCounts.rows == embargoed.count)
            let later = (0..<h.rows).filter { dates[$0] >= end }.count
            #expect(fold.trainCounts.rows + fold.testCounts.rows + fold.embargoedCounts.rows + later == h.rows)

            // Counts add up, computed here from the row lists.
            for (rows, counts) in [(fold.train, fold.trainCounts), (fold.test, fold.testCounts), (embargoed, fold.embargoedCounts)] {
                #expect(counts.rows == rows.count)
                #expect(counts.customers == Set(rows.map { h.customers[$0] }).count)
                #expect(counts.churners == rows.filter { h.labels[$0] == 1 }.count)
                #expect(counts.snapshots == Set(rows.map { h.dateText[$0] }).count)
            }
            let ascending = fold.train == fold.train.sorted() && fold.test == fold.test.sorted()
            #expect(ascending)
            #expect(fold.trainFirst.iso == fold.train.map { h.dateText[$0] }.min())
            #expect(fold.trainLast.iso == fold.train.map { h.dateText[$0] }.max())
            #expect(fold.trainCounts.churners > 0 && fold.trainCounts.churners < fold.trainCounts.rows)

            // Ordered in time, non-overlapping, expanding.
            if let previous {
                #expect(fold.index == previous.index + 1)
                #expect(previous.testEnd <= fold.testStart)
                let expanding = Set(previous.train).isStrictSubset(of: Set(fold.train))
                #expect(expanding, "fold \(previous.index) does not train on a strict subset of fold \(fold.index)")
            }
            previous = fold
        }
    }

    @Test func oneMonthHorizonBacktest() throws {
        let h = HistoryFixture.shared
        #expect(h.snapshots.format == .date)
        let plan = try TimeFolds.make(snapshots: h.snapshots, labels: h.labels, horizon: try Horizon.parse("1m"), customers: h.customers)
        #expect(plan.cadence == .months(1))
        #expect(plan.skipped.isEmpty)
        // Default: up to six folds, the most recent snapshot dates, one date per test window.
        #expect(plan.folds.map(\.testStart.iso) == ["2023-07-01", "2023-08-01", "2023-09-01", "2023-10-01", "2023-11-01", "2023-12-01"])
        #expect(plan.folds.map(\.testEnd.iso) == ["2023-08-01", "2023-09-01", "2023-10-01", "2023-11-01", "2023-12-01", "2024-01-01"])
        #expect(plan.folds.allSatisfy { $0.testCounts.snapshots == 1 })
        try checkInvariants(plan, horizonMonths: 1, data: h)
        // With a one-month outcome and monthly snapshots nothing needs embargoing: the previous
        // month's outcome closes exactly when the test month opens.
        for fold in plan.folds {
            #expect(fold.embargoedCounts.rows == 0)
            #expect(fold.trainLast.iso == Oracle.iso(Oracle.adding(months: -1, to: Oracle.date(fold.testStart.iso))))
        }
        let last = try #require(plan.folds.last)
        #expect(last.testCounts.rows == 1544)   // rows dated 2023-12-01
        #expect(last.trainCounts.snapshots == 11)

        // The JSON summary round-trips and carries ISO dates.
        let data = try JSONEncoder().encode(plan.summary)
        let decoded = try JSONDecoder().decode(TimeFoldPlanSummary.self, from: data)
        #expect(decoded == plan.summary)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains("\"testStart\":\"2023-12-01\"") && json.contains("\"horizon\":\"1m\""))
        #expect(decoded.folds.map(\.fold) == [1, 2, 3, 4, 5, 6])
    }

    @Test func threeMonthHorizonEmbargoesTheMonthsBeforeEachWindow() throws {
        let h = HistoryFixture.shared
        let one = try TimeFolds.make(snapshots: h.snapshots, labels: h.labels, horizon: .months(1), customers: h.customers)
        let three = try TimeFolds.make(snapshots: h.snapshots, labels: h.labels, horizon: .months(3), customers: h.customers)
        try checkInvariants(three, horizonMonths: 3, data: h)
        #expect(three.folds.map(\.testStart) == one.folds.map(\.testStart))
        let dateOf = Dictionary(uniqueKeysWithValues: Set(h.dateText).map { ($0, Oracle.date($0)) })
        let dates = h.dateText.map { dateOf[$0]! }
        for (f3, f1) in zip(three.folds, one.folds) {
            let start = Oracle.date(f3.testStart.iso)
            let threeBefore = Oracle.adding(months: -3, to: start)
            // The last training snapshot is three months before the window: its outcome window
            // [t, t + 3m) ends exactly at the start. The two snapshots after it are embargoed.
            #expect(f3.trainLast.iso == Oracle.iso(threeBefore))
            #expect(f3.train.allSatisfy { dates[$0] <= threeBefore })
            #expect(f3.embargoedCounts.snapshots == 2)
            let gap = (0..<h.rows).filter { dates[$0] > threeBefore && dates[$0] < start }
            #expect(f3.embargoedCounts.rows == gap.count && !gap.isEmpty)
            // Same test rows; the training rows are the 1m fold's minus exactly the embargoed gap.
            let sameTest = f3.test == f1.test
            let nested = Set(f3.train).isStrictSubset(of: Set(f1.train))
            let differenceIsGap = Set(f1.train).subtracting(f3.train) == Set(gap)
            #expect(sameTest && nested && differenceIsGap)
            #expect(f3.trainCounts.rows + f3.embargoedCounts.rows == f1.trainCounts.rows)
        }
    }

    @Test func moreFoldsThanTheHistoryAllowsAreReportedAsSkipped() throws {
        let h = HistoryFixture.shared
        let plan = try TimeFolds.make(snapshots: h.snapshots, labels: h.labels, horizon: .months(3), customers: h.customers,
                                      options: TimeFoldOptions(folds: 12))
        // June trains on Jan–Mar (3 dates); May would train on Jan–Feb only.
        #expect(plan.folds.count == 7)
        #expect(plan.folds.first?.testStart.iso == "2023-06-01")
        #expect(plan.skipped.count == 1)
        #expect(plan.skipped.first?.testStart == "2023-05-01")
        #expect(plan.skipped.first?.reason.contains("fewer than the minimum of 3") == true)
        #expect(plan.skipped.first?.trainRows == 820 + 869)
        try checkInvariants(plan, horizonMonths: 3, data: h)

        let loose = try TimeFolds.make(snapshots: h.snapshots, labels: h.labels, horizon: .months(3),
                                       options: TimeFoldOptions(folds: 12, minimumTrainPeriods: 1))
        #expect(loose.folds.count == 9)
        #expect(loose.skipped.map(\.testStart) == ["2023-03-01"])
        #expect(loose.skipped.first?.reason.hasPrefix("no training rows") == true)
        #expect(loose.folds.allSatisfy { $0.trainCounts.customers == nil })   // no ids given
    }

    @Test func quarterlyTestWindows() throws {
        let h = HistoryFixture.shared
        let plan = try TimeFolds.make(snapshots: h.snapshots, labels: h.labels, horizon: .months(1), customers: h.customers,
                                      options: TimeFoldOptions(testWindow: try Horizon.parse("3m", name: "test window")))
        #expect(plan.folds.map(\.testStart.iso) == ["2023-04-01", "2023-07-01", "2023-10-01"])
        #expect(plan.folds.map(\.testEnd.iso) == ["2023-07-01", "2023-10-01", "2024-01-01"])
        #expect(plan.folds.allSatisfy { $0.testCounts.snapshots == 3 })
        #expect(plan.skipped.map(\.testStart) == ["2023-01-01"])
        #expect(plan.summary.testWindow == "3m")
        try checkInvariants(plan, horizonMonths: 1, data: h)
    }

    // MARK: - Synthetic histories

    @Test func emptyWindowsAreCollapsedAndReported() throws {
        // Monthly snapshots Jan–Jun 2023, four customers, churn spread over time.
        var times: [SnapshotTime] = [], labels: [Bool] = []
        for month in 1...6 {
            for c in 0..<4 {
                times.append(.date(year: 2023, month: month, day: 1)!)
                labels.append((month + c) % 3 == 0)
            }
        }
        let plan = try TimeFolds.make(times: times, labels: labels, horizon: .months(1),
                                      options: TimeFoldOptions(folds: 1, testWindow: .weeks(2)))
        // Windows run back from 1 July: [17 Jun, 1 Jul) and [3 Jun, 17 Jun) hold no snapshot;
        // [20 May, 3 Jun) holds 1 June.
        #expect(plan.folds.map(\.testStart.iso) == ["2023-05-20"])
        #expect(plan.folds.first?.testEnd.iso == "2023-06-03")
        #expect(plan.folds.first?.test == Array(20..<24))
        #expect(plan.skipped.count == 1)
        #expect(plan.skipped.first?.testStart == "2023-06-03" && plan.skipped.first?.testEnd == "2023-07-01")
        #expect(plan.skipped.first?.reason.contains("2 windows") == true)
    }

    @Test func singleClassTrainingIsSkipped() throws {
        // Nobody churns before April: windows whose training ends before then have one class.
        var times: [SnapshotTime] = [], labels: [Bool] = []
        for month in 1...8 {
            for c in 0..<5 {
                times.append(.date(year: 2024, month: month, day: 1)!)
                labels.append(month >= 4 && c == 0)
            }
        }
        let plan = try TimeFolds.make(times: times, labels: labels, horizon: .months(1), options: TimeFoldOptions(folds: 8))
        // May trains on Jan–Apr (April has a churner); April would train on Jan–Mar: no churners.
        #expect(plan.folds.map(\.testStart.iso) == ["2024-05-01", "2024-06-01", "2024-07-01", "2024-08-01"])
        #expect(plan.skipped.map(\.testStart) == ["2024-04-01"])
        #expect(plan.skipped.first?.reason.contains("non-churners") == true)
    }

    @Test func integerPeriods() throws {
        var options = CSVOptions()
        options.textColumns = ["id"]
        var csv = "id,period,churned\n"
        for p in 1...10 { for c in 0..<3 { csv += "c\(c),\(p),\((p + c) % 4 == 0 ? 1 : 0)\n" } }
        let table = try CSVReader.read(data: Array(csv.utf8), path: "periods.csv", options: options)
        let column = try SnapshotColumn(parsing: table.column(named: "period")!)
        #expect(column.format == .period && column.kind == .period)
        guard case let .numeric(labels) = table.column(named: "churned")!.values else { Issue.record("labels"); return }
        let plan = try TimeFolds.make(snapshots: column, labels: labels, horizon: try Horizon.parse("2"),
                                      customers: try FoldInputs.customerKeys(table.column(named: "id")!))
        #expect(plan.cadence == .periods(1))
        #expect(plan.folds.map(\.testStart) == (5...10).map(SnapshotTime.period))
        for fold in plan.folds {
            #expect(fold.train.allSatisfy { column.times[$0].ordinal + 2 <= fold.testStart.ordinal })
            #expect(fold.trainLast == .period(fold.testStart.ordinal - 2))
            #expect(fold.embargoedCounts.rows == 3)       // one period of three customers
            #expect(fold.testCounts.customers == 3)
        }
        #expect(plan.summary.folds.last?.testEnd == "11")

        // A calendar horizon on periods (and a plain number on dates) is an error naming the column.
        let e1 = captureTimeError { _ = try TimeFolds.make(snapshots: column, labels: labels, horizon: .months(1)) }
        #expect(e1?.column == "period" && e1?.description.contains("Fix: give the horizon as a plain number") == true)
        let h = HistoryFixture.shared
        let e2 = captureTimeError { _ = try TimeFolds.make(snapshots: h.snapshots, labels: h.labels, horizon: try Horizon.parse("3")) }
        #expect(e2?.description.hasPrefix("column 'snapshot_date': the snapshot times are dates") == true)
        let e3 = captureTimeError {
            _ = try TimeFolds.make(snapshots: h.snapshots, labels: h.labels, horizon: .months(1),
                                   options: TimeFoldOptions(testWindow: .periods(2)))
        }
        #expect(e3?.problem.contains("test window") == true)
    }

    @Test func badInputsToTheBacktest() throws {
        let times = (1...6).map { SnapshotTime.date(year: 2023, month: $0, day: 1)! }
        #expect(throws: Diagnostic.self) {
            _ = try TimeFolds.make(times: times, labels: [0, 1, 0, 1, 0, 0.5], horizon: .months(1))
        }
        do {
            _ = try TimeFolds.make(times: times, labels: [0, 1, 0, 1, 0, .nan], horizon: .months(1), column: "snapshot_date")
            Issue.record("NaN label accepted")
        } catch let e as Diagnostic {
            #expect(e.row == 6 && e.problem.contains("missing"))
        }
        #expect(throws: Diagnostic.self) {
            _ = try TimeFolds.make(times: times, labels: [false, true], horizon: .months(1))
        }
        #expect(throws: Diagnostic.self) {
            _ = try TimeFolds.make(times: times, labels: [Bool](repeating: false, count: 6), horizon: .months(1),
                                   options: TimeFoldOptions(folds: 0))
        }
        #expect(throws: Diagnostic.self) {
            _ = try TimeFolds.make(times: times, labels: [Bool](repeating: false, count: 6), horizon: .months(0))
        }
    }

    // MARK: - Date arithmetic

    @Test(arguments: [
        ("2023-01-31", "1m", "2023-02-28"),
        ("2024-01-31", "1m", "2024-02-29"),   // leap year
        ("2023-01-31", "13m", "2024-02-29"),
        ("2023-03-31", "1m", "2023-04-30"),
        ("2023-08-31", "6m", "2024-02-29"),
        ("2023-12-15", "1m", "2024-01-15"),
        ("2023-11-30", "3m", "2024-02-29"),
        ("2024-02-29", "1y", "2025-02-28"),
        ("2024-02-29", "4y", "2028-02-29"),
        ("2099-02-28", "1y", "2100-02-28"),
        ("2023-12-25", "2w", "2024-01-08"),
        ("2023-02-15", "30d", "2023-03-17"),
        ("2024-02-15", "30d", "2024-03-16"),
        ("1900-02-28", "1d", "1900-03-01"),   // 1900 is not a leap year
        ("2000-02-28", "1d", "2000-02-29"),   // 2000 is
        ("2023-06-01", "52w", "2024-05-30"),
    ])
    func addingHorizons(start: String, horizon: String, expected: String) throws {
        let time = try #require(SnapshotTime.parse(start)?.time)
        let sum = try time.adding(try Horizon.parse(horizon))
        #expect(sum.iso == expected)
        // Foundation agrees where its units match ours.
        let h = try Horizon.parse(horizon)
        let unit: Calendar.Component
        switch h.unit {
        case .days: unit = .day
        case .weeks: unit = .weekOfYear
        case .months: unit = .month
        case .years: unit = .year
        case .periods: Issue.record("periods"); return
        }
        #expect(Oracle.iso(Oracle.calendar.date(byAdding: unit, value: h.amount, to: Oracle.date(start))!) == expected)
    }

    @Test func subtractingAndPeriods() throws {
        #expect(try SnapshotTime.date(year: 2023, month: 3, day: 31)!.subtracting(.months(1)).iso == "2023-02-28")
        #expect(try SnapshotTime.date(year: 2024, month: 1, day: 15)!.subtracting(.months(1)).iso == "2023-12-15")
        #expect(try SnapshotTime.date(year: 2024, month: 3, day: 1)!.subtracting(.days(1)).iso == "2024-02-29")
        #expect(try SnapshotTime.period(5).adding(.periods(3)) == .period(8))
        #expect(try SnapshotTime.period(5).subtracting(.periods(7)) == .period(-2))
        #expect(SnapshotTime.period(3) < .period(4) && SnapshotTime.day(0) < .day(1))
        #expect(SnapshotTime.day(0).iso == "1970-01-01")
        #expect(SnapshotTime.date(year: 2023, month: 2, day: 29) == nil)
        #expect(SnapshotTime.date(year: 2000, month: 2, day: 29) != nil)
        #expect(SnapshotTime.date(year: 1900, month: 2, day: 29) == nil)
        let e1 = captureTimeError { _ = try SnapshotTime.period(5).adding(.months(1)) }
        #expect(e1?.description.contains("integer periods") == true)
        let e2 = captureTimeError { _ = try SnapshotTime.day(0).adding(.periods(1)) }
        #expect(e2?.fix.contains("1m") == true)
    }

    @Test func calendarAgreesWithFoundationDayByDay() throws {
        // Every day from 1899 to 2101: day numbers and month steps match Foundation's Gregorian calendar.
        let first = SnapshotTime.date(year: 1899, month: 12, day: 1)!.ordinal
        let last = SnapshotTime.date(year: 2101, month: 1, day: 31)!.ordinal
        var mismatches: [String] = []
        for d in first...last {
            let date = Date(timeIntervalSince1970: Double(d) * 86_400)
            let time = SnapshotTime.day(d)
            if time.iso != Oracle.iso(date) { mismatches.append("day \(d): \(time.iso) vs \(Oracle.iso(date))") }
            if d % 7 == 0 {   // month steps on a sample of days (Foundation is slow)
                for months in [1, 2, 3, 12, -1] {
                    let ours = time.shifted(by: months, .months).iso
                    let theirs = Oracle.iso(Oracle.adding(months: months, to: date))
                    if ours != theirs { mismatches.append("\(time.iso) + \(months)m: \(ours) vs \(theirs)") }
                }
            }
            if mismatches.count > 5 { break }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test func horizonParsing() throws {
        #expect(try Horizon.parse("3m") == .months(3))
        #expect(try Horizon.parse("2w") == .weeks(2))
        #expect(try Horizon.parse("30d") == .days(30))
        #expect(try Horizon.parse("1y") == .years(1))
        #expect(try Horizon.parse("3") == .periods(3))
        #expect(try Horizon.parse(" 6 months ") == .months(6))
        #expect(try Horizon.parse("2W") == .weeks(2))
        #expect(Horizon.months(3).description == "3m" && Horizon.periods(2).description == "2")
        for bad in ["", "m", "3x", "0m", "-1m", "1.5m", "three months"] {
            let error = captureTimeError { _ = try Horizon.parse(bad, name: "horizon") }
            #expect(error != nil, "'\(bad)' accepted")
            #expect(error?.description.hasPrefix("horizon '\(bad)'") == true)
            #expect(error?.description.contains(". Fix: write a whole number with a unit") == true)
        }
    }

    // MARK: - Parsing snapshot columns

    @Test(arguments: [
        ("2023-06-01", SnapshotFormat.date, "2023-06-01"),
        ("2023-06", .yearMonth, "2023-06-01"),
        ("2023-06-01T12:34:56Z", .dateTime, "2023-06-01"),
        ("2023-06-01T23:59:59.250+05:30", .dateTime, "2023-06-01"),
        ("2023-06-01T00:00", .dateTime, "2023-06-01"),
        ("2023-06-01 08:00:00", .dateTime, "2023-06-01"),
        (" 2024-02-29 ", .date, "2024-02-29"),
        ("17", .period, "17"),
        ("-3", .period, "-3"),
    ])
    func parsesFormats(text: String, format: SnapshotFormat, iso: String) throws {
        let parsed = try #require(SnapshotTime.parse(text))
        #expect(parsed.format == format)
        #expect(parsed.time.iso == iso)
    }

    @Test(arguments: [
        ("2023-13-01", "is not a date (YYYY-MM-DD, YYYY-MM or an integer period): month 13 does not exist"),
        ("2023-02-29", "February 2023 has 28 days"),
        ("1900-02-29", "February 1900 has 28 days"),
        ("2023-04-31", "April 2023 has 30 days"),
        ("2023-06-00", "day 0 does not exist"),
        ("2023-00", "month 0 does not exist"),
        ("2023-6-1", "'2023-6-1' is not a date"),
        ("June 2023", "'June 2023' is not a date"),
        ("2023-06-01T25:00:00", "the time part '25:00:00' is not HH:MM:SS"),
        ("2023-06-01T10:00:00X", "is not HH:MM:SS"),
        ("2023-06-01x", "is not a date"),
        ("", "the cell is blank"),
        ("2023-07", "is a year-month (YYYY-MM), but row 1 holds a date (YYYY-MM-DD) ('2023-01-01'); one column cannot mix formats"),
        ("2023-07-01T00:00:00Z", "is a date-time"),
        ("5", "is an integer period, but row 1 holds a date"),
    ])
    func parseErrorsNameRowAndColumn(bad: String, message: String) throws {
        var values: [String?] = (1...16).map { "2023-\(String(format: "%02d", ($0 - 1) % 12 + 1))-01" }
        values.append(bad)   // row 17
        values.append("2023-06-01")
        let error = try #require(captureTimeError { _ = try SnapshotColumn(name: "snapshot_date", values: values) })
        #expect(error.row == 17 && error.column == "snapshot_date")
        #expect(error.description.hasPrefix("row 17, column 'snapshot_date': "))
        #expect(error.description.contains(message), "\(error)")
        #expect(error.description.contains(". Fix: "))
        #expect(!error.description.contains("\n"))
    }

    @Test func theBriefsExampleMessage() throws {
        let values: [String?] = (1...16).map { _ in "2023-06-01" } + ["2023-13-01"]
        let error = try #require(captureTimeError { _ = try SnapshotColumn(name: "snapshot_date", values: values) })
        #expect(error.description.hasPrefix(
            "row 17, column 'snapshot_date': '2023-13-01' is not a date (YYYY-MM-DD, YYYY-MM or an integer period)"))
        #expect(error.fix.contains("YYYY-MM-DD"))
    }

    @Test func rawColumnErrorsNameRowAndColumn() throws {
        var text = CSVOptions()
        text.textColumns = ["snapshot_date"]
        func column(_ csv: String, options: CSVOptions = CSVOptions()) throws -> RawColumn {
            try CSVReader.read(data: Array(csv.utf8), path: "t.csv", options: options).column(named: "snapshot_date")!
        }
        // Missing text cell.
        let missing = captureTimeError {
            _ = try SnapshotColumn(parsing: column("id,snapshot_date\na,2023-01-01\nb,NA\nc,2023-03-01\n", options: text))
        }
        #expect(missing?.row == 2 && missing?.column == "snapshot_date" && missing?.problem == "the snapshot time is missing")
        // Mixed formats in a text column.
        let mixed = captureTimeError {
            _ = try SnapshotColumn(parsing: column("id,snapshot_date\na,2023-01-01\nb,2023-01-01\nc,2023-03\n", options: text))
        }
        #expect(mixed?.row == 3 && mixed?.description.contains("cannot mix formats") == true)
        // Numeric periods: fractions and missing cells.
        let fraction = captureTimeError { _ = try SnapshotColumn(parsing: column("id,snapshot_date\na,1\nb,2.5\n")) }
        #expect(fraction?.row == 2 && fraction?.description.contains("'2.5'") == true && fraction?.description.contains("whole") == true)
        let gap = captureTimeError { _ = try SnapshotColumn(parsing: column("id,snapshot_date\na,1\nb,2\nc,\n")) }
        #expect(gap?.row == 3 && gap?.column == "snapshot_date")
        // Text periods and year-months read fine.
        let periods = try SnapshotColumn(parsing: column("id,snapshot_date\na,1\nb,2\n", options: text))
        #expect(periods.format == .period && periods.times == [.period(1), .period(2)])
        let months = try SnapshotColumn(parsing: column("id,snapshot_date\na,2023-01\nb,2023-02\n"))
        #expect(months.format == .yearMonth && months.times.map(\.iso) == ["2023-01-01", "2023-02-01"])
        #expect(TimeFolds.cadence(of: months.times) == .months(1))
    }

    @Test func cadenceInference() {
        let ends = [(2023, 1, 31), (2023, 2, 28), (2023, 3, 31), (2023, 4, 30)].map { SnapshotTime.date(year: $0.0, month: $0.1, day: $0.2)! }
        #expect(TimeFolds.cadence(of: ends) == .months(1))
        let quarterly = [1, 4, 7, 10].map { SnapshotTime.date(year: 2023, month: $0, day: 15)! }
        #expect(TimeFolds.cadence(of: quarterly) == .months(3))
        let weekly = (0..<5).map { SnapshotTime.day(19_000 + 7 * $0) }
        #expect(TimeFolds.cadence(of: weekly) == .weeks(1))
        let daily = [SnapshotTime.day(10), .day(11), .day(13)]
        #expect(TimeFolds.cadence(of: daily) == .days(1))
        #expect(TimeFolds.cadence(of: [.period(2), .period(4), .period(8)]) == .periods(2))
        #expect(TimeFolds.cadence(of: [.period(2)]) == nil)
    }
}
