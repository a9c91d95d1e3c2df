import Foundation
import ScoringCore
import Tabular
import Support

/// A CSV file scored piece by piece: each piece is parsed (only the columns needed), scored on
/// every core and handed over in file order, so memory follows the piece size, not the file.
public enum ScoreFile {
    public struct Options: Sendable {
        public var reasons = 3
        /// Every metric's points per row, for callers that show all of them.
        public var contributions = false
        /// With `contributions`: in log-odds (term less its average) rather than points.
        public var contributionsInLogOdds = false
        /// Columns read as text and handed over with each piece (id, snapshot time, `--keep`).
        public var textColumns: [String] = []
        /// Columns read as they come (numbers where the cells are numbers), e.g. revenue.
        public var otherColumns: [String] = []
        /// All or nothing: the first row that cannot be scored fails the file.
        public var strict = false
        public var chunkBytes = 8 << 20
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public init() {}
    }

    /// One piece: its rows are records `firstRecord + 1 …` of the file.
    public struct Piece {
        public let table: RawTable
        public let firstRecord: Int
        /// The plan's inputs, in its order.
        public let columns: [PlanColumn?]
        public let scored: ScoredRows
        public var rowCount: Int { table.rowCount }
        /// Physical line of row `i` (0-based) of the piece.
        public func line(ofRow i: Int) -> Int { table.line(ofRecord: i + 1) }
    }

    public static func csvOptions(model: ModelArtifact, plan: ScoringPlan, options: Options) -> CSVOptions {
        var csv = CSVOptions()
        csv.naValues = Set(model.schema.naValues)
        csv.numberFormat = model.schema.numberFormat ?? .plain
        csv.allowsEmptyColumns = true
        csv.textColumns = Set(model.schema.features.filter { $0.kind == .categorical }.map(\.column) + options.textColumns)
        csv.onlyColumns = Set(plan.inputs + options.textColumns + options.otherColumns)
        return csv
    }

    /// Scores `path` and returns the tally of unscored rows. A column the model needs and the file
    /// lacks, a named key column the file lacks, or (with `strict`) an unscorable row is an error.
    @discardableResult
    public static func run(path: String, model: ModelArtifact, plan: ScoringPlan, options: Options,
                           _ body: (Piece) throws -> Void) throws -> ProblemTally {
        var csv = csvOptions(model: model, plan: plan, options: options)
        var tally = ProblemTally()
        var checked = false
        // Two stages on two threads: this one parses piece n + 1 while the caller's thread scores
        // and writes piece n (each stage on one core; pieces stay in file order).
        let pipelined = options.threads > 1
        if pipelined { csv.threads = 1 }
        func handle(_ table: RawTable, _ firstRecord: Int) throws {
            if !checked {
                try checkColumns(table.columns.map(\.name) + table.skippedColumns, path: path, options: options)
                checked = true
            }
            let columns: [PlanColumn?] = plan.inputs.map { name in
                table.column(named: name).map { c in
                    switch c.values {
                    case .numeric(let v): return .numbers(v)
                    case .text(let codes, let levels): return .coded(codes: codes, levels: levels)
                    }
                }
            }
            let scored: ScoredRows
            do {
                scored = try plan.score(columns, rowCount: table.rowCount, reasons: options.reasons,
                                        contributions: options.contributions,
                                        contributionsInLogOdds: options.contributionsInLogOdds, threads: options.threads)
            } catch let e as Diagnostic {
                throw Diagnostic(.data, file: path, column: e.column, problem: e.problem, fix: e.fix)
            }
            if let first = scored.problems.first, tally.firstError == nil || options.strict {
                let e = first.error(knownLevels: plan.levels(ofColumn: first.column))
                let error = Diagnostic(.data, file: path, row: firstRecord + first.row + 1, line: table.line(ofRecord: first.row + 1),
                                      column: e.column, problem: e.problem, fix: e.fix)
                if options.strict {
                    var strict = error
                    strict.fix += " (or score without --strict: such rows are marked unscored and the rest scored)"
                    throw strict
                }
                tally.firstError = error
            }
            for p in scored.problems {
                tally.add(p, record: firstRecord + p.row + 1, line: table.line(ofRecord: p.row + 1))
            }
            for s in plan.substitutedLevels(columns) {
                tally.substituted(column: s.column, level: s.level, rows: s.rows, record: firstRecord + s.firstRow + 1,
                                  line: table.line(ofRecord: s.firstRow + 1))
            }
            tally.rows += table.rowCount
            try body(Piece(table: table, firstRecord: firstRecord, columns: columns, scored: scored))
        }
        if pipelined {
            let csv = csv
            try PiecePipeline.run(produce: { emit in
                try CSVReader.readChunks(path: path, options: csv, chunkBytes: options.chunkBytes) { try emit(($0, $1)) }
            }, consume: { try handle($0.0, $0.1) })
        } else {
            try CSVReader.readChunks(path: path, options: csv, chunkBytes: options.chunkBytes, handle)
        }
        return tally
    }

