import FitEngine
import Foundation
import Support

// Expanding-window backtest with an embargo. Fold k tests the rows whose snapshot falls in
// [start_k, end_k) and trains on every row whose outcome window has closed by start_k:
//
//     time + horizon <= start_k
//
// so no training label can depend on anything that happens once the test window opens. Rows
// before the window whose outcome is still open at start_k are in neither part (the embargo).
// Because adding a horizon is monotone (month-end clamping included), the training rows of a
// window are the snapshots up to a cut-off, and later windows train on supersets.

public struct TimeFoldOptions: Sendable, Equatable {
    /// How many folds, the most recent ones; nil: as many as the data allow, at most `maximumFolds`.
    public var folds: Int?
    public var maximumFolds: Int
    /// Length of each test window, laid end to end back from the end of the last snapshot period;
    /// nil: one window per distinct snapshot time.
    public var testWindow: Horizon?
    /// Folds whose training rows cover fewer distinct snapshot times are skipped.
    public var minimumTrainPeriods: Int

    public init(folds: Int? = nil, maximumFolds: Int = 6, testWindow: Horizon? = nil, minimumTrainPeriods: Int = 3) {
        self.folds = folds
        self.maximumFolds = maximumFolds
        self.testWindow = testWindow
        self.minimumTrainPeriods = minimumTrainPeriods
    }
}

/// One backtest fold. Row indices are 0-based positions in the input, ascending.
public struct TimeFold: Sendable, Equatable {
    /// 0-based, in time order.
    public var index: Int
    public var testStart: SnapshotTime
    /// Exclusive.
    public var testEnd: SnapshotTime
    public var train: [Int]
    public var test: [Int]
    /// Earliest and latest snapshot time among the training rows.
    public var trainFirst: SnapshotTime
    public var trainLast: SnapshotTime
    public var trainCounts: FoldCounts
    public var testCounts: FoldCounts
    /// Rows before the window left out because their outcome window is still open at `testStart`.
    public var embargoedCounts: FoldCounts

    /// The split in FitEngine's form (`CrossValidatedElasticNet.run` and friends).
    public var split: CVFold { CVFold(train: train, test: test) }

    /// JSON form: dates as ISO strings, fold numbered from 1.
    public var summary: TimeFoldSummary {
        TimeFoldSummary(fold: index + 1, testStart: testStart.iso, testEnd: testEnd.iso, trainFirstSnapshot: trainFirst.iso,
                        trainLastSnapshot: trainLast.iso, train: trainCounts, test: testCounts, embargoed: embargoedCounts)
    }
}

public struct TimeFoldSummary: Codable, Sendable, Equatable {
    /// 1-based, in time order.
    public var fold: Int
    public var testStart: String
    /// Exclusive.
    public var testEnd: String
    public var trainFirstSnapshot: String
    public var trainLastSnapshot: String
    public var train: FoldCounts
    public var test: FoldCounts
    public var embargoed: FoldCounts
}

/// A test window that did not make a fold, and why.
public struct SkippedTimeFold: Codable, Sendable, Equatable {
    public var testStart: String
    /// Exclusive.
    public var testEnd: String
    public var reason: String
    public var trainRows: Int
    public var testRows: Int
}

public struct TimeFoldPlan: Sendable {
    public var column: String?
    public var horizon: Horizon
    public var options: TimeFoldOptions
    /// The spacing of the snapshot times (smallest gap, in whole months when every gap is one);
    /// nil with a single snapshot time.
    public var cadence: Horizon?
    /// In time order; fewer than requested when the data do not allow more.
    public var folds: [TimeFold]
    /// In time order. The walk back from the most recent window stops at the first window without
    /// enough training data (earlier windows have even less), so that one is the earliest listed.
    public var skipped: [SkippedTimeFold]

    public var requestedFolds: Int { options.folds ?? options.maximumFolds }

