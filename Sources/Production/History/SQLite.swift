import CSQLite
import Foundation

/// SQLite's "copy the bytes now" destructor for bound text.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A thin owner of one sqlite3 connection: open, exec, prepare, transactions. Errors carry the
/// database path and SQLite's own message, turned into a fix where the cause is known.
final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String

    /// `readOnly`: the file must exist; otherwise it is created when missing.
    init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int32 = 10_000) throws {
        var db: OpaquePointer?
        // A connection is used by one thread at a time, so SQLite's per-call mutex is only cost
        // (17% of a trend over a million customers).
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close(db) }
            throw HistoryError(path: path, problem: "cannot open the score history (\(message))",
                               fix: readOnly ? "check the path; runs are recorded by 'healthscore score MODEL DATA --db PATH --as-of DATE'"
                                             : "check the directory exists and is writable")
        }
        handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit { sqlite3_close_v2(handle) }

    /// SQL without results (several statements allowed).
    func exec(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard rc == SQLITE_OK else {
            throw error(rc, message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle)))
        }
    }

    func prepare(_ sql: String) throws -> SQLiteStatement {
        try SQLiteStatement(self, sql)
    }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT (the write lock is taken up front, waiting up to
    /// the busy timeout for other writers); any error rolls everything back.
    /// `beforeCommit` runs last inside the transaction (its error rolls back); `commitFailed` runs
    /// when COMMIT itself fails, so whatever `beforeCommit` did outside the database can be undone.
    func writeTransaction<T>(_ body: () throws -> T, beforeCommit: () throws -> Void = {},
                             commitFailed: () -> Void = {}) throws -> T {
        try exec("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try beforeCommit()
            do { try exec("COMMIT") } catch { commitFailed(); throw error }
            return value
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { try? exec("ROLLBACK") }
            throw error
        }
    }

    /// A read transaction: both runs of a trend come from one consistent snapshot.
    func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try exec("BEGIN")
        defer { if sqlite3_get_autocommit(handle) == 0 { try? exec("COMMIT") } }
        return try body()
    }

    /// An error for a result code, with the fix for the causes users meet.
    func error(_ rc: Int32, _ message: String) -> HistoryError {
        let primary = rc & 0xff
        let fix: String
        switch primary {
        case SQLITE_BUSY, SQLITE_LOCKED:
            fix = "another process holds the database — a 'healthscore score --db' writing, or a reader such as 'healthscore trend' or an open sqlite3 shell in a transaction; retry when it has finished"
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            fix = "pass a score history written by 'healthscore score --db' (this file is not one, or is damaged)"
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN:
            fix = "check the file and its directory are writable"
        case SQLITE_FULL, SQLITE_IOERR:
            fix = "free disk space, then rerun the same command: the run is written whole or not at all"
        default:
            fix = "rerun the command; if it persists, report it with the database file"
        }
        return HistoryError(path: path, problem: "SQLite error \(rc): \(message)", fix: fix)
    }

    /// The message of the last failed call.
    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }
}

/// One prepared statement: bind (1-based), step, read columns (0-based), reset.
final class SQLiteStatement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection

    init(_ connection: SQLiteConnection, _ sql: String) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(connection.handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw connection.error(rc, connection.lastMessage) }
        handle = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    func bind(_ index: Int32, _ value: String?) {
        if let value { sqlite3_bind_text(handle, index, value, -1, transient) } else { sqlite3_bind_null(handle, index) }
    }

    /// NaN binds as NULL (SQLite stores no NaN), so NOT NULL columns refuse it.
    func bind(_ index: Int32, _ value: Double?) {
        if let value, !value.isNaN { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Bytes as a BLOB (an empty array as NULL).
    func bind(_ index: Int32, _ value: [UInt8]) {
        if value.isEmpty { sqlite3_bind_null(handle, index); return }
        value.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
    }

    func blob(_ column: Int32) -> [UInt8] {
        guard sqlite3_column_type(handle, column) == SQLITE_BLOB, let p = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, column))))
    }

    func bind(_ index: Int32, _ value: Int?) {
        if let value { sqlite3_bind_int64(handle, index, sqlite3_int64(value)) } else { sqlite3_bind_null(handle, index) }
    }

    /// True when a row is ready, false when done. Throws with the result code.
    @discardableResult
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteStepError(code: rc, message: connection.lastMessage)
        }
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func text(_ column: Int32) -> String? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL, let p = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: p)
    }

    func double(_ column: Int32) -> Double? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_double(handle, column)
    }

    func int(_ column: Int32) -> Int? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : Int(sqlite3_column_int64(handle, column))
    }
}

/// A failed step, kept raw so the caller can tell a constraint (a duplicate customer) from the rest.
struct SQLiteStepError: Error {
    var code: Int32
    var message: String
    var isConstraint: Bool { code & 0xff == SQLITE_CONSTRAINT }
}

extension SQLiteConnection {
    /// Steps a statement to completion, turning a failure into a `HistoryError`.
    func run(_ statement: SQLiteStatement) throws {
        do {
            while try statement.step() {}
        } catch let e as SQLiteStepError {
            throw error(e.code, e.message)
        }
    }

    /// The first column of the first row, as an integer.
    func scalarInt(_ sql: String, _ binds: [String] = []) throws -> Int? {
        let s = try prepare(sql)
        for (i, b) in binds.enumerated() { s.bind(Int32(i + 1), b) }
        do {
            return try s.step() ? s.int(0) : nil
        } catch let e as SQLiteStepError {
            throw error(e.code, e.message)
        }
    }
}
