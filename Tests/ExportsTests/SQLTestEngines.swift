import Foundation
import TestSupport

// The two SQL engines the SQL export is proved on: SQLite through python3's sqlite3 module (the
// system libsqlite3; python3 is on every CI machine, the sqlite3 CLI need not be) and a throwaway
// PostgreSQL server started from the Debian packages' binaries. Nothing is skipped: a missing engine
// fails the test and says how to install it.

struct SQLTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A table to load into both engines: typed columns and cells.
struct SQLTestTable {
    enum ColumnType: String { case real = "DOUBLE PRECISION", text = "TEXT", integer = "INTEGER" }
    enum Cell: Equatable { case null, number(Double), text(String), integer(Int64) }

    var name: String
    var columns: [(name: String, type: ColumnType)]
    var rows: [[Cell]]

    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    var createStatement: String {
        "CREATE TABLE \(Self.quoted(name)) (" + columns.map { "\(Self.quoted($0.name)) \($0.type.rawValue)" }.joined(separator: ", ") + ")"
    }

    /// CSV for PostgreSQL's COPY: NULL is an unquoted empty field, text is always quoted.
    func csv() -> String {
        func field(_ c: Cell) -> String {
            switch c {
            case .null: return ""
            case .integer(let i): return String(i)
            case .text(let s): return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            case .number(let x):
                if x.isNaN { return "NaN" }
                if x.isInfinite { return x > 0 ? "Infinity" : "-Infinity" }
                return "\(x)"  // shortest round-trip; float8in (strtod) reads it back exactly
            }
        }
        var out = columns.map { Self.quotedCSV($0.name) }.joined(separator: ",") + "\n"
        for row in rows { out += row.map(field).joined(separator: ",") + "\n" }
        return out
    }

    static func quotedCSV(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// JSON for the python loader (python's json reads `Infinity`, `-Infinity` and `NaN`).
    func json() -> String {
        func string(_ s: String) -> String { jsonStringLiteral(s) }
        func value(_ c: Cell) -> String {
            switch c {
            case .null: return "null"
            case .integer(let i): return String(i)
            case .text(let s): return string(s)
            case .number(let x):
                if x.isNaN { return "NaN" }
                if x.isInfinite { return x > 0 ? "Infinity" : "-Infinity" }
                return "\(x)"  // python's float() reads the shortest round-trip form exactly
            }
        }
        let rowsJSON = rows.map { "[" + $0.map(value).joined(separator: ",") + "]" }.joined(separator: ",\n")
        let marks = columns.map { _ in "?" }.joined(separator: ", ")
        return "{\"create\": \(string(createStatement)),\n\"insert\": \(string("INSERT INTO \(Self.quoted(name)) VALUES (\(marks))")),\n\"rows\": [\n\(rowsJSON)\n]}\n"
    }
}

/// A query's result as text cells (nil for NULL), with the column names.
struct SQLTestResult {
    var engine: String
    var header: [String]
    var rows: [[String?]]
}

enum SQLTestProcess {
    struct Output { var status: Int32; var stdout: String; var stderr: String }

    /// Runs a program to completion; output goes through files, so a server the program leaves
    /// running (pg_ctl start) cannot hold a pipe open.
    static func run(_ executable: String, _ arguments: [String], in directory: URL, stdin: URL? = nil,
                    environment: [String: String] = [:]) throws -> Output {
        let id = UUID().uuidString
        let outURL = directory.appendingPathComponent("out-\(id).txt"), errURL = directory.appendingPathComponent("err-\(id).txt")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) } else { process.standardInput = FileHandle.nullDevice }
        try process.run()
        process.waitUntilExit()
        try out.close(); try err.close()
        return Output(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    static func executable(_ candidates: [String]) -> String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `name` on PATH.
    static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return executable(path.split(separator: ":").map { "\($0)/\(name)" })
    }
}