    public var summary: TimeFoldPlanSummary {
        TimeFoldPlanSummary(column: column, horizon: horizon.description,
                            testWindow: options.testWindow?.description ?? "one snapshot time",
                            cadence: cadence?.description, minimumTrainPeriods: options.minimumTrainPeriods,
                            requestedFolds: requestedFolds, folds: folds.map(\.summary), skipped: skipped)
    }
}

public struct TimeFoldPlanSummary: Codable, Sendable, Equatable {
    public var column: String?
    public var horizon: String
    public var testWindow: String
    public var cadence: String?
    public var minimumTrainPeriods: Int
    public var requestedFolds: Int
    public var folds: [TimeFoldSummary]
    public var skipped: [SkippedTimeFold]
}

public enum TimeFolds {
    /// Backtest folds on a parsed snapshot column; `labels` are 0/1 (1 = churned).
    public static func make(snapshots: SnapshotColumn, labels: [Double], horizon: Horizon, customers: [UInt64]? = nil,
                            options: TimeFoldOptions = .init()) throws -> TimeFoldPlan {
        try make(times: snapshots.times, labels: FoldInputs.churnLabels(labels), horizon: horizon, customers: customers,
                 options: options, column: snapshots.name)
    }

    public static func make(times: [SnapshotTime], labels: [Double], horizon: Horizon, customers: [UInt64]? = nil,
                            options: TimeFoldOptions = .init(), column: String? = nil) throws -> TimeFoldPlan {
        try make(times: times, labels: FoldInputs.churnLabels(labels), horizon: horizon, customers: customers,
                 options: options, column: column)
    }

