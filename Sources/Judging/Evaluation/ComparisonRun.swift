import Foundation
import Accuracy
import ScoringCore
import Support
import Tabular

/// How a comparison splits the rows: a time backtest when `horizon` is given, else repeated,
/// stratified K-fold cross-validation (grouped by customer when the roles name an id).
public struct ComparisonSplits: Sendable, Equatable {
    /// The label's look-ahead (`1m`, `3m`, `30d`, or periods for integer times).
    public var horizon: String?
    public var backtestFolds: Int?
    public var testWindow: String?
    public var minTrainPeriods: Int
    public var folds: Int
    public var repeats: Int
    public var seed: UInt64

    public init(horizon: String? = nil, backtestFolds: Int? = nil, testWindow: String? = nil, minTrainPeriods: Int = 3,
                folds: Int = 5, repeats: Int = 1, seed: UInt64 = 1) {
        self.horizon = horizon; self.backtestFolds = backtestFolds; self.testWindow = testWindow
        self.minTrainPeriods = minTrainPeriods; self.folds = folds; self.repeats = repeats; self.seed = seed
    }
}

/// What `compare` and `backtest` print with --json.
public struct ComparisonOutput: Encodable {
    public var comparison: ComparisonReport
    public var timeFolds: TimeFoldPlanSummary?
    public var crossValidation: RepeatedFoldPlanSummary?
}

/// Reads the data once, builds the splits, runs the comparison: `compare` and `backtest` without
/// their printing.
public struct ComparisonRun {
    public var data: String
    public var roles: ColumnRoles
    public var naValues: [String]
    public var candidates: [Candidate]
    public var splits: ComparisonSplits
    public var bands: HealthBands
    public var options: EvaluationOptions

    public init(data: String, roles: ColumnRoles, naValues: [String], candidates: [Candidate], splits: ComparisonSplits,
                bands: HealthBands, options: EvaluationOptions) {
        self.data = data; self.roles = roles; self.naValues = naValues; self.candidates = candidates
        self.splits = splits; self.bands = bands; self.options = options
    }

    /// `progress` gets one line per candidate and fold as they start.
    public func execute(progress: (String) -> Void = { _ in }) throws -> ComparisonOutput {
        var csv = CSVOptions()
        csv.naValues = Set(naValues)
        csv.numberFormat = roles.numberFormat
        var text = Set([roles.target] + [roles.id, roles.time].compactMap { $0 }).union(roles.categorical)
        for c in candidates {
            switch c.kind {
            case .scorecard(let card, _): text.formUnion(card.categoricalColumns)
            case .model(let m, _, _): text.formUnion(m.schema.features.filter { $0.kind == .categorical }.map(\.column))
            case .recipe: break
            }
        }
        csv.textColumns = text
        let table = try CSVReader.read(path: data, options: csv)
        for c in candidates { try c.requireColumns(in: table) }
        let (rows, excluded) = try Comparison.usableRows(table, roles: roles, candidates: candidates)
        let part = table.subset(rows: rows)
        let labels = try DesignBuilder.label(part, roles: roles).values
        let customers = try roles.id.map { id -> [UInt64] in
            guard let c = part.column(named: id) else {
                throw Diagnostic(.data, file: data, row: nil, line: nil, column: id, problem: "no column '\(id)' for --id", fix: "pass a header name")
            }
            return try FoldInputs.customerKeys(c)
        }
        var evaluationSplits: [EvaluationSplit] = []
        var timePlan: TimeFoldPlanSummary? = nil
        var cvPlan: RepeatedFoldPlanSummary? = nil
        let design: String
        if let h = splits.horizon {
            guard let timeName = roles.time, let timeColumn = part.column(named: timeName) else {
                throw Diagnostic(.data, file: data, row: nil, line: nil, column: roles.time, problem: "no snapshot time column for the backtest",
                                fix: "pass --time COL naming the snapshot date")
            }
            let horizon = try Horizon.parse(h)
            let options = TimeFoldOptions(folds: splits.backtestFolds, testWindow: try splits.testWindow.map { try Horizon.parse($0, name: "--test-window") },
                                          minimumTrainPeriods: splits.minTrainPeriods)
            // Time errors name the file, and the row and line in it (the column was read from the usable rows).
            let plan: TimeFoldPlan
            let snapshots: SnapshotColumn
            do {
                snapshots = try SnapshotColumn(parsing: timeColumn)
                plan = try TimeFolds.make(snapshots: snapshots, labels: labels, horizon: horizon,
                                          customers: customers, options: options)
            } catch let e as Diagnostic {
                let record = e.row.map { rows[$0 - 1] + 1 }
                throw Diagnostic(.data, file: data, row: record, line: record.map { table.line(ofRecord: $0) }, column: e.column ?? timeName,
                                problem: e.problem, fix: e.fix)
            }
            guard !plan.folds.isEmpty else {
                throw Diagnostic(.data, file: data, row: nil, line: nil, column: timeName,
                                problem: "no backtest fold has both a training and a test part (\(plan.skipped.map(\.reason).first ?? "too few snapshot dates"))",
                                fix: "lower --min-train-periods, shorten --horizon, or use cross-validation (drop --horizon)")
            }
            evaluationSplits = plan.folds.map { f in
                EvaluationSplit(label: "fold \(f.summary.fold): test \(f.summary.testStart)", train: f.train, test: f.test)
            }
            timePlan = plan.summary
            let compact = [SnapshotFormat.compactYearMonth, .compactDate].contains(snapshots.format) ? " (\(snapshots.format))" : ""
            design = "time backtest on '\(timeName)'\(compact), horizon \(horizon), \(plan.folds.count) expanding-window folds"
        } else {
            let plan = try RepeatedFolds.make(labels: labels, customers: customers, k: splits.folds, repeats: splits.repeats, seed: splits.seed)
            evaluationSplits = plan.splits.map { f in
                EvaluationSplit(label: (splits.repeats > 1 ? "repeat \(f.repetition + 1) " : "") + "fold \(f.fold + 1)",
                                repetition: f.repetition, train: f.train, test: f.test)
            }
            cvPlan = plan.summary
            design = "\(splits.folds)-fold cross-validation" + (splits.repeats > 1 ? " × \(splits.repeats) repeats" : "")
                + ", stratified on '\(roles.target)'" + (roles.id.map { ", grouped by '\($0)' (no customer on both sides)" } ?? "")
                + ", seed \(splits.seed)"
        }
        let comparison = try Comparison.run(
            table: table, rows: rows, excluded: excluded, roles: roles, naValues: naValues, candidates: candidates,
            splits: evaluationSplits, design: design, bands: bands, options: options,
            seed: splits.seed, progress: progress)
        return ComparisonOutput(comparison: comparison, timeFolds: timePlan, crossValidation: cvPlan)
    }
}
