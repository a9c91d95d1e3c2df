import CSQLite
import Foundation
import ScoringCore

/// The score history file. Open it for writing to record runs, or read-only to compare them.
///
/// Schema (version 2, `PRAGMA user_version`; `application_id` marks the file as ours; a version 1
/// file, without the per-metric points, is read as it is and upgraded when a run is written):
///
///     runs   — one row per scoring run, keyed by its as-of date
///     scores — one row per customer per run, keyed by (as_of, customer_id)
///
/// A run is written in one transaction (BEGIN IMMEDIATE … COMMIT) that first deletes any earlier
/// run of the same as-of date: rerunning a job replaces it whole, and a failure part-way leaves the
/// database exactly as it was.
public final class HistoryDatabase {
    public static let schemaVersion = 2
    /// "HSH1": the application id written in the file header.
    public static let applicationID: Int32 = 0x4853_4831

    public let path: String
    public let readOnly: Bool
    let connection: SQLiteConnection

    static let schemaSQL = """
        CREATE TABLE runs (
            as_of          TEXT PRIMARY KEY NOT NULL
                           CHECK (length(as_of) = 10 AND as_of GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
            model_checksum TEXT NOT NULL,
            model_file     TEXT NOT NULL,
            data_file      TEXT,
            id_column      TEXT NOT NULL,
            revenue_column TEXT,
            late_column    TEXT,
            scale          TEXT NOT NULL,
            bands          TEXT NOT NULL DEFAULT '[]',   -- JSON array of band labels, best first
            scored_at      TEXT NOT NULL,                -- ISO 8601 UTC
            row_count      INTEGER NOT NULL CHECK (row_count >= 0),
            metrics        TEXT NOT NULL DEFAULT '[]'    -- JSON array of {metric, name, kind, levels}: scores.metric_points' order
        );
        CREATE TABLE scores (
            as_of             TEXT NOT NULL REFERENCES runs(as_of) ON DELETE CASCADE,
            customer_id       TEXT NOT NULL,
            churn_probability REAL NOT NULL CHECK (churn_probability >= 0 AND churn_probability <= 1),
            health_score      REAL NOT NULL,
            band              TEXT,
            band_rank         INTEGER CHECK (band_rank >= 0),   -- 0 = best band
            reasons           TEXT NOT NULL DEFAULT '[]',       -- JSON array of {metric, displayName, value, points}
            revenue           REAL,                             -- annual contract value (--revenue)
            days_late         REAL,                             -- days late on invoices (--late)
            metric_points     BLOB,                             -- per metric of the run: float32 points, float32 value (MetricRecorder)
            PRIMARY KEY (as_of, customer_id)
        ) WITHOUT ROWID;
        CREATE INDEX scores_by_customer ON scores(customer_id, as_of);
        \(unscoredSQL)
        """

    /// Customers of a run the model could not score, with the short problem (`score` marks them
    /// status=unscored): a customer there is in the run, not gone.
    static let unscoredSQL = """
        CREATE TABLE IF NOT EXISTS unscored (
            as_of       TEXT NOT NULL REFERENCES runs(as_of) ON DELETE CASCADE,
            customer_id TEXT NOT NULL,
            problem     TEXT NOT NULL,                     -- e.g. "csat missing", "plan unseen level 'x'"
            PRIMARY KEY (as_of, customer_id)
        ) WITHOUT ROWID;
        """

