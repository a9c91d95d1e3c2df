import Foundation
import Testing
import ScoringCore
import Tabular
import TestSupport
import Training
@testable import Exports
import Support

/// The SQL export, run unchanged in SQLite and in a real PostgreSQL server, equals the scoring core:
/// probability to 1e-9 absolute, score to 1e-9 relative, band exactly — on the first 1,000 rows of
/// mlc_churn (plain fit) and of the simulated history (median impute with indicator, log1p / asinh /
/// clip+log1p transforms, a group, pooled rare levels, numbers read as levels, unseen levels scored as
/// (other), rounded scorecard points), on hand-made rows (unseen levels, missing values, ±1e300,
/// the asinh branch points), on a synthetic model with awkward names and rounding knife edges, and
/// on the rows the core refuses (which the SQL returns as NULL).
@Suite(.tags(.postgres, .duckdb), TagSelection.unlessSkipped(.postgres, .duckdb)) struct SQLExportTests {
    static let probabilityTolerance = 1e-9
    static let scoreTolerance = 1e-9

    // MARK: - Models

    /// What production loads: the artifact through its JSON.
    static func reloaded(_ model: ModelArtifact, _ name: String) throws -> ModelArtifact {
        try ModelArtifact.decode(try model.encoded(), path: name)
    }

    static func plainMLC() throws -> ModelArtifact {
        var clock = Timings()
        let result = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock)
        return try reloaded(result.model, "mlc.json")
    }

    static func historySpec() -> FitSpec {
        var roles = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date", missing: .impute)
        roles.impute = .median
        roles.transforms = ["logins": [.log1p], "support_tickets": [.log1p], "sentiment": [.asinh], "roi_proxy": [.asinh],
                            "days_late": [.clip, .log1p]]
        roles.groups = [MetricGroup(name: "usage", members: [(column: "logins", sign: 1), (column: "active_days", sign: 1)])]
        roles.categorical = ["referrals"]  // numbers matched as level text
        roles.rareLevelShare = 0.2  // pools plan and segment 'enterprise' and referrals 1–3
        roles.unseenLevels = .other
        var spec = FitSpec(roles: roles)
        spec.scoring.scale = .points(round: true)
        return spec
    }

    static func history() throws -> ModelArtifact {
        var clock = Timings()
        let result = try FitPipeline.fit(historySpec(), .file(Fixtures.dataset("simulated_history.csv")), timings: &clock)
        return try reloaded(result.model, "history.json")
    }

    // MARK: - Rows

    /// Rows as the core takes them, with the key the SQL returns them under.
    struct Rows {
        var count: Int
        var columns: [String: ScoringColumn]
        var ids: [String]
        var times: [String]?
    }

    /// The first `count` data lines of a CSV plus extra lines, read with the model's schema.
    static func rows(_ path: String, first count: Int, extra: [String] = [], model: ModelArtifact,
                     in directory: URL) throws -> (table: RawTable, rows: Rows) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let text = ([lines[0]] + lines.dropFirst().prefix(count) + extra).joined(separator: "\n") + "\n"
        let file = directory.appendingPathComponent("rows-\(UUID().uuidString).csv")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let (table, columns) = try ScoringInput.read(path: file.path, model: model)
        func texts(_ name: String?) -> [String]? {
            guard let name, let c = table.column(named: name) else { return nil }
            return (0..<table.rowCount).map { c.text(at: $0) ?? "" }
        }
        let ids = texts(model.schema.id) ?? (1...max(table.rowCount, 1)).prefix(table.rowCount).map { "r\($0)" }
        return (table, Rows(count: table.rowCount, columns: columns, ids: ids, times: texts(model.schema.time)))
    }

    /// The database table for some rows: id (and time) columns, then the model's inputs with the
    /// values the core sees (numbers bit for bit, NULL where the core has a missing value).
    static func table(_ name: String, rows: Rows, model: ModelArtifact, idColumn: String,
                      integerColumns: Set<String> = []) -> SQLTestTable {
        var columns: [(name: String, type: SQLTestTable.ColumnType)] = [(idColumn, .text)]
        var cells: [[SQLTestTable.Cell]] = rows.ids.map { [.text($0)] }
        if let time = model.schema.time, let times = rows.times {
            columns.append((time, .text))
            for i in cells.indices { cells[i].append(.text(times[i])) }
        }
        var seen: Set<String> = []
        for name in Scorer(model: model).requiredColumns where !seen.contains(name) {
            seen.insert(name)
            guard let column = rows.columns[name] else { continue }
            switch column {
            case .numbers(let x):
                columns.append((name, .real))
                for i in cells.indices { cells[i].append(x[i].isNaN ? .null : .number(x[i])) }
            case .strings(let s):
                let integer = integerColumns.contains(name)
                columns.append((name, integer ? .integer : .text))
                for i in cells.indices {
                    if let v = s[i] { cells[i].append(integer ? .integer(Int64(v)!) : .text(v)) } else { cells[i].append(.null) }
                }
            }
        }
        return SQLTestTable(name: name, columns: columns, rows: cells)
    }

    /// One hand-made history line from the typical customer below, with some cells changed.
    static func historyLine(_ id: String, _ changes: [String: String]) -> String {
        let header = ["customer_id", "snapshot_date", "plan", "segment", "logins", "active_days", "feature_adoption", "support_tickets",
                      "high_severity_tickets", "csat", "nps", "referrals", "roi_proxy", "days_late", "sentiment", "churned_next_month"]
        let typical = ["plan": "basic", "segment": "smb", "logins": "40", "active_days": "12", "feature_adoption": "0.5",
                       "support_tickets": "1", "high_severity_tickets": "0", "csat": "4.1", "nps": "7", "referrals": "0",
                       "roi_proxy": "1.2", "days_late": "0", "sentiment": "0.1", "churned_next_month": "0"]
        let row = typical.merging(changes) { $1 }.merging(["customer_id": id, "snapshot_date": "2024-01-01"]) { $1 }
        return header.map { row[$0] ?? "" }.joined(separator: ",")
    }

    static let handMadeHistory: [String] = [
        historyLine("H01", ["plan": "platinum", "segment": "NA", "referrals": "7"]),          // unseen, missing → unseen, unseen number
        historyLine("H02", ["plan": "enterprise", "segment": "enterprise", "referrals": "2"]),  // pooled levels
        historyLine("H03", ["csat": "", "logins": "", "sentiment": "", "days_late": "", "roi_proxy": "NA", "feature_adoption": "",
                            "active_days": "NaN", "support_tickets": "", "nps": "", "high_severity_tickets": ""]),
        historyLine("H04", ["logins": "1e300", "active_days": "1e300", "feature_adoption": "1e300", "support_tickets": "1e300",
                            "high_severity_tickets": "1e300", "csat": "1e300", "nps": "1e300", "roi_proxy": "1e300",
                            "days_late": "1e300", "sentiment": "1e300"]),
        historyLine("H05", ["logins": "0", "active_days": "-1e300", "feature_adoption": "-1e300", "support_tickets": "0",
                            "high_severity_tickets": "-1e300", "csat": "-1e300", "nps": "-1e300", "roi_proxy": "-1e300",
                            "days_late": "-1e300", "sentiment": "-1e300"]),
        historyLine("H06", ["sentiment": "3.725290298461914e-09", "roi_proxy": "2.0000019073486328"]),  // 2^-28, 2 + 2^-19
        historyLine("H07", ["sentiment": "3.7e-09", "roi_proxy": "2.0"]),
        historyLine("H08", ["sentiment": "268435456", "roi_proxy": "268435712"]),  // 2^28, 2^28 + 2^8
        historyLine("H09", ["sentiment": "-1e-300", "roi_proxy": "-0.5", "logins": "-0.5", "support_tickets": "-0.999999"]),
        historyLine("H10", ["days_late": "1000000", "logins": "1e-17", "support_tickets": "1e-300", "sentiment": "-268435460"]),
        historyLine("H11", ["csat": "NaN", "segment": "(other)", "plan": "(missing)"]),
        historyLine("H12", ["days_late": "-3", "sentiment": "-2.5", "roi_proxy": "0.25", "logins": "407", "active_days": "30"]),
    ]

    // MARK: - Running and comparing

    struct Agreement: CustomStringConvertible {
        var engine: String
        var rows = 0
        var refused = 0
        var probability = 0.0
        var score = 0.0
        var description: String {
            "\(engine): \(rows) rows (\(refused) refused → NULL), max |Δp| = \(probability), max relative |Δ score| = \(score), bands equal"
        }
    }

    /// Runs the SQL in both engines and checks every row against the core's score (nil: the core
    /// refuses the row, and the SQL must give NULL outputs).
    static func check(_ sql: String, table: SQLTestTable, model: ModelArtifact, ids: [String], times: [String]?,
                      expected: [Score?], postgres: SQLTestPostgres, in directory: URL, label: String,
                      sqliteOnly: Bool = false) throws -> [Agreement] {
        let (sqlite, sqliteVersion) = try SQLTestSQLite.run(sql, table: table, in: directory)
        var results = [sqlite], duckVersion = ""
        if !sqliteOnly {
            try postgres.load(table, in: directory)
            results.append(try postgres.query(sql, in: directory))
            let duck: SQLTestResult
            (duck, duckVersion) = try SQLTestDuckDB.run(sql, table: table, in: directory)
            results.append(duck)
        }
        var out: [Agreement] = []
        for result in results {
            var a = Agreement(engine: result.engine == "SQLite" ? sqliteVersion
                              : result.engine == "DuckDB" ? "\(duckVersion) over Parquet" : "PostgreSQL \(postgres.version)")
            let keyColumns = [model.schema.id, model.schema.time].compactMap { $0 }
            #expect(result.header == keyColumns + ["churn_probability", "health_score", "band"], "\(label) \(result.engine): columns \(result.header)")
            let k = keyColumns.count
            var byKey: [String: [String?]] = [:]
            for row in result.rows {
                let key = row.prefix(k).map { $0 ?? "" }.joined(separator: "|")
                #expect(byKey[key] == nil, "\(label) \(result.engine): key \(key) twice")
                byKey[key] = row
            }
            #expect(result.rows.count == expected.count, "\(label) \(result.engine): \(result.rows.count) rows for \(expected.count)")
            for (i, want) in expected.enumerated() {
                let key = ([ids[i]] + (times.map { [$0[i]] } ?? [])).prefix(k).joined(separator: "|")
                guard let row = byKey[key], row.count == k + 3 else {
                    Issue.record("\(label) \(result.engine): no row for \(key)")
                    continue
                }
                let (p, s, band) = (row[k], row[k + 1], row[k + 2])
                guard let want else {
                    #expect(p == nil && s == nil && band == nil, "\(label) \(result.engine) \(key): the core refuses this row, SQL gave \(row)")
                    a.refused += 1
                    continue
                }
                guard let pv = p.flatMap(Double.init), let sv = s.flatMap(Double.init) else {
                    Issue.record("\(label) \(result.engine) \(key): unreadable \(row)")
                    continue
                }
                let dp = abs(pv - want.churnProbability)
                let ds = relativeError(sv, want.healthScore)
                #expect(dp <= probabilityTolerance, "\(label) \(result.engine) \(key): p \(pv) vs core \(want.churnProbability)")
                #expect(ds <= scoreTolerance, "\(label) \(result.engine) \(key): score \(sv) vs core \(want.healthScore)")
                #expect(band == want.band, "\(label) \(result.engine) \(key): band \(band ?? "NULL") vs core \(want.band ?? "nil")")
                a.probability = max(a.probability, dp)
                a.score = max(a.score, ds)
                a.rows += 1
            }
            out.append(a)
            print("SQL export, \(label), \(a)")
        }
        return out
    }

    /// Scores each row alone (the core refuses a whole batch at its first bad row): nil where it throws.
    static func scoreEach(_ scorer: Scorer, rows: Rows) -> [Score?] {
        (0..<rows.count).map { i in
            var one: [String: ScoringColumn] = [:]
            for (name, c) in rows.columns {
                switch c {
                case .numbers(let x): one[name] = .numbers([x[i]])
                case .strings(let s): one[name] = .strings([s[i]])
                }
            }
            return try? scorer.score(rowCount: 1, columns: one).first
        }
    }

    static func withWorkspace<T>(_ body: (URL, SQLTestPostgres) throws -> T) throws -> T {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let postgres = try SQLTestPostgres(in: directory)
        defer { postgres.stop() }
        return try body(directory, postgres)
    }

    // MARK: - Tests

    @Test func mlcPlainFitAgreesInSQLiteAndPostgreSQL() throws {
        var model = try Self.plainMLC()
        model.schema.id = "row_id"  // the plain fit has no id; the row number pairs the rows up (it takes no part in the score)
        try Self.withWorkspace { dir, pg in
            let (_, rows) = try Self.rows(Fixtures.dataset("mlc_churn.csv"), first: 1_000, model: model, in: dir)
            let expected = try Scorer(model: model).score(rowCount: rows.count, columns: rows.columns)
            var options = ExportOptions()
            options.sourceTable = "mlc \"sample\""
            let sql = try SQLExport.render(model, options: options)
            let table = Self.table(options.sourceTable, rows: rows, model: model, idColumn: "row_id")
            let agreements = try Self.check(sql, table: table, model: model, ids: rows.ids, times: nil, expected: expected,
                                            postgres: pg, in: dir, label: "mlc_churn plain fit")
            #expect(agreements.allSatisfy { $0.rows == 1_000 })
        }
    }

    @Test func configuredHistoryFitAgreesInSQLiteAndPostgreSQL() throws {
        let model = try Self.history()
        // The recipe took: impute with a median fill and an indicator, transforms, a group, pools.
        let features = Dictionary(uniqueKeysWithValues: model.schema.features.map { ($0.column, $0) })
        #expect(features["csat"]?.imputation == .median && features["csat"]?.missingIndicator != nil)
        #expect(features["days_late"]?.transforms?.map(\.kind) == [.clip, .log1p])
        #expect(features["usage"]?.kind == .group)
        #expect(features["plan"]?.pooledLevels == ["enterprise"] && features["referrals"]?.pooledLevels?.isEmpty == false)
        #expect(model.scoring?.scale.rounds == true && model.schema.unseenLevels == .other)
        try Self.withWorkspace { dir, pg in
            let (_, rows) = try Self.rows(Fixtures.dataset("simulated_history.csv"), first: 1_000, extra: Self.handMadeHistory,
                                          model: model, in: dir)
            #expect(rows.count == 1_000 + Self.handMadeHistory.count)
            let expected = try Scorer(model: model).score(rowCount: rows.count, columns: rows.columns)
            var options = ExportOptions()
            options.sourceTable = "history rows"
            let sql = try SQLExport.render(model, options: options)
            let table = Self.table(options.sourceTable, rows: rows, model: model, idColumn: "customer_id", integerColumns: ["referrals"])
            let agreements = try Self.check(sql, table: table, model: model, ids: rows.ids, times: rows.times, expected: expected,
                                            postgres: pg, in: dir, label: "simulated history, configured fit + hand-made rows")
            #expect(agreements.allSatisfy { $0.rows == rows.count })
            // The hand-made rows alone, for the record.
            let hand = rows.count - Self.handMadeHistory.count
            let handRows = Rows(count: Self.handMadeHistory.count, columns: rows.columns.mapValues { c in
                switch c {
                case .numbers(let x): return .numbers(Array(x[hand...]))
                case .strings(let s): return .strings(Array(s[hand...]))
                }
            }, ids: Array(rows.ids[hand...]), times: rows.times.map { Array($0[hand...]) })
            _ = try Self.check(sql, table: Self.table(options.sourceTable, rows: handRows, model: model, idColumn: "customer_id",
                                                      integerColumns: ["referrals"]),
                               model: model, ids: handRows.ids, times: handRows.times, expected: Array(expected[hand...]),
                               postgres: pg, in: dir, label: "simulated history, hand-made rows only")
        }
    }

    /// Rows the core refuses — a missing value under `drop`, an unseen level under `error`, an
    /// infinite number, log1p of −1 or less — come out as NULL, and the other rows are unaffected.
    @Test func rowsTheCoreRefusesComeOutNull() throws {
        let mlc = try Self.plainMLC()
        let history = try Self.history()
        try Self.withWorkspace { dir, pg in
            // mlc: drop policy, unseen levels are errors.
            var model = mlc
            model.schema.id = "row_id"
            #expect(model.schema.missingPolicy == .drop && model.schema.unseenLevels == nil)
            var (_, rows) = try Self.rows(Fixtures.dataset("mlc_churn.csv"), first: 8, model: model, in: dir)
            func set(_ name: String, _ i: Int, number: Double? = nil, text: String?? = nil) {
                switch rows.columns[name]! {
                case .numbers(var x): x[i] = number!; rows.columns[name] = .numbers(x)
                case .strings(var s): s[i] = text!; rows.columns[name] = .strings(s)
                }
            }
            set("account_length", 0, number: .nan)              // missing number, drop policy
            set("state", 1, text: .some("Atlantis"))            // unseen level, error policy
            set("international_plan", 2, text: .some(nil))      // missing category, drop policy
            set("total_day_minutes", 3, number: .infinity)       // not finite
            set("total_eve_minutes", 4, number: -.infinity)
            let scorer = Scorer(model: model)
            let expected = Self.scoreEach(scorer, rows: rows)
            #expect(expected.prefix(5).allSatisfy { $0 == nil } && expected.dropFirst(5).allSatisfy { $0 != nil })
            #expect(throws: Diagnostic.self) { _ = try scorer.score(rowCount: rows.count, columns: rows.columns) }
            var options = ExportOptions()
            options.sourceTable = "refused_mlc"
            _ = try Self.check(try SQLExport.render(model, options: options),
                               table: Self.table(options.sourceTable, rows: rows, model: model, idColumn: "row_id"),
                               model: model, ids: rows.ids, times: nil, expected: expected, postgres: pg, in: dir,
                               label: "mlc_churn, rows the core refuses")

            // history: impute policy, transforms with a domain.
            var (_, hrows) = try Self.rows(Fixtures.dataset("simulated_history.csv"), first: 0,
                                           extra: (1...7).map { Self.historyLine("E\($0)", [:]) }, model: history, in: dir)
            func hset(_ name: String, _ i: Int, _ value: Double) {
                guard case .numbers(var x) = hrows.columns[name]! else { Issue.record("\(name) is not numeric"); return }
                x[i] = value
                hrows.columns[name] = .numbers(x)
            }
            hset("support_tickets", 0, -1)          // log1p(−1)
            hset("logins", 1, -3)                   // log1p inside the group
            hset("feature_adoption", 2, .infinity)
            hset("sentiment", 3, -.infinity)        // asinh of −∞
            hset("csat", 4, .infinity)              // a column with a missing indicator
            hset("days_late", 5, .infinity)         // clip would tame it, but the core refuses it first
            let hscorer = Scorer(model: history)
            let hexpected = Self.scoreEach(hscorer, rows: hrows)
            #expect(hexpected.prefix(6).allSatisfy { $0 == nil } && hexpected[6] != nil)
            options.sourceTable = "refused_history"
            _ = try Self.check(try SQLExport.render(history, options: options),
                               table: Self.table(options.sourceTable, rows: hrows, model: history, idColumn: "customer_id",
                                                 integerColumns: ["referrals"]),
                               model: history, ids: hrows.ids, times: hrows.times, expected: hexpected, postgres: pg, in: dir,
                               label: "simulated history, rows the core refuses")
        }
    }

    /// The stored unseen-level policy decides: reference (weight 0), other ((other)'s weight, or the
    /// reference when the column has no pool), error (NULL).
    @Test func unseenLevelPoliciesAgree() throws {
        let mlc = try Self.plainMLC()
        let history = try Self.history()
        try Self.withWorkspace { dir, pg in
            for policy in UnknownLevelPolicy.allCases {
                for (base, label) in [(mlc, "mlc_churn"), (history, "simulated history")] {
                    var model = base
                    model.schema.unseenLevels = policy
                    if model.schema.id == nil { model.schema.id = "row_id" }
                    let extra = label == "mlc_churn"
                        ? [] : Self.handMadeHistory
                    var (_, rows) = try Self.rows(Fixtures.dataset(label == "mlc_churn" ? "mlc_churn.csv" : "simulated_history.csv"),
                                                  first: 20, extra: extra, model: model, in: dir)
                    if label == "mlc_churn", case .strings(var s) = rows.columns["state"]!, case .strings(var v) = rows.columns["voice_mail_plan"]! {
                        for i in stride(from: 0, to: rows.count, by: 3) { s[i] = "Atlantis" }
                        for i in stride(from: 1, to: rows.count, by: 4) { v[i] = "maybe" }
                        rows.columns["state"] = .strings(s)
                        rows.columns["voice_mail_plan"] = .strings(v)
                    }
                    let expected = Self.scoreEach(Scorer(model: model), rows: rows)
                    if policy == .error { #expect(expected.contains { $0 == nil }) } else { #expect(expected.allSatisfy { $0 != nil }) }
                    var options = ExportOptions()
                    options.sourceTable = "policy_\(policy.rawValue)"
                    _ = try Self.check(try SQLExport.render(model, options: options),
                                       table: Self.table(options.sourceTable, rows: rows, model: model, idColumn: model.schema.id!,
                                                         integerColumns: label == "mlc_churn" ? [] : ["referrals"]),
                                       model: model, ids: rows.ids, times: rows.times, expected: expected, postgres: pg, in: dir,
                                       label: "\(label), unseen levels → \(policy.rawValue)")
                }
            }
        }
    }

    // MARK: - A synthetic model: names that need quoting, rounding knife edges, NA markers

    static func synthetic() throws -> ModelArtifact {
        let weird = "we\"ird col", tier = "tier's"
        var numeric = FeatureSpec(column: weird, kind: .numeric, mean: 0, standardDeviation: 1, imputeValue: 0.25,
                                  missingIndicator: FeatureSpec.indicatorTerm(weird), missingShare: 0)
        numeric.imputation = .mean
        var category = FeatureSpec(column: tier, kind: .categorical, levels: ["a'b", "plain", FeatureSpec.otherLevel, FeatureSpec.missingLevel],
                                   reference: "a'b", missingShare: 0)
        category.pooledLevels = ["rare"]
        category.levelShares = [0.5, 0.5, 0, 0]
        var amount = FeatureSpec(column: "Amount", kind: .numeric, mean: 1, standardDeviation: 1, imputeValue: 1, missingShare: 0)
        amount.transforms = [MetricTransform(kind: .clip, lower: -0.5, upper: 1e6), MetricTransform(kind: .log1p)]
        var schema = InputSchema(target: TargetSpec(column: "churned", positive: "1", negative: ["0"]), id: "cust \"id\"", time: nil,
                                 excluded: [], missingPolicy: .impute, naValues: FitPipeline.defaultNAValues,
                                 features: [numeric, category, amount])
        schema.unseenLevels = .other
        func c(_ term: String, _ column: String?, _ level: String?, _ estimate: Double) -> Coefficient {
            Coefficient(term: term, column: column, level: level, estimate: estimate, standardError: nil, z: nil, pValue: nil,
                        ciLower: nil, ciUpper: nil, oddsRatio: nil)
        }
        let coefficients = [
            c(Coefficient.interceptTerm, nil, nil, 0),
            c(weird, weird, nil, 1),
            c(FeatureSpec.indicatorTerm(weird), weird, nil, 0.75),
            c(FeatureSpec.levelTerm(tier, "plain"), tier, "plain", 0.5),
            c(FeatureSpec.levelTerm(tier, FeatureSpec.otherLevel), tier, FeatureSpec.otherLevel, -0.25),
            c(FeatureSpec.levelTerm(tier, FeatureSpec.missingLevel), tier, FeatureSpec.missingLevel, 1.5),
            c("Amount", "Amount", nil, 0),  // a zero weight still needs a value in the transform's domain
        ]
        let fit = FitSummary(method: "synthetic", nObservations: 0, nDropped: 0, nImputedCells: 0, nEvents: 0, logLikelihood: 0,
                             nullLogLikelihood: 0, deviance: 0, nullDeviance: 0, aic: 0, bic: 0, pseudoR2: 0, lrStatistic: 0,
                             lrDegreesOfFreedom: 0, lrPValue: 1, rank: 6, iterations: 0, converged: true, convergenceRule: "none", history: [])
        var model = ModelArtifact(toolVersion: Trainer.toolVersion, createdAt: "2024-01-01T00:00:00Z",
                                  training: TrainingSource(file: "synthetic.csv", sha256: String(repeating: "0", count: 64), rows: 0),
                                  schema: schema, coefficients: coefficients, aliased: [], fit: fit, warnings: [], impacts: [])
        // factor = pdo / ln 2 = 1 and offset = 500: a metric's points are exactly −(term − average).
        let scale = ScoreScale(kind: .points, pointsToDoubleOdds: log(2), referenceScore: 500, referenceOdds: 1, roundPoints: true)
        model.scoring = ScoringSpec(scale: scale, bands: [HealthBand(label: "it's fine", colour: "green", minScore: 500),
                                                          HealthBand(label: "so \"so\"", colour: "yellow", minScore: 498),
                                                          HealthBand(label: "bad", colour: "red", minScore: nil)],
                                    bandMethod: "explicit")
        return try reloaded(model, "synthetic.json")
    }

    /// Rounded points (knife edges of half-away-from-zero rounding), unrounded points, and a model
    /// without a scoring spec (probability scale, band NULL); quotes in every kind of name; NA
    /// markers and PostgreSQL's NaN as missing; |η| beyond 708.
    @Test func syntheticModelWithAwkwardNamesAndRoundingEdgesAgrees() throws {
        let rounded = try Self.synthetic()
        #expect(rounded.scoring!.scale.factor == 1 && rounded.scoring!.scale.offset == 500)
        // (value of "we"ird col", DB text of "tier's", the core's text) — a row's points for the number are −value.
        let cases: [(Double, String?, String?)] = [
            (-2.5, "a'b", "a'b"), (2.5, "plain", "plain"), (-0.49999999999999994, "rare", "rare"), (0.49999999999999994, "NA", nil),
            (-2.4999999999999996, "", nil), (-1.5, "unknown", "unknown"), (-0.5, "(missing)", "(missing)"), (0.5, nil, nil),
            (1e300, "plain", "plain"), (-1e300, "a'b", "a'b"), (-4503599627370497, "plain", "plain"), (-4503599627370495.5, "a'b", "a'b"),
            (.nan, "a'b", "a'b"), (720, "a'b", "a'b"), (-720, "a'b", "a'b"), (-745.5, "plain", "plain"), (0, "N/A", nil), (1.5, "(other)", "(other)"),
            (-0.25, "plain", "plain"), (0.75, "a'b", "a'b"),
        ]
        let amounts: [Double] = [0, -0.9, 1e6, 2e6, -0.75, .nan, 1e-20, 3, 0.5, 1e300, 7, 0, 0, 0, 0, 0, 0, 0, .nan, -0.5]
        let ids = cases.indices.map { "o'neil \($0)" }
        let columns: [String: ScoringColumn] = ["we\"ird col": .numbers(cases.map(\.0)), "tier's": .strings(cases.map(\.2)),
                                                "Amount": .numbers(amounts)]
        let table = SQLTestTable(name: "scoring \"rows\"", columns: [("cust \"id\"", .text), ("we\"ird col", .real), ("tier's", .text), ("Amount", .real)],
                                 rows: cases.indices.map { i in
                                     // NaN goes in as PostgreSQL's NaN (SQLite stores NULL): missing for the core.
                                     [.text(ids[i]), .number(cases[i].0), cases[i].1.map { .text($0) } ?? .null,
                                      i == 5 ? .null : .number(amounts[i])]
                                 })
        var unrounded = rounded
        unrounded.scoring!.scale.roundPoints = false
        var unscaled = rounded
        unscaled.scoring = nil
        try Self.withWorkspace { dir, pg in
            for (model, label) in [(rounded, "rounded points"), (unrounded, "unrounded points"), (unscaled, "no scoring spec")] {
                let expected = try Scorer(model: model).score(rowCount: cases.count, columns: columns)
                if model.scoring?.scale.rounds == true {
                    #expect(expected[0].healthScore == 500 + 3 + 0 && expected[1].healthScore == 500 - 3 + 0)  // half away from 0
                    #expect(expected[3].healthScore == 500 - 0 - 1)  // −0.49999999999999994 → −0; (missing) −1.25 → −1
                }
                var options = ExportOptions()
                options.sourceTable = table.name
                _ = try Self.check(try SQLExport.render(model, options: options), table: table, model: model, ids: ids, times: nil,
                                   expected: expected, postgres: pg, in: dir, label: "synthetic model, \(label)")
            }
        }
    }

    /// Every double the export writes is read back bit for bit by both engines (SQLite 3.40's own
    /// decimal parser is not exact), and the same decimal literals would not be.
    @Test func constantsAreExactInBothEngines() throws {
        var generator = SystemRandomNumberGenerator()
        // Parsed at run time (correctly rounded): Swift's compiler reads a literal through Float80 first.
        var values: [Double] = ["0.1", "1e-05", "-2.5e-10", "5e-324", "2.2250738585072014e-308", "1.7976931348623157e308", "123456789.123",
                                "-0.0003976850937295909", "0.1482273320697058", "-62.19337905234649", "-5.2963516095598", "-7.99954049456616e-09"]
            .map { Double($0)! } + [0x1p-28, 0x1p28 + 0x1p8, M_LN2]
        for _ in 0..<400 {
            let magnitude = Double.random(in: -12...6, using: &generator)
            values.append((Bool.random(using: &generator) ? 1 : -1) * Double.random(in: 1..<10, using: &generator) * pow(10, magnitude.rounded()))
        }
        #expect(values[8].bitPattern == 0x3FC2F91CFBCE6D8F)  // 0.1482273320697058, which SQLite 3.40 reads as ...D8E
        let select = "SELECT " + values.enumerated().map { "\(try! SQLExport.number($0.element)) AS \"c\($0.offset)\"" }.joined(separator: ", ") + ";\n"
        let decimals = "SELECT " + values.enumerated().map { "\($0.element) AS \"c\($0.offset)\"" }.joined(separator: ", ") + ";\n"
        let empty = SQLTestTable(name: "empty", columns: [("x", .real)], rows: [])
        try Self.withWorkspace { dir, pg in
            let (sqlite, _) = try SQLTestSQLite.run(select, table: empty, in: dir)
            try pg.load(empty, in: dir)
            let postgres = try pg.query(select, in: dir)
            for result in [sqlite, postgres] {
                let got = result.rows.first?.map { $0.flatMap(Double.init) } ?? []
                #expect(got.count == values.count)
                let wrong = zip(values, got).filter { $0.0.bitPattern != $0.1?.bitPattern }
                #expect(wrong.isEmpty, "\(result.engine) misread \(wrong.prefix(5))")
            }
            // For the record: SQLite's own reading of the shortest decimals.
            let (plain, version) = try SQLTestSQLite.run(decimals, table: empty, in: dir)
            let misread = zip(values, plain.rows.first ?? []).filter { $0.0.bitPattern != $0.1.flatMap(Double.init)?.bitPattern }.count
            print("SQL export constants: \(values.count) exact in SQLite and PostgreSQL; \(version) misreads \(misread) of the same as decimal literals")
        }
    }

    /// The text itself: provenance first, identifiers and strings quoted, no decimal literal outside comments.
    /// Text in a numeric input: in SQLite (any column holds any type) a number in text is read, an NA
    /// marker or a numeric NA token is missing and other text leaves the row unscored, as the core
    /// reads a CSV; in PostgreSQL and DuckDB the same TEXT column scores with `textNumbers`.
    @Test func textInNumericInputsAgrees() throws {
        var history = try Self.history()
        history.schema.naValues.append("-999")
        try Self.withWorkspace { dir, pg in
            var (_, rows) = try Self.rows(Fixtures.dataset("simulated_history.csv"), first: 0,
                                          extra: (1...6).map { Self.historyLine("T\($0)", [:]) }, model: history, in: dir)
            var table = Self.table("texty", rows: rows, model: history, idColumn: "customer_id", integerColumns: ["referrals"])
            let column = "csat"  // impute policy, with a missing indicator
            let c = table.columns.firstIndex { $0.name == column }!
            guard case .numbers(var x) = rows.columns[column]! else { Issue.record("csat is not numeric"); return }
            let cells: [SQLTestTable.Cell] = [.text("NA"), .text("lots"), .text("3.5"), .text("1,234"), .number(-999), .text("n/a")]
            let core: [Double?] = [.nan, nil, 3.5, nil, .nan, .nan]  // nil: the core leaves the row unscored
            table.columns[c].type = .text
            for i in cells.indices { table.rows[i][c] = cells[i]; x[i] = core[i] ?? 0 }
            rows.columns[column] = .numbers(x)
            var expected = Self.scoreEach(Scorer(model: history), rows: rows)
            for i in core.indices where core[i] == nil { expected[i] = nil }
            #expect(expected.filter { $0 == nil }.count == 2)
            var options = ExportOptions()
            options.sourceTable = "texty"
            _ = try Self.check(try SQLExport.render(history, options: options), table: table, model: history,
                               ids: rows.ids, times: rows.times, expected: expected, postgres: pg, in: dir,
                               label: "text in a numeric input", sqliteOnly: true)
            // Without 'lots' and '1,234' (PostgreSQL and DuckDB refuse text that is not a number).
            let keep = [0, 2, 5]
            table.rows = keep.map { table.rows[$0] }
            options.textNumbers = true
            _ = try Self.check(try SQLExport.render(history, options: options), table: table, model: history,
                               ids: keep.map { rows.ids[$0] }, times: rows.times.map { t in keep.map { t[$0] } },
                               expected: keep.map { expected[$0] }, postgres: pg, in: dir, label: "text numbers, --text-numbers")
            // --keep: columns copied through after the id and time, values as stored.
            options.textNumbers = false
            options.keep = ["segment", "customer_id"]
            let (kept, _) = try SQLTestSQLite.run(try SQLExport.render(history, options: options), table: table, in: dir)
            #expect(kept.header == ["customer_id", "snapshot_date", "segment", "churn_probability", "health_score", "band"])
            let segment = table.columns.firstIndex { $0.name == "segment" }!
            #expect(kept.rows.map { $0[2] } == table.rows.map { row -> String? in
                if case .text(let v) = row[segment] { return v } else { return nil }
            })
        }
    }

    @Test func textCarriesProvenanceAndQuotesNames() throws {
        let model = try Self.synthetic()
        var options = ExportOptions()
        options.sourceTable = "analytics.scoring \"rows\""
        let sql = try SQLExport.render(model, options: options)
        let lines = sql.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("-- healthscore SQL export"))
        let provenance = try Exporter.provenance(model)
        #expect(lines.prefix { $0.hasPrefix("--") }.contains("-- " + provenance))
        #expect(sql.contains("FROM \"analytics\".\"scoring \"\"rows\"\"\""))
        #expect(sql.contains("WHEN \"we\"\"ird col\" = CAST(\"we\"\"ird col\" AS DOUBLE PRECISION) AND NOT \"we\"\"ird col\" = 'NaN'"))
        #expect(sql.contains("WHEN 'a''b' THEN"))
        #expect(sql.contains("THEN 'it''s fine'"))
        #expect(sql.hasSuffix(";\n"))
        // Outside comments, string literals and quoted names, every number is an integer (or 0.5).
        var code = ""
        for line in lines where !line.trimmingCharacters(in: .whitespaces).hasPrefix("--") {
            var stripped = line
            while let open = stripped.range(of: "/*"), let close = stripped.range(of: "*/", range: open.upperBound..<stripped.endIndex) {
                stripped.removeSubrange(open.lowerBound..<close.upperBound)
            }
            var quote: Character? = nil
            for ch in stripped {
                if let q = quote { if ch == q { quote = nil }; continue }
                if ch == "'" || ch == "\"" { quote = ch; code.append(" "); continue }
                code.append(ch)
            }
            code.append("\n")
        }
        var hits: [String] = []
        let chars = Array(code)
        var i = 0
        while i < chars.count {
            if chars[i].isNumber && (i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_")) {
                var j = i
                while j < chars.count && (chars[j].isNumber || chars[j] == "." || chars[j] == "e" || chars[j] == "E"
                                          || ((chars[j] == "-" || chars[j] == "+") && (chars[j - 1] == "e" || chars[j - 1] == "E"))) { j += 1 }
                let token = String(chars[i..<j])
                if token.contains(where: { !$0.isNumber }) { hits.append(token) }
                i = j
            } else {
                i += 1
            }
        }
        #expect(hits.allSatisfy { $0 == "0.5" }, "non-integer literals in code: \(hits.prefix(5))")
        #expect(SQLExport.identifier("a\"b") == "\"a\"\"b\"" && SQLExport.text("it's") == "'it''s'")
    }
}