    /// A key or pass-through column that is not in the header `names`, named with the closest one.
    public static func checkColumns(_ names: [String], path: String, options: Options) throws {
        for name in options.textColumns + options.otherColumns where !names.contains(name) {
            let near = closestName(to: name, among: names).map { "did you mean '\($0)'? " } ?? ""
            throw Diagnostic(.data, file: path, column: name, problem: "no such column in the file",
                            fix: "\(near)name a column of the header (\(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", …" : ""))")
        }
    }
}

/// Unscored rows counted per column and kind of problem, with the first rows of each.
public struct ProblemTally: Sendable {
    public struct Entry: Sendable {
        public var column: String
        public var kind: RowProblem.Kind
        public var count = 0
        /// (record, line) of the first few.
        public var first: [(record: Int, line: Int)] = []
        /// The first offending value.
        public var example: RowProblem
    }
    public private(set) var entries: [Entry] = []
    public var rows = 0
    /// The first unscored row as an error naming file, row, line and column.
    public var firstError: Diagnostic?
    /// Scored rows whose category level the model never saw, scored by the unseen-level policy: per
    /// column, the rows, the distinct levels and the first one's place.
    public private(set) var substitutions: [(column: String, rows: Int, levels: [String], record: Int, line: Int)] = []

    mutating func substituted(column: String, level: String, rows: Int, record: Int, line: Int) {
        if let k = substitutions.firstIndex(where: { $0.column == column }) {
            substitutions[k].rows += rows
            if !substitutions[k].levels.contains(level) { substitutions[k].levels.append(level) }
        } else {
            substitutions.append((column, rows, [level], record, line))
        }
    }
    public var unscored: Int { entries.reduce(0) { $0 + $1.count } }
    public var scored: Int { rows - unscored }

    mutating func add(_ p: RowProblem, record: Int, line: Int) {
        if let k = entries.firstIndex(where: { $0.column == p.column && $0.kind == p.kind }) {
            entries[k].count += 1
            if entries[k].first.count < 5 { entries[k].first.append((record, line)) }
        } else {
            entries.append(Entry(column: p.column, kind: p.kind, count: 1, first: [(record, line)], example: p))
        }
    }

    /// One line per column whose unseen levels were scored as another level.
    public func substitutionLines(path: String, plan: ScoringPlan) -> [String] {
        let scoredAs = plan.unknownLevels == .reference ? "the reference level" : "the pooled rare levels '(other)' (the reference level where the column has no pool)"
        return substitutions.map { s in
            let shown = s.levels.prefix(5).map { "'\($0)'" }.joined(separator: ", ") + (s.levels.count > 5 ? ", …" : "")
            return "\(path): \(s.rows) scored row\(s.rows == 1 ? " has" : "s have") a '\(s.column)' level the model never saw (\(shown); first at row \(s.record) (line \(s.line))), scored as \(scoredAs) by --unknown-level \(plan.unknownLevels.rawValue). Fix: map them to known levels (\(Scorer.preview(plan.levels(ofColumn: s.column)))), or score with --unknown-level error to mark such rows unscored"
        }
    }

    /// One line per kind of problem, for standard error: what, how many, where, and the fix.
    public func lines(path: String, plan: ScoringPlan) -> [String] {
        entries.map { e in
            let rows = e.first.map { "\($0.record) (line \($0.line))" }.joined(separator: ", ")
                + (e.count > e.first.count ? " and \(e.count - e.first.count) more" : "")
            let what: String
            switch e.kind {
            case .missing: what = "'\(e.column)' is missing"
            case .unseenLevel: what = "'\(e.column)' has a level the model never saw (first: '\(e.example.value)')"
            case .outsideDomain: what = "'\(e.column)' is outside the domain of its \(e.example.transforms) transform (first: \(e.example.value))"
            case .notANumber: what = "'\(e.column)' is not a number (first: '\(e.example.value)')"
            case .infinite: what = "'\(e.column)' is infinite"
            }
            let fix = e.example.error(knownLevels: plan.levels(ofColumn: e.column)).fix
            return "\(path): \(e.count) row\(e.count == 1 ? "" : "s") unscored: \(what); rows \(rows). Fix: \(fix); --strict refuses the whole file instead."
        }
    }
}