/// Tab-separated output with a header line; `<NULL>` marks NULL.
func parseSQLTestOutput(_ text: String, engine: String) -> SQLTestResult {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    while let last = lines.last, last.isEmpty { lines.removeLast() }
    guard let header = lines.first else { return SQLTestResult(engine: engine, header: [], rows: []) }
    let rows = lines.dropFirst().map { line in
        line.split(separator: "\t", omittingEmptySubsequences: false).map { $0 == "<NULL>" ? nil : String($0) }
    }
    return SQLTestResult(engine: engine, header: header.split(separator: "\t", omittingEmptySubsequences: false).map(String.init), rows: rows)
}

/// Python that turns the cursor `cur` into `out`: a header line, then tab-separated rows, `<NULL>`
/// for NULL and `repr` for floats (every digit); shared by the SQLite and DuckDB drivers.
let resultLines = #"out = ["\t".join(d[0] for d in cur.description)] + ["\t".join("<NULL>" if v is None else repr(v) if isinstance(v, float) else str(v) for v in row) for row in cur.fetchall()]"#

/// SQLite through python3's sqlite3 module: a fresh in-memory database per query.
enum SQLTestSQLite {
    static let script = #"""
    import json, sqlite3, sys
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    sql = open(sys.argv[2], encoding="utf-8").read()
    con = sqlite3.connect(":memory:")
    try:
        con.execute("SELECT ln(2.0), exp(1.0), sqrt(2.0), floor(1.5)").fetchone()
    except sqlite3.OperationalError as e:
        sys.stderr.write("SQLite %s lacks its math functions (%s): the SQL export needs a libsqlite3 built with SQLITE_ENABLE_MATH_FUNCTIONS\n" % (sqlite3.sqlite_version, e))
        sys.exit(3)
    con.execute(spec["create"])
    con.executemany(spec["insert"], spec["rows"])
    cur = con.execute(sql)
    \#(resultLines)
    sys.stderr.write("sqlite " + sqlite3.sqlite_version + "\n")
    sys.stdout.write("\n".join(out) + "\n")
    """#

    static func python() throws -> String {
        guard let p = SQLTestProcess.executable(["/usr/bin/python3"]) ?? SQLTestProcess.onPath("python3") else {
            throw SQLTestError("python3 is needed to drive SQLite for the SQL export tests; run .ci/setup")
        }
        return p
    }

    /// Loads the table into a fresh in-memory database and runs the query.
    static func run(_ sql: String, table: SQLTestTable, in directory: URL) throws -> (result: SQLTestResult, version: String) {
        let id = UUID().uuidString
        let scriptURL = directory.appendingPathComponent("sqlite-\(id).py")
        let specURL = directory.appendingPathComponent("sqlite-\(id).json")
        let sqlURL = directory.appendingPathComponent("sqlite-\(id).sql")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        try table.json().write(to: specURL, atomically: true, encoding: .utf8)
        try sql.write(to: sqlURL, atomically: true, encoding: .utf8)
        let out = try SQLTestProcess.run(try python(), [scriptURL.path, specURL.path, sqlURL.path], in: directory)
        guard out.status == 0 else {
            throw SQLTestError("SQLite (python3 sqlite3) failed with status \(out.status): \(out.stderr)")
        }
        let version = out.stderr.split(separator: "\n").first { $0.hasPrefix("sqlite ") }.map(String.init) ?? "sqlite ?"
        return (parseSQLTestOutput(out.stdout, engine: "SQLite"), version)
    }
}

/// A throwaway PostgreSQL server: its own data directory and socket directory under a temporary
/// directory, Unix socket only (no TCP), trust authentication, stopped by `stop()`.
final class SQLTestPostgres {
    let bin: String
    let root: URL
    let data: URL
    let port: Int
    let runAs: [String]  // runuser prefix when running as root (postgres refuses to run as root)
    private var running = false
    private(set) var version = ""

    /// The newest /usr/lib/postgresql/N/bin with initdb, pg_ctl and psql.
    static func binaries() -> String? {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [])
            .compactMap { Int($0) }.sorted(by: >)
        for v in versions {
            let dir = "\(base)/\(v)/bin"
            if ["initdb", "pg_ctl", "psql", "postgres"].allSatisfy({ FileManager.default.isExecutableFile(atPath: "\(dir)/\($0)") }) {
                return dir
            }
        }
        return nil
    }

    init(in directory: URL) throws {
        guard let bin = Self.binaries() else {
            throw SQLTestError("PostgreSQL server binaries not found (looked for /usr/lib/postgresql/*/bin/initdb): the SQL export is tested in a real PostgreSQL server — run .ci/setup (it installs the postgresql package)")
        }
        self.bin = bin
        root = directory.appendingPathComponent("pg")
        data = root.appendingPathComponent("data")
        port = Int.random(in: 20_000...60_000)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        if getuid() == 0 {
            guard let runuser = SQLTestProcess.executable(["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]) else {
                throw SQLTestError("running as root and runuser (util-linux) is missing: cannot start PostgreSQL as the postgres user")
            }
            guard getpwnam("postgres") != nil else {
                throw SQLTestError("running as root and there is no 'postgres' user to run the server: run .ci/setup (the postgresql package creates it)")
            }
            runAs = [runuser, "-u", "postgres", "--"]
            let chown = try SQLTestProcess.run("/bin/chown", ["postgres:postgres", root.path], in: directory)
            guard chown.status == 0 else { throw SQLTestError("chown postgres \(root.path) failed: \(chown.stderr)") }
        } else {
            runAs = []
        }
        try start()
    }

    /// Runs a server tool (as postgres when we are root) with every inherited descriptor above 2
    /// closed: Foundation's Process learns of a child's exit from a socket the child inherits, and
    /// the server pg_ctl leaves running would otherwise hold it open forever.
    private func server(_ tool: String, _ arguments: [String]) throws -> SQLTestProcess.Output {
        let closeAndRun = #"for fd in /proc/self/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done; exec "$@""#
        let command = ["-c", closeAndRun, "bash"] + runAs + ["\(bin)/\(tool)"] + arguments
        return try SQLTestProcess.run(Self.bash, command, in: root)
    }

    static var bash: String { SQLTestProcess.executable(["/bin/bash", "/usr/bin/bash"]) ?? "/bin/bash" }

    private func start() throws {
        let initdb = try server("initdb", ["-D", data.path, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        guard initdb.status == 0 else { throw SQLTestError("initdb failed (\(initdb.status)): \(initdb.stderr)\(initdb.stdout)") }
        let log = root.appendingPathComponent("server.log")
        let options = "-p \(port) -k \(root.path) -c listen_addresses='' -c fsync=off -c shared_buffers=16MB -c max_connections=10"
        let started = try server("pg_ctl", ["-D", data.path, "-l", log.path, "-w", "-t", "180", "-o", options, "start"])
        guard started.status == 0 else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw SQLTestError("pg_ctl start failed (\(started.status)): \(started.stderr)\n\(text)")
        }
        running = true
        version = try psql(["-A", "-t", "-c", "SHOW server_version"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        guard running else { return }
        running = false
        _ = try? server("pg_ctl", ["-D", data.path, "-m", "immediate", "-w", "stop"])
    }

    deinit { stop() }

    /// psql as the postgres superuser over the private socket; stops at the first error.
    @discardableResult
    func psql(_ arguments: [String], stdin: URL? = nil) throws -> String {
        let base = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", root.path, "-p", String(port), "-U", "postgres", "-d", "postgres"]
        let out = try SQLTestProcess.run("\(bin)/psql", base + arguments, in: root, stdin: stdin, environment: ["PGCONNECT_TIMEOUT": "30"])
        guard out.status == 0 else { throw SQLTestError("psql failed (\(out.status)): \(out.stderr)") }
        return out.stdout
    }

    /// Creates the table (dropping any earlier one of that name) and COPYs the rows in.
    func load(_ table: SQLTestTable, in directory: URL) throws {
        let csvURL = directory.appendingPathComponent("pg-\(UUID().uuidString).csv")
        try table.csv().write(to: csvURL, atomically: true, encoding: .utf8)
        let name = SQLTestTable.quoted(table.name)
        try psql(["-c", "DROP TABLE IF EXISTS \(name)", "-c", table.createStatement])
        try psql(["-c", "COPY \(name) FROM STDIN WITH (FORMAT csv, HEADER true)"], stdin: csvURL)
    }

    func query(_ sql: String, in directory: URL) throws -> SQLTestResult {
        let sqlURL = directory.appendingPathComponent("pg-\(UUID().uuidString).sql")
        try sql.write(to: sqlURL, atomically: true, encoding: .utf8)
        let text = try psql(["-A", "-F", "\t", "-P", "footer=off", "-P", "null=<NULL>", "-f", sqlURL.path])
        return parseSQLTestOutput(text, engine: "PostgreSQL")
    }
}

/// DuckDB through the `duckdb` Python package of the test venv (.ci/setup-tests): the table is
/// written to a Parquet file and the query reads it through a view, as an analyst scores an export
/// in place.
enum SQLTestDuckDB {
    static let script = #"""
    import json, os, sys
    import duckdb
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    sql = open(sys.argv[2], encoding="utf-8").read()
    name = spec["name"]
    quoted = '"' + name.replace('"', '""') + '"'
    parquet = os.path.abspath(sys.argv[3])
    con = duckdb.connect()
    con.execute(spec["create"])
    if spec["rows"]:
        con.executemany(spec["insert"], spec["rows"])
    con.execute("COPY " + quoted + " TO '" + parquet.replace("'", "''") + "' (FORMAT parquet)")
    con.execute("DROP TABLE " + quoted)
    con.execute("CREATE VIEW " + quoted + " AS SELECT * FROM read_parquet('" + parquet.replace("'", "''") + "')")
    cur = con.execute(sql)
    \#(resultLines)
    sys.stderr.write("duckdb " + duckdb.__version__ + "\n")
    sys.stdout.write("\n".join(out) + "\n")
    """#

    static var python: URL { Fixtures.packageRoot.appendingPathComponent(".build-py/venv/bin/python") }

    static func run(_ sql: String, table: SQLTestTable, in directory: URL) throws -> (result: SQLTestResult, version: String) {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw SQLTestError("no Python venv at \(python.path): run .ci/setup-tests (it installs duckdb into .build-py/venv) before the SQL export tests")
        }
        let id = UUID().uuidString
        let scriptURL = directory.appendingPathComponent("duckdb-\(id).py")
        let specURL = directory.appendingPathComponent("duckdb-\(id).json")
        let sqlURL = directory.appendingPathComponent("duckdb-\(id).sql")
        let parquetURL = directory.appendingPathComponent("duckdb-\(id).parquet")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        var spec = table.json()
        spec.removeLast(2)  // "}\n": the table's name joins the spec
        spec += ",\n\"name\": \(jsonStringLiteral(table.name))}\n"
        try spec.write(to: specURL, atomically: true, encoding: .utf8)
        try sql.write(to: sqlURL, atomically: true, encoding: .utf8)
        let out = try SQLTestProcess.run(python.path, [scriptURL.path, specURL.path, sqlURL.path, parquetURL.path], in: directory)
        guard out.status == 0 else {
            throw SQLTestError("DuckDB (python duckdb) failed with status \(out.status): \(out.stderr)")
        }
        let version = out.stderr.split(separator: "\n").first { $0.hasPrefix("duckdb ") }.map(String.init) ?? "duckdb ?"
        return (parseSQLTestOutput(out.stdout, engine: "DuckDB"), version)
    }
}