    /// `readOnly`: the file must exist and be a score history. Otherwise it is created (with the
    /// schema) when missing or empty.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        self.readOnly = readOnly
        if readOnly {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw HistoryError(path: path, problem: "no such score history",
                                   fix: "record runs first with 'healthscore score MODEL DATA --db \(path) --as-of YYYY-MM-DD'")
            }
        }
        if readOnly { try Self.recoverInterruptedWrite(path) }
        connection = try SQLiteConnection(path: path, readOnly: readOnly)
        try connection.exec("PRAGMA foreign_keys = ON")
        try prepareSchema()
    }

    /// A run killed mid-write leaves a hot journal that only a writer may roll back; a read-only
    /// open would then fail with "readonly database". Roll it back here (opening for writing and
    /// reading once does that), or say how.
    static func recoverInterruptedWrite(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path + "-journal") else { return }
        do {
            let writer = try SQLiteConnection(path: path, readOnly: false)
            _ = try writer.scalarInt("SELECT count(*) FROM sqlite_master")
        } catch {
            throw HistoryError(path: path, problem: "a scoring run was interrupted while writing the history and left \(path)-journal, which only a writer can roll back (\(error))",
                               fix: "rerun 'healthscore score … --db \(path)' (it recovers the file), or run this command as a user who may write to \((path as NSString).deletingLastPathComponent)")
        }
    }

    /// Checks the file is ours and of a version this build reads; creates the schema in a new file.
    /// The checks run inside a transaction (a write transaction when opened for writing), so two
    /// processes creating the same new file cannot see it half made.
    private func prepareSchema() throws {
        if readOnly {
            try connection.readTransaction { try checkSchema() }
        } else {
            try connection.writeTransaction { try checkSchema() }
        }
    }

    private func checkSchema() throws {
        let version = try connection.scalarInt("PRAGMA user_version") ?? 0
        let application = try connection.scalarInt("PRAGMA application_id") ?? 0
        if version == 0 && application == 0 {
            let tables = try connection.scalarInt("SELECT count(*) FROM sqlite_master") ?? 0
            guard tables == 0 else { throw notOurs() }
            guard !readOnly else {
                throw HistoryError(path: path, problem: "the score history holds no runs",
                                   fix: "record runs first with 'healthscore score MODEL DATA --db \(path) --as-of YYYY-MM-DD'")
            }
            try connection.exec(Self.schemaSQL)
            try connection.exec("PRAGMA application_id = \(Self.applicationID); PRAGMA user_version = \(Self.schemaVersion)")
            return
        }
        guard application == Int(Self.applicationID) else { throw notOurs() }
        guard version <= Self.schemaVersion else {
            throw HistoryError(path: path, problem: "score history schema version \(version) is newer than this build reads (\(Self.schemaVersion))",
                               fix: "upgrade healthscore")
        }
        storedVersion = version
        if version == 1 && !readOnly {
            try connection.exec("""
                ALTER TABLE runs ADD COLUMN metrics TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE scores ADD COLUMN metric_points BLOB;
                \(Self.unscoredSQL)
                PRAGMA user_version = \(Self.schemaVersion)
                """)
            storedVersion = Self.schemaVersion
        }
    }

    /// The file's schema version once opened (a read-only version 1 file stays 1: no metric points).
    private var storedVersion = HistoryDatabase.schemaVersion

    private func notOurs() -> HistoryError {
        HistoryError(path: path, problem: "this SQLite database is not a healthscore score history",
                     fix: "pass a new file name, or a database written by 'healthscore score --db'")
    }

    // MARK: - Writing

    /// What `record` did.
    public struct RecordOutcome: Sendable, Equatable {
        /// The row count of the run it replaced, nil when the date was new.
        public var replacedRows: Int?
        public var rows: Int
    }

    /// Writes a run and its scores in one transaction, replacing any run of the same as-of date.
    /// A customer id that occurs twice is an error naming the id and its rows (1-based positions in
    /// `scores`); then nothing is changed. `beforeCommit` runs inside the transaction once the
    /// scores are in (its error leaves the history unchanged); `commitFailed` if COMMIT then fails.
    @discardableResult
    public func record(_ run: RunInfo, scores: [ScoreRecord], unscored: [UnscoredRecord] = [], beforeCommit: () throws -> Void = {},
                       commitFailed: () -> Void = {}) throws -> RecordOutcome {
        try writeRun(run, beforeCommit: beforeCommit, commitFailed: commitFailed) { writer in
            for (i, s) in scores.enumerated() {
                do {
                    try writer.add(s, row: i + 1)
                } catch let e as HistoryError where e.duplicate != nil {
                    let rows = scores.indices.filter { scores[$0].customerID == s.customerID }.map { $0 + 1 }
                    throw HistoryError(
                        path: path,
                        problem: "customer id '\(s.customerID)' occurs \(rows.count) times in the run as of \(run.asOf) (rows \(rows.map(String.init).joined(separator: ", ")))",
                        fix: e.fix, duplicate: .init(customerID: s.customerID, rows: rows))
                }
            }
            for u in unscored { try writer.add(u) }
        }
    }

    /// Writes a run whose scores `body` hands to the writer one at a time (a file scored piece by
    /// piece), in one transaction that first removes any run of the same as-of date; so memory does
    /// not grow with the run. The run's `metrics` are stored as the writer holds them when `body`
    /// returns. An error anywhere leaves the history as it was.
    @discardableResult
    public func writeRun(_ run: RunInfo, beforeCommit: () throws -> Void = {}, commitFailed: () -> Void = {},
                         _ body: (RunWriter) throws -> Void) throws -> RecordOutcome {
        guard !readOnly else {
            throw HistoryError(path: path, problem: "the score history was opened read-only", fix: "open it for writing")
        }
        try HistoryDate.validate(run.asOf, option: "as-of date")
        return try connection.writeTransaction({
            let replaced = try connection.scalarInt("SELECT row_count FROM runs WHERE as_of = ?", [run.asOf])
            // The scores go with their run (ON DELETE CASCADE); deleted explicitly as well so the
            // replacement does not depend on the foreign-key setting.
            for sql in ["DELETE FROM scores WHERE as_of = ?", "DELETE FROM unscored WHERE as_of = ?", "DELETE FROM runs WHERE as_of = ?"] {
                let s = try connection.prepare(sql)
                s.bind(1, run.asOf)
                try connection.run(s)
            }
            let insertRun = try connection.prepare("""
                INSERT INTO runs (as_of, model_checksum, model_file, data_file, id_column, revenue_column, late_column,
                                  scale, bands, scored_at, row_count, metrics)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '[]')
                """)
            insertRun.bind(1, run.asOf)
            insertRun.bind(2, run.modelChecksum)
            insertRun.bind(3, run.modelFile)
            insertRun.bind(4, run.dataFile)
            insertRun.bind(5, run.idColumn)
            insertRun.bind(6, run.revenueColumn)
            insertRun.bind(7, run.lateColumn)
            insertRun.bind(8, run.scale)
            insertRun.bind(9, Self.json(run.bands))
            insertRun.bind(10, run.scoredAt)
            try connection.run(insertRun)

            let writer = try RunWriter(history: self, asOf: run.asOf, metrics: run.metrics)
            try body(writer)
            let finish = try connection.prepare("UPDATE runs SET row_count = ?, metrics = ? WHERE as_of = ?")
            finish.bind(1, writer.rows)
            finish.bind(2, (try? JSONEncoder().encode(writer.metrics)).map { String(decoding: $0, as: UTF8.self) } ?? "[]")
            finish.bind(3, run.asOf)
            try connection.run(finish)
            let stored = try connection.scalarInt("SELECT count(*) FROM scores WHERE as_of = ?", [run.asOf]) ?? -1
            guard stored == writer.rows else {
                throw HistoryError(path: path, problem: "stored \(stored) scores for \(writer.rows) rows", fix: "rerun the command")
            }
            return RecordOutcome(replacedRows: replaced, rows: writer.rows)
        }, beforeCommit: beforeCommit, commitFailed: commitFailed)
    }

    /// Deletes a run and its scores (in one transaction); false when there was none.
    @discardableResult
    public func deleteRun(asOf: String) throws -> Bool {
        try connection.writeTransaction {
            let existed = try connection.scalarInt("SELECT count(*) FROM runs WHERE as_of = ?", [asOf]) ?? 0
            for sql in ["DELETE FROM scores WHERE as_of = ?", "DELETE FROM unscored WHERE as_of = ?", "DELETE FROM runs WHERE as_of = ?"] {
                let s = try connection.prepare(sql)
                s.bind(1, asOf)
                try connection.run(s)
            }
            return existed > 0
        }
    }

    // MARK: - Reading

    /// Every run, oldest first.
    public func runs() throws -> [RunInfo] {
        let s = try connection.prepare("""
            SELECT as_of, model_checksum, model_file, data_file, id_column, revenue_column, late_column, scale, bands,
                   scored_at, row_count, \(storedVersion >= 2 ? "metrics" : "'[]'")
            FROM runs ORDER BY as_of
            """)
        var out: [RunInfo] = []
        do {
            while try s.step() {
                var run = RunInfo(asOf: s.text(0) ?? "", modelChecksum: s.text(1) ?? "", modelFile: s.text(2) ?? "",
                                  dataFile: s.text(3), idColumn: s.text(4) ?? "", revenueColumn: s.text(5),
                                  lateColumn: s.text(6), scale: s.text(7) ?? "probability",
                                  bands: Self.strings(fromJSON: s.text(8)), scoredAt: s.text(9) ?? "", rowCount: s.int(10) ?? 0)
                run.metrics = s.text(11).flatMap { try? JSONDecoder().decode([MetricName].self, from: Data($0.utf8)) } ?? []
                out.append(run)
            }
        } catch let e as SQLiteStepError { throw connection.error(e.code, e.message) }
        return out
    }

    /// The run of one date, nil when there is none.
    public func run(asOf: String) throws -> RunInfo? {
        try runs().first { $0.asOf == asOf }
    }

    /// The scores of one run, by customer id.
    /// `details: false` leaves out each score's reasons and metric cells (read them per customer with
    /// `detailReader`): a trend over a million customers lists a few thousand.
    public func scores(asOf: String, details: Bool = true) throws -> [ScoreRecord] {
        let s = try connection.prepare("""
            SELECT customer_id, churn_probability, health_score, band, band_rank, \(details ? "reasons" : "NULL"), revenue, days_late,
                   \(details && storedVersion >= 2 ? "metric_points" : "NULL")
            FROM scores WHERE as_of = ? ORDER BY customer_id
            """)
        s.bind(1, asOf)
        var out: [ScoreRecord] = []
        do {
            while try s.step() {
                var record = ScoreRecord(customerID: s.text(0) ?? "", churnProbability: s.double(1) ?? .nan,
                                         healthScore: s.double(2) ?? .nan, band: s.text(3), bandRank: s.int(4),
                                         reasons: ScoreRecord.reasons(fromJSON: s.text(5)), revenue: s.double(6), daysLate: s.double(7))
                record.metricCells = MetricRecorder.cells(s.blob(8))
                out.append(record)
            }
        } catch let e as SQLiteStepError { throw connection.error(e.code, e.message) }
        return out
    }

    /// Reads one customer's reasons and metric cells in the run (empty when the run has no such customer).
    public func detailReader(asOf: String) throws -> (String) throws -> TrendReport.Details {
        let s = try connection.prepare("""
            SELECT reasons, \(storedVersion >= 2 ? "metric_points" : "NULL") FROM scores WHERE as_of = ? AND customer_id = ?
            """)
        return { [connection] id in
            s.bind(1, asOf)
            s.bind(2, id)
            defer { s.reset() }
            do {
                guard try s.step() else { return TrendReport.Details(reasons: [], metricCells: []) }
                return TrendReport.Details(reasons: ScoreRecord.reasons(fromJSON: s.text(0)), metricCells: MetricRecorder.cells(s.blob(1)))
            } catch let e as SQLiteStepError { throw connection.error(e.code, e.message) }
        }
    }

    /// The customers of one run the model could not score, by customer id (none in a version-1 file).
    public func unscored(asOf: String) throws -> [UnscoredRecord] {
        guard storedVersion >= 2 else { return [] }
        let s = try connection.prepare("SELECT customer_id, problem FROM unscored WHERE as_of = ? ORDER BY customer_id")
        s.bind(1, asOf)
        var out: [UnscoredRecord] = []
        do {
            while try s.step() { out.append(UnscoredRecord(customerID: s.text(0) ?? "", problem: s.text(1) ?? "")) }
        } catch let e as SQLiteStepError { throw connection.error(e.code, e.message) }
        return out
    }

    /// Number of score rows of one run (all runs when nil).
    public func scoreCount(asOf: String? = nil) throws -> Int {
        if let asOf { return try connection.scalarInt("SELECT count(*) FROM scores WHERE as_of = ?", [asOf]) ?? 0 }
        return try connection.scalarInt("SELECT count(*) FROM scores") ?? 0
    }

    /// Two runs read from one consistent snapshot, even while another process records a run.
    public func snapshot<T>(_ body: (HistoryDatabase) throws -> T) throws -> T {
        try connection.readTransaction { try body(self) }
    }

    static func json(_ strings: [String]) -> String {
        (try? JSONEncoder().encode(strings)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func strings(fromJSON text: String?) -> [String] {
        guard let text, let data = text.data(using: .utf8) else { return [] }
        return (try? JSONDecoder().decode([String].self, from: data)) ?? []
    }
}

/// The scores of one run as they are written, inside `HistoryDatabase.writeRun`'s transaction.
public final class RunWriter {
    private let history: HistoryDatabase
    private let asOf: String
    private let insertScore: SQLiteStatement
    private let insertUnscored: SQLiteStatement
    /// Scores written so far.
    public private(set) var rows = 0
    /// The run's metrics (with the level texts the scores' metric cells index), stored at the end.
    public var metrics: [MetricName]

    fileprivate init(history: HistoryDatabase, asOf: String, metrics: [MetricName]) throws {
        self.history = history
        self.asOf = asOf
        self.metrics = metrics
        insertScore = try history.connection.prepare("""
            INSERT INTO scores (as_of, customer_id, churn_probability, health_score, band, band_rank, reasons, revenue, days_late,
                                metric_points)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertUnscored = try history.connection.prepare("INSERT INTO unscored (as_of, customer_id, problem) VALUES (?, ?, ?)")
    }

    /// Writes one score; `row` names it in messages. A repeated id is an error with `duplicate` set.
    public func add(_ s: ScoreRecord, row: Int) throws {
        let insert = insertScore
        insert.bind(1, asOf)
        insert.bind(2, s.customerID)
        insert.bind(3, s.churnProbability)
        insert.bind(4, s.healthScore)
        insert.bind(5, s.band)
        insert.bind(6, s.bandRank)
        insert.bind(7, ScoreRecord.reasonsJSON(s.reasons))
        insert.bind(8, s.revenue)
        insert.bind(9, s.daysLate)
        insert.bind(10, MetricRecorder.blob(s.metricCells))
        defer { insert.reset() }
        do {
            try insert.step()
        } catch let e as SQLiteStepError {
            guard e.isConstraint else { throw history.connection.error(e.code, e.message) }
            if try history.connection.scalarInt("SELECT count(*) FROM scores WHERE as_of = ? AND customer_id = ?", [asOf, s.customerID]) ?? 0 > 0 {
                throw HistoryError(path: history.path, problem: "customer id '\(s.customerID)' occurs more than once in the run as of \(asOf) (again at row \(row))",
                                   fix: "score one row per customer: filter the input to one snapshot, or remove the repeated rows",
                                   duplicate: .init(customerID: s.customerID, rows: [row]))
            }
            throw HistoryError(path: history.path, problem: "row \(row) (customer '\(s.customerID)') cannot be stored: \(e.message) (probability \(s.churnProbability), score \(s.healthScore))",
                               fix: "check the model and the row: scores must be finite, probabilities between 0 and 1")
        }
        rows += 1
    }

    /// Records a customer of the run the model could not score, with the problem.
    public func add(_ u: UnscoredRecord) throws {
        let insert = insertUnscored
        insert.bind(1, asOf)
        insert.bind(2, u.customerID)
        insert.bind(3, u.problem)
        defer { insert.reset() }
        do {
            try insert.step()
        } catch let e as SQLiteStepError {
            guard e.isConstraint else { throw history.connection.error(e.code, e.message) }
            throw HistoryError(path: history.path, problem: "customer id '\(u.customerID)' occurs more than once among the unscored rows of the run as of \(asOf)",
                               fix: "score one row per customer: filter the input to one snapshot, or remove the repeated rows")
        }
    }
}