    /// Expanding-window folds, the most recent `options.folds` (default: up to `options.maximumFolds`).
    ///
    /// Test windows: one per distinct snapshot time, or (`options.testWindow`) windows of that length
    /// laid end to end backwards from the end of the last snapshot period (last snapshot + cadence),
    /// so that the most recent window is a whole one. Each window trains on the rows with
    /// `time + horizon <= start`. Windows without test rows, with fewer than
    /// `minimumTrainPeriods` training snapshot times, or with one class among the training labels are
    /// skipped and reported. `customers` (one key per row) only feeds the customer counts.
    public static func make(times: [SnapshotTime], labels: [Bool], horizon: Horizon, customers: [UInt64]? = nil,
                            options: TimeFoldOptions = .init(), column: String? = nil) throws -> TimeFoldPlan {
        let n = times.count
        guard n > 0 else {
            throw Diagnostic(.time, column: column, problem: "there are no rows to split", fix: "pass a file with data rows")
        }
        try FoldInputs.checkCount(labels.count, rows: n, what: "labels")
        if let customers { try FoldInputs.checkCount(customers.count, rows: n, what: "customer ids") }
        try checkOptions(options, horizon: horizon)
        let kind = times[0].kind
        if let i = times.firstIndex(where: { $0.kind != kind }) {
            throw Diagnostic(.time, row: i + 1, column: column,
                            problem: "'\(times[i])' is \(times[i].kind == .date ? "a date" : "a period number"), but row 1 holds "
                                + "\(kind == .date ? "a date" : "a period number") ('\(times[0])'); one column cannot mix them",
                            fix: "write every snapshot time in the same format")
        }
        try horizon.check(fits: kind, column: column, name: "horizon")
        if let window = options.testWindow { try window.check(fits: kind, column: column, name: "test window") }

        // Distinct times, ascending, and each row's position among them.
        let distinct = Array(Set(times.map(\.ordinal))).sorted()
        var position: [Int: Int] = [:]
        position.reserveCapacity(distinct.count)
        for (d, t) in distinct.enumerated() { position[t] = d }
        let timeIndex = times.map { position[$0.ordinal]! }
        let snapshots = distinct.map { kind == .date ? SnapshotTime.day($0) : SnapshotTime.period($0) }
        let m = snapshots.count

        // Per distinct time: rows and churners (prefix sums), and when its outcome window closes.
        var prefixRows = [Int](repeating: 0, count: m + 1)
        var prefixChurn = [Int](repeating: 0, count: m + 1)
        for i in 0..<n {
            prefixRows[timeIndex[i] + 1] += 1
            if labels[i] { prefixChurn[timeIndex[i] + 1] += 1 }
        }
        for d in 0..<m {
            prefixRows[d + 1] += prefixRows[d]
            prefixChurn[d + 1] += prefixChurn[d]
        }
        let closes = snapshots.map { $0.shifted(by: horizon.amount, horizon.unit) }

        let cadence = cadence(distinct: snapshots)
        let end = snapshots[m - 1].shifted(by: (cadence ?? horizon).amount, (cadence ?? horizon).unit)
        /// Windows from the most recent back; nil once they start before the data.
        func window(_ j: Int) -> (start: SnapshotTime, end: SnapshotTime)? {
            if let length = options.testWindow {
                let hi = end.shifted(by: -j * length.amount, length.unit)
                guard hi > snapshots[0] else { return nil }
                return (end.shifted(by: -(j + 1) * length.amount, length.unit), hi)
            }
            guard j < m else { return nil }
            let d = m - 1 - j
            return (snapshots[d], d + 1 < m ? snapshots[d + 1] : end)
        }
        /// First distinct index whose value satisfies `!below`; `below` must be true on a prefix.
        func partition(_ below: (Int) -> Bool) -> Int {
            var lo = 0, hi = m
            while lo < hi {
                let mid = (lo + hi) / 2
                if below(mid) { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }

        struct Chosen { var start: SnapshotTime; var end: SnapshotTime; var trainEnd: Int; var testRange: Range<Int> }
        var chosen: [Chosen] = []
        var skipped: [SkippedTimeFold] = []
        var emptyRun: (start: SnapshotTime, end: SnapshotTime, count: Int)?
        func flushEmpty() {
            guard let run = emptyRun else { return }
            let what = run.count == 1 ? "the window" : "these \(run.count) windows of \(options.testWindow?.description ?? "")"
            skipped.append(SkippedTimeFold(testStart: run.start.iso, testEnd: run.end.iso,
                                           reason: "no snapshot falls in \(what); there is nothing to test", trainRows: 0, testRows: 0))
            emptyRun = nil
        }
        let wanted = options.folds ?? options.maximumFolds
        var j = 0
        while chosen.count < wanted, let w = window(j) {
            j += 1
            let lo = partition { snapshots[$0] < w.start }
            let hi = partition { snapshots[$0] < w.end }
            if lo == hi {
                if let run = emptyRun { emptyRun = (w.start, run.end, run.count + 1) } else { emptyRun = (w.start, w.end, 1) }
                continue
            }
            flushEmpty()
            let trainEnd = partition { closes[$0] <= w.start }
            let trainRows = prefixRows[trainEnd], testRows = prefixRows[hi] - prefixRows[lo]
            let churners = prefixChurn[trainEnd]
            var reason: String?
            if trainEnd == 0 {
                reason = "no training rows: no snapshot before \(w.start) has its \(horizon) outcome window closed by then"
            } else if trainEnd < options.minimumTrainPeriods {
                reason = "training would cover \(trainEnd) snapshot time\(trainEnd == 1 ? "" : "s") (\(snapshots[0]) to "
                    + "\(snapshots[trainEnd - 1])), fewer than the minimum of \(options.minimumTrainPeriods)"
            } else if churners == 0 || churners == trainRows {
                reason = "the \(trainRows) training rows are all \(churners == 0 ? "non-churners" : "churners"); a model needs both classes"
            }
            if let reason {
                // Training sets only shrink further back, so no earlier window can do better.
                skipped.append(SkippedTimeFold(testStart: w.start.iso, testEnd: w.end.iso, reason: reason,
                                               trainRows: trainRows, testRows: testRows))
                break
            }
            chosen.append(Chosen(start: w.start, end: w.end, trainEnd: trainEnd, testRange: lo..<hi))
        }
        flushEmpty()
        chosen.reverse()
        skipped.reverse()

        let customerCodes = customers.map { FoldInputs.denseCodes($0) }
        var counter = PartCounter(labels: labels, customerCodes: customerCodes?.codes, customerCount: customerCodes?.count ?? 0)
        var folds: [TimeFold] = []
        for (k, c) in chosen.enumerated() {
            var train: [Int] = [], test: [Int] = [], embargoed: [Int] = []
            train.reserveCapacity(prefixRows[c.trainEnd])
            test.reserveCapacity(prefixRows[c.testRange.upperBound] - prefixRows[c.testRange.lowerBound])
            for i in 0..<n {
                let d = timeIndex[i]
                if d < c.trainEnd {
                    train.append(i)
                } else if d < c.testRange.lowerBound {
                    embargoed.append(i)
                } else if d < c.testRange.upperBound {
                    test.append(i)
                }
            }
            let embargoedSnapshots = c.testRange.lowerBound - c.trainEnd
            folds.append(TimeFold(index: k, testStart: c.start, testEnd: c.end, train: train, test: test,
                                  trainFirst: snapshots[0], trainLast: snapshots[c.trainEnd - 1],
                                  trainCounts: counter.count(train, snapshots: c.trainEnd),
                                  testCounts: counter.count(test, snapshots: c.testRange.count),
                                  embargoedCounts: counter.count(embargoed, snapshots: embargoedSnapshots)))
        }
        return TimeFoldPlan(column: column, horizon: horizon, options: options, cadence: cadence, folds: folds, skipped: skipped)
    }

    /// The spacing of the snapshot times: the smallest gap between distinct times, in calendar months
    /// when every gap is a whole number of months (month ends count as aligned), else in weeks or days;
    /// for periods, in periods. nil with fewer than two distinct times.
    public static func cadence(of times: [SnapshotTime]) -> Horizon? {
        cadence(distinct: Array(Set(times)).sorted())
    }

    static func cadence(distinct: [SnapshotTime]) -> Horizon? {
        guard distinct.count >= 2 else { return nil }
        var minGap = Int.max
        for (a, b) in zip(distinct, distinct.dropFirst()) { minGap = min(minGap, b.ordinal - a.ordinal) }
        if distinct[0].kind == .period { return .periods(minGap) }
        var minMonths = Int.max
        for (a, b) in zip(distinct, distinct.dropFirst()) {
            let (ay, am, _) = CivilCalendar.civil(days: a.ordinal)
            let (by, bm, _) = CivilCalendar.civil(days: b.ordinal)
            let months = (by * 12 + bm) - (ay * 12 + am)
            let whole = months >= 1 && (CivilCalendar.adding(months: months, to: a.ordinal) == b.ordinal
                || (CivilCalendar.isMonthEnd(a.ordinal) && CivilCalendar.isMonthEnd(b.ordinal)))
            guard whole else { return minGap % 7 == 0 ? .weeks(minGap / 7) : .days(minGap) }
            minMonths = min(minMonths, months)
        }
        return .months(minMonths)
    }

    static func checkOptions(_ options: TimeFoldOptions, horizon: Horizon) throws {
        if let folds = options.folds, folds < 1 {
            throw Diagnostic(.time, problem: "the number of backtest folds is \(folds)", fix: "ask for at least one fold")
        }
        guard options.maximumFolds >= 1 else {
            throw Diagnostic(.time, problem: "the maximum number of backtest folds is \(options.maximumFolds)", fix: "allow at least one fold")
        }
        guard options.minimumTrainPeriods >= 1 else {
            throw Diagnostic(.time, problem: "the minimum number of training periods is \(options.minimumTrainPeriods)",
                                 fix: "require at least one snapshot time of training data")
        }
        guard horizon.amount >= 1 else {
            throw Diagnostic(.time, problem: "the horizon '\(horizon)' is not positive",
                            fix: "give the length of the label's outcome window, e.g. 1m for 'churned within a month'")
        }
        if let window = options.testWindow, window.amount < 1 {
            throw Diagnostic(.time, problem: "the test window '\(window)' is not positive", fix: "give a positive length, e.g. 1m or 3m")
        }
    }
}
