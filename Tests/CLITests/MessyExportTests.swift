import Foundation
import History
import ScoringCore
import Testing
import TestSupport

/// Issue 16's cases, as a new user meets them with real exports: each gives the right model or one
/// clear error with a fix that works when followed, and no command destroys a file. Every case
/// prints a `MESSY` line (case, exit status, message, what is left on disk) for the closing report.
@Suite struct MessyExportTests {
    /// A churn history with a numeric `logins`, a categorical `plan`, an id and a 0/1 label whose
    /// rate depends on both (no separation).
    static func history(rows: Int = 400, seed: UInt64 = 11, cell: (Int, Int, Double) -> String = { _, _, v in String(v) },
                        label: (Bool) -> String = { $0 ? "1" : "0" }) -> String {
        var rng = SeededRandom(seed: seed)
        var text = "customer,logins,plan,churned\n"
        let plans = ["basic", "pro", "team"]
        for r in 1...rows {
            let logins = Double(Int(rng.uniform() * 40))
            let plan = plans[Int(rng.uniform() * 3)]
            let p = 1 / (1 + exp(-(0.8 - 0.08 * logins + (plan == "pro" ? -0.5 : 0))))
            text += "C\(r),\(cell(r, 1, logins)),\(plan),\(label(rng.uniform() < p))\n"
        }
        return text
    }

    struct Run {
        let dir = Fixtures.temporaryDirectory()
        func file(_ name: String, _ text: String) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        /// The default history and a model fitted on it.
        func fitted() throws -> (data: String, model: String) {
            let data = try file("d.csv", MessyExportTests.history())
            let model = path("m.json")
            #expect(try CLI.run(["fit", data, "--target", "churned", "--id", "customer", "--out", model, "--quiet"]).status == 0)
            return (data, model)
        }
        /// Runs healthscore and prints the MESSY report line.
        @discardableResult
        func cli(_ name: String, _ arguments: [String], leftOnDisk: () -> String = { "" }) throws -> CLI.Result {
            let r = try CLI.run(arguments)
            let message = r.stderr.split(separator: "\n").first { $0.contains("error") || $0.contains("warning") }.map(String.init) ?? ""
            print("MESSY\t\(name)\t\(r.status)\t\(message)\t\(leftOnDisk())")
            return r
        }
        func model(_ path: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        }
        func terms(_ path: String) throws -> [String] {
            ((try model(path))["coefficients"] as! [[String: Any]]).map { $0["term"] as! String }
        }
    }

    // MARK: - Column typing

    @Test(arguments: ["-", "?", "#DIV/0!", "None", "n.a.", "lots", "12 ", "\u{00A0}"])
    func oneOddCellInANumericColumnIsAnErrorThatNamesIt(token: String) throws {
        let run = Run()
        let data = try run.file("d.csv", Self.history(cell: { r, _, v in r == 300 ? "\"\(token)\"" : String(v) }))
        let out = run.path("m.json")
        let r = try run.cli("odd cell '\(token)' in logins", ["fit", data, "--target", "churned", "--id", "customer", "--out", out])
        if token == "12 " {
            // Spaces around a number are a number.
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try run.terms(out).contains("logins"))
            return
        }
        #expect(r.status == 1)
        #expect(r.stderr.contains("column 'logins'") && r.stderr.contains("row 300 (line 301)"), "\(r.stderr)")
        #expect(r.stderr.contains("--categorical logins"))
        #expect(!FileManager.default.fileExists(atPath: out))
        // Following the fix reads the token as missing: a numeric logins term, the row dropped.
        let trimmed = token.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !token.contains("\u{00A0}") else { return }
        let fixed = try run.cli("odd cell '\(token)' with the suggested --na-values",
                                ["fit", data, "--target", "churned", "--id", "customer", "--na-values", token, "--out", out])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let terms = try run.terms(out)
        #expect(terms.contains("logins") && !terms.contains { $0.hasPrefix("logins[") })
        #expect(((try run.model(out))["fit"] as! [String: Any])["nDropped"] as? Int == 1)
    }

    /// Property: a random numeric column with one injected non-numeric token at a random row never
    /// becomes category terms; the fit errors naming that row and column.
    @Test func anInjectedTokenNeverBecomesCategoryTerms() throws {
        var rng = SeededRandom(seed: 2026)
        let tokens = ["x", "-", "?", "n/d", "#VALUE!", "--", "unknown", "1.2.3", "12a", "†"]
        for trial in 0..<12 {
            let rows = 60 + Int(rng.uniform() * 300)
            let row = 1 + Int(rng.uniform() * Double(rows))
            let token = tokens[Int(rng.uniform() * Double(tokens.count))]
            let run = Run()
            let data = try run.file("d.csv", Self.history(rows: rows, seed: UInt64(trial + 100),
                                                          cell: { r, _, v in r == row ? token : String(v * (1 + Double(trial))) }))
            let out = run.path("m.json")
            let r = try CLI.run(["fit", data, "--target", "churned", "--id", "customer", "--out", out])
            #expect(r.status == 1, "trial \(trial): '\(token)' at row \(row) was accepted")
            #expect(r.stderr.contains("column 'logins'") && r.stderr.contains("row \(row) (line \(row + 1))"),
                    "trial \(trial): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func businessNumberFormatsNeedTheirDeclarationAndAreStoredForScoring() throws {
        let run = Run()
        // Every fourth cell written as money with a thousands separator (×1000 to need one).
        let text = Self.history(cell: { r, _, v in r % 4 == 0 ? "\"$\(Int(v)),000.00\"" : String(v * 1000) })
        let data = try run.file("d.csv", text)
        let out = run.path("m.json")
        let refused = try run.cli("money cells '$12,000.00' without --number-format", ["fit", data, "--target", "churned", "--id", "customer", "--out", out])
        #expect(refused.status == 1 && refused.stderr.contains("--number-format grouped"), "\(refused.stderr)")
        let fitted = try run.cli("money cells with --number-format grouped",
                                 ["fit", data, "--target", "churned", "--id", "customer", "--number-format", "grouped", "--out", out])
        #expect(fitted.status == 0, "\(fitted.stderr)")
        #expect(try run.terms(out) == ["(Intercept)", "logins", "plan[pro]", "plan[team]"])
        #expect(((try run.model(out))["schema"] as! [String: Any])["numberFormat"] as? String == "grouped")
        // Scoring reads the same spellings with the stored format.
        let scored = try run.cli("score a grouped-format file", ["score", out, data, "--out", run.path("s.csv")])
        #expect(scored.status == 0, "\(scored.stderr)")
        // Percentages are fractions: 12% is 0.12.
        let percent = try run.file("p.csv", Self.history(cell: { _, _, v in "\(Int(v))%" }))
        let p = try run.cli("percent cells with --number-format grouped",
                            ["fit", percent, "--target", "churned", "--id", "customer", "--number-format", "grouped", "--out", out])
        #expect(p.status == 0, "\(p.stderr)")
        let means = ((try run.model(out))["schema"] as! [String: Any])["features"] as! [[String: Any]]
        #expect((means.first { $0["column"] as? String == "logins" }?["mean"] as? Double ?? 99) < 0.4)
    }

    @Test func usualMissingSpellingsAreMissingInAnyCase() throws {
        let run = Run()
        let spellings = ["null", "nan", "n/a", "NA ", "#N/A", "NULL", " <NA>"]
        let data = try run.file("d.csv", Self.history(cell: { r, _, v in r % 50 == 0 ? spellings[r / 50 % spellings.count] : String(v) }))
        let out = run.path("m.json")
        let r = try run.cli("missing spelled null/nan/n/a/'NA '/#N/A", ["fit", data, "--target", "churned", "--id", "customer", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(((try run.model(out))["fit"] as! [String: Any])["nDropped"] as? Int == 8)
        #expect(!(try run.terms(out)).contains { $0.hasPrefix("logins[") })
    }

    @Test func aNulByteAndAForgottenIdAreErrors() throws {
        let run = Run()
        let nul = try run.file("nul.csv", Self.history(cell: { r, _, v in r == 7 ? "1\u{0}2" : String(v) }))
        let a = try run.cli("NUL byte inside a numeric cell", ["fit", nul, "--target", "churned", "--id", "customer", "--out", run.path("m.json")])
        #expect(a.status == 1 && a.stderr.contains("row 7") && a.stderr.contains("control byte"), "\(a.stderr)")
        let data = try run.file("d.csv", Self.history())
        let b = try run.cli("forgot --id", ["fit", data, "--target", "churned", "--out", run.path("m.json")])
        #expect(b.status == 1 && b.stderr.contains("--id customer"), "\(b.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run.path("m.json")))
    }

    /// From a second new user's exports: init on a stray cell (it trapped), repeated --na-values,
    /// an id column repeated per snapshot, and a column name with a space in a suggested fix.
    @Test func exportsOfOtherToolsGetFixesThatRunAsPrinted() throws {
        let run = Run()
        let stray = try run.file("stray.csv", Self.history(cell: { r, _, v in r == 40 ? "x" : String(v) }))
        let a = try run.cli("init on a numeric column with a stray cell", ["init", stray, "--target", "churned", "--out", "-"])
        #expect(a.status == 0 && a.stdout.contains("--na-values='x'"), "\(a.stderr)")
        var twice = Self.history(cell: { r, _, v in r == 40 ? "x" : r == 41 ? "-" : String(v) })
        let both = try run.file("both.csv", twice)
        let b = try run.cli("--na-values given twice", ["fit", both, "--target", "churned", "--id", "customer", "--na-values=x", "--na-values=-",
                                                         "--out", run.path("m.json")])
        #expect(b.status == 0, "\(b.stderr)")
        // Three snapshots per customer: 133 ids over 400 rows, an id's name.
        twice = Self.history().split(separator: "\n").enumerated().map { i, line in
            i == 0 ? "customer_id" + line.dropFirst("customer".count) : "C\((i - 1) / 3)" + line.drop { $0 != "," }
        }.joined(separator: "\n") + "\n"
        let repeated = try run.file("rep.csv", twice)
        let c = try run.cli("repeated customer_id without --id", ["fit", repeated, "--target", "churned", "--out", run.path("m.json")])
        #expect(c.status == 1 && c.stderr.contains("--id customer_id"), "\(c.stderr)")
        let spaced = try run.file("spaced.csv", Self.history().replacingOccurrences(of: "customer,", with: "Customer ID,"))
        let d = try run.cli("id column named with a space", ["fit", spaced, "--target", "churned", "--out", run.path("m.json")])
        #expect(d.status == 1 && d.stderr.contains("--id 'Customer ID'"), "\(d.stderr)")
        let e = try CLI.run(["fit", spaced, "--target", "churned", "--id", "Customer ID", "--out", run.path("m.json")])
        #expect(e.status == 0, "\(e.stderr)")
    }

    // MARK: - Labels

    @Test(arguments: [("1.0", "0.0", "1.0"), ("1", "-1", "1"), ("Churned", "Active", "Churned"), ("yes", "no", "yes"), ("TRUE", "FALSE", "TRUE")])
    func unambiguousLabelSpellingsAreInferred(positive: String, negative: String, expected: String) throws {
        let run = Run()
        let data = try run.file("d.csv", Self.history(label: { $0 ? positive : negative }))
        let r = try run.cli("label \(positive)/\(negative)", ["fit", data, "--target", "churned", "--id", "customer", "--out", run.path("m.json")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("P(churned = \(expected))"))
    }

    @Test func ambiguousAndThreeValuedLabelsAreErrorsWithCounts() throws {
        let run = Run()
        let words = try run.file("w.csv", Self.history(label: { $0 ? "gone" : "here" }))
        let a = try run.cli("label gone/here", ["fit", words, "--target", "churned", "--id", "customer", "--out", run.path("m.json")])
        #expect(a.status == 1 && a.stderr.contains("'here' ") && a.stderr.contains("--positive 'gone'"), "\(a.stderr)")
        var row = 0
        let three = try run.file("t.csv", Self.history(label: { y in row += 1; return row % 40 == 0 ? "paused" : (y ? "yes" : "no") }))
        let b = try run.cli("third label value with --positive yes", ["fit", three, "--target", "churned", "--id", "customer", "--positive", "yes", "--out", run.path("m.json")])
        #expect(b.status == 1 && b.stderr.contains("'paused' 10") && b.stderr.contains("--negative"), "\(b.stderr)")
        let c = try run.cli("third label value with --negative no", ["fit", three, "--target", "churned", "--id", "customer", "--positive", "yes",
                                                                    "--negative", "no", "--out", run.path("m.json")])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.contains("label neither --positive nor --negative: 10"), "\(c.stdout)")
        // Naming the stayers as churn flips every sign: the fit says so.
        let data = try run.file("d.csv", Self.history())
        let d = try run.cli("--positive naming the majority class", ["fit", data, "--target", "churned", "--id", "customer", "--positive", "0", "--out", run.path("m.json")])
        #expect(d.status == 0 && d.stdout.contains("churn_majority"), "\(d.stdout)")
    }

    // MARK: - Config

    @Test func configNamesAreCheckedAndMetricsOnlyIsAWhitelist() throws {
        let run = Run()
        let data = try run.file("d.csv", Self.history())
        let typo = try run.file("typo.yaml", "target: churned\nid: customer\nmetrics:\n  plan: {}\n  logns: {healthier_when: higher}\n")
        let a = try run.cli("config metric typo 'logns'", ["fit", data, "--config", typo, "--out", run.path("m.json")])
        #expect(a.status == 1 && a.stderr.contains("typo.yaml:5") && a.stderr.contains("closest: 'logins'"), "\(a.stderr)")
        let only = try run.file("only.yaml", "target: churned\nid: customer\nmetrics_only: true\nmetrics:\n  logins: {healthier_when: higher}\n")
        let b = try run.cli("metrics_only: true", ["fit", data, "--config", only, "--out", run.path("m.json")])
        #expect(b.status == 0 && b.stdout.contains("Left out:") && b.stdout.contains("plan"), "\(b.stdout)")
        #expect(try run.terms(run.path("m.json")) == ["(Intercept)", "logins"])
        let c = try run.cli("compare --candidate x=config=FILE.yaml", ["compare", data, "--target", "churned", "--id", "customer", "--folds", "3",
                                                                         "--candidate", "lean=config=\(only)", "--candidate", "full=fit"])
        #expect(c.status == 0, "\(c.stderr)")
    }

    /// `;`-separated exports (and Excel's `sep=;` hint line) are refused with a conversion that,
    /// run as printed, gives a file the fit reads.
    @Test(arguments: [false, true])
    func semicolonFilesGetAConversionThatWorks(hint: Bool) throws {
        let run = Run()
        let data = try run.file("semi.csv", (hint ? "sep=;\n" : "") + Self.history().replacingOccurrences(of: ",", with: ";"))
        let r = try run.cli(hint ? "Excel sep=; hint line" : "semicolon-separated file", ["fit", data, "--target", "churned", "--id", "customer", "--out", run.path("m.json")])
        #expect(r.status == 1 && r.stderr.contains("separated by ';'"), "\(r.stderr)")
        let start = try #require(r.stderr.range(of: "python3 -c"))
        let end = try #require(r.stderr.range(of: "> comma.csv", range: start.lowerBound..<r.stderr.endIndex))
        let conversion = String(r.stderr[start.lowerBound..<end.upperBound])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", conversion]
        p.currentDirectoryURL = run.dir
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let fitted = try CLI.run(["fit", run.path("comma.csv"), "--target", "churned", "--id", "customer", "--out", run.path("m.json")])
        #expect(fitted.status == 0, "\(fitted.stderr)")
    }

    /// Snapshot months written 202312 are calendar months: a backtest's folds cross the year end a
    /// month apart, and the header says how the column was read; a bad cell names file, row and line.
    @Test func compactMonthsAreCalendarMonths() throws {
        let run = Run()
        let simulated = run.path("sim.csv")
        #expect(try CLI.run(["simulate", "--customers", "200", "--months", "14", "--seed", "3", "--out", simulated]).status == 0)
        var lines = try String(contentsOfFile: simulated, encoding: .utf8).split(separator: "\n").map(String.init)
        for i in 1..<lines.count {
            var f = lines[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            f[1] = String(f[1].prefix(4)) + String(f[1].dropFirst(5).prefix(2))
            lines[i] = f.joined(separator: ",")
        }
        let data = try run.file("ym.csv", lines.joined(separator: "\n") + "\n")
        let args = ["backtest", data, "--target", "churned_next_month", "--id", "customer_id", "--time", "snapshot_date",
                    "--horizon", "1m", "--missing", "impute", "--backtest-folds", "3"]
        let r = try run.cli("YYYYMM snapshot times in a backtest", args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("a year-month written YYYYMM (read as calendar months)"), "\(r.stdout)")
        #expect(r.stdout.contains("test 2024-01-01"))
        var cells = lines[7].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells[1] += "x"
        lines[7] = cells.joined(separator: ",")
        let bad = try run.file("bad.csv", lines.joined(separator: "\n") + "\n")
        let e = try run.cli("a bad snapshot time in a backtest", ["backtest", bad] + args.dropFirst(2))
        #expect(e.status == 1 && e.stderr.contains("bad.csv: row 7 (line 8), column 'snapshot_date'"), "\(e.stderr)")
    }

    // MARK: - Rare and blank levels

    @Test func blankLevelsPoolWithRareOnes() throws {
        let run = Run()
        var row = 0
        let text = Self.history().split(separator: "\n").map { line -> String in
            row += 1
            return row == 5 || row == 9 ? line.replacingOccurrences(of: ",basic,", with: ",,").replacingOccurrences(of: ",pro,", with: ",,")
                .replacingOccurrences(of: ",team,", with: ",,") : String(line)
        }.joined(separator: "\n") + "\n"
        let data = try run.file("d.csv", text)
        let out = run.path("m.json")
        let r = try run.cli("two blank plan cells, --rare-levels 0.01", ["fit", data, "--target", "churned", "--id", "customer", "--missing", "impute",
                                                                         "--rare-levels", "0.01", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let features = ((try run.model(out))["schema"] as! [String: Any])["features"] as! [[String: Any]]
        let plan = try #require(features.first { $0["column"] as? String == "plan" })
        #expect(plan["pooledLevels"] as? [String] == ["(missing)"])
        #expect(!(plan["levels"] as! [String]).contains("(missing)"))
    }

    // MARK: - Outputs

    @Test func outputsNeverOverwriteInputs() throws {
        let run = Run()
        let data = try run.file("d.csv", Self.history())
        let before = try Data(contentsOf: URL(fileURLWithPath: data))
        let a = try run.cli("fit d.csv --out d.csv", ["fit", data, "--target", "churned", "--id", "customer", "--out", data]) {
            (try? Data(contentsOf: URL(fileURLWithPath: data))) == before ? "d.csv unchanged" : "d.csv CHANGED"
        }
        #expect(a.status == 1 && a.stderr.contains("--out names the same file as the data file"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: data)) == before)
        let model = run.path("m.json")
        #expect(try CLI.run(["fit", data, "--target", "churned", "--id", "customer", "--out", model, "--quiet"]).status == 0)
        let modelBytes = try Data(contentsOf: URL(fileURLWithPath: model))
        let link = run.path("link.json")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: model)
        let b = try run.cli("score m.json d.csv --out (a symlink to m.json)", ["score", model, data, "--out", link]) { "m.json unchanged" }
        #expect(b.status == 1 && b.stderr.contains("the model"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == modelBytes)
        let history = run.path("h.sqlite")
        let c = try run.cli("score --out h.sqlite --db h.sqlite", ["score", model, data, "--db", history, "--as-of", "2024-01-01", "--out", history])
        #expect(c.status == 1 && !FileManager.default.fileExists(atPath: history))
    }

    @Test func rewritesKeepModeAndSymlinksAndSweepStaleTemporaries() throws {
        let run = Run()
        let (data, model) = try run.fitted()
        let scores = run.path("s.csv")
        #expect(try CLI.run(["score", model, data, "--out", scores]).status == 0)
        chmod(scores, 0o600)
        let link = run.path("latest.csv")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "s.csv")
        // A killed run's temporary (a PID that cannot exist) and one of a process started later.
        let stale = run.path(".s.csv.tmp-999999999-42")
        try Data("partial".utf8).write(to: URL(fileURLWithPath: stale))
        let r = try run.cli("rewrite a 0600 file through a symlink", ["score", model, data, "--reasons", "1", "--out", link])
        #expect(r.status == 0, "\(r.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: scores)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "s.csv")
        #expect(try String(contentsOfFile: scores, encoding: .utf8).hasPrefix("customer,churn_probability,health_score,band,reason_1,status,problem\n"))
        #expect(!FileManager.default.fileExists(atPath: stale), "a stale temporary was not swept")
    }

    @Test func failedStandardOutputIsOneLineAndExit1() throws {
        let run = Run()
        let (data, model) = try run.fitted()
        let binary = CLI.executable.path
        for (name, redirect, mention) in [("score > /dev/full", "> /dev/full", "No space left"), ("score >&- (closed stdout)", ">&-", "Bad file descriptor")] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "'\(binary)' score '\(model)' '\(data)' \(redirect)"]
            let err = Pipe()
            p.standardError = err
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            print("MESSY\t\(name)\t\(p.terminationStatus)\t\(text.split(separator: "\n").first ?? "")\t")
            #expect(p.terminationStatus == 1 && text.contains(mention) && text.split(separator: "\n").count == 1, "\(name): \(text)")
        }
    }

    @Test func scoreDatabaseAndCSVAreOneUnit() throws {
        let run = Run()
        let (data, model) = try run.fitted()
        let history = run.path("h.sqlite")
        // The CSV cannot be written (its directory is missing): no run is recorded, no history made.
        let a = try run.cli("score --db --out into a missing directory", ["score", model, data, "--db", history, "--as-of", "2024-01-01",
                                                                           "--out", run.path("absent/s.csv")]) {
            FileManager.default.fileExists(atPath: history) ? "history exists" : "no history file"
        }
        #expect(a.status == 1)
        #expect(!FileManager.default.fileExists(atPath: history))
        #expect(try CLI.run(["score", model, data, "--db", history, "--as-of", "2024-01-01", "--out", run.path("s.csv")]).status == 0)
        let b = try run.cli("score --db --out into a missing directory, existing history",
                            ["score", model, data, "--db", history, "--as-of", "2024-02-01", "--out", run.path("absent/s.csv")])
        #expect(b.status == 1)
        #expect(try HistoryDatabase(path: history, readOnly: true).runs().map(\.asOf) == ["2024-01-01"])
        // Repeated ids: refused before a new history is created.
        let twice = try run.file("twice.csv", Self.history() + "C1,3,basic,0\n")
        let fresh = run.path("fresh.sqlite")
        let c = try run.cli("score --db with a repeated id", ["score", model, twice, "--db", fresh, "--as-of", "2024-01-01", "--out", run.path("t.csv")]) {
            FileManager.default.fileExists(atPath: fresh) ? "history file created" : "no history file"
        }
        #expect(c.status == 1 && c.stderr.contains("'C1' occurs 2 times"), "\(c.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fresh) && !FileManager.default.fileExists(atPath: run.path("t.csv")))
    }

    /// A writer killed inside its transaction leaves a hot journal; a read-only `trend` recovers it.
    @Test func aKilledWriterDoesNotLockReadersOut() throws {
        let run = Run()
        let (data, model) = try run.fitted()
        let history = run.path("h.sqlite")
        for date in ["2024-01-01", "2024-02-01"] {
            #expect(try CLI.run(["score", model, data, "--db", history, "--as-of", date, "--out", "/dev/null"]).status == 0)
        }
        // A writer that dies mid-transaction (os._exit skips the rollback): its journal stays hot.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import sqlite3, os
            c = sqlite3.connect(r'\(history)', isolation_level=None)
            c.execute('BEGIN IMMEDIATE'); c.execute("DELETE FROM scores WHERE as_of = '2024-02-01'")
            c.execute("DELETE FROM runs WHERE as_of = '2024-02-01'"); c.execute('PRAGMA cache_size = 0')
            c.execute('UPDATE runs SET row_count = row_count')
            os._exit(0)
            """]
        try p.run()
        p.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: history + "-journal"), "the simulated writer left no journal")
        let r = try run.cli("trend after a writer was killed mid-run", ["trend", "--db", history])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("2024-02-01 against 2024-01-01"), "\(r.stdout)")
    }

    // MARK: - The model file

    @Test func modelFilesNeedTheirChecksumAndOneValuePerKey() throws {
        let run = Run()
        let (data, model) = try run.fitted()
        var object = try run.model(model)
        object["checksum"] = nil
        let unsigned = run.path("unsigned.json")
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: unsigned))
        let a = try run.cli("model without its checksum", ["score", unsigned, data, "--out", run.path("s.csv")])
        #expect(a.status == 1 && a.stderr.contains("--allow-unsigned"), "\(a.stderr)")
        #expect(try run.cli("model without its checksum, --allow-unsigned", ["score", unsigned, data, "--allow-unsigned", "--out", run.path("s.csv")]).status == 0)
        object["checksum"] = NSNull()
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: unsigned))
        #expect(try CLI.run(["score", unsigned, data, "--out", run.path("s.csv")]).status == 1)
        let text = try String(contentsOfFile: model, encoding: .utf8)
        let doubled = run.path("doubled.json")
        try Data(text.replacingOccurrences(of: "\"format\" :", with: "\"toolVersion\" : \"9\",\n  \"format\" :").utf8).write(to: URL(fileURLWithPath: doubled))
        let b = try run.cli("model with a repeated key", ["score", doubled, data, "--out", run.path("s.csv")])
        #expect(b.status == 1 && b.stderr.contains("'toolVersion' appears twice"), "\(b.stderr)")
        let textVersion = run.path("v.json")
        try Data(text.replacingOccurrences(of: "\"formatVersion\" : \(ModelArtifact.currentFormatVersion)", with: "\"formatVersion\" : \"\(ModelArtifact.currentFormatVersion)\"").utf8).write(to: URL(fileURLWithPath: textVersion))
        let c = try run.cli("formatVersion written as text", ["score", textVersion, data, "--out", run.path("s.csv")])
        #expect(c.status == 1 && c.stderr.contains("formatVersion is the text \"\(ModelArtifact.currentFormatVersion)\""), "\(c.stderr)")
    }

    @Test func untrustworthyModelsSaySoDownstream() throws {
        let run = Run()
        // logins ≥ 20 never churn, < 20 always: complete separation.
        let data = try run.file("d.csv", Self.history(cell: { _, _, v in String(v) }).split(separator: "\n").enumerated().map { i, line -> String in
            guard i > 0 else { return String(line) }
            var f = line.split(separator: ",").map(String.init)
            f[3] = Double(f[1])! < 20 ? "1" : "0"
            return f.joined(separator: ",")
        }.joined(separator: "\n") + "\n")
        let model = run.path("m.json")
        #expect(try CLI.run(["fit", data, "--target", "churned", "--id", "customer", "--out", model, "--quiet"]).status == 0)
        let a = try run.cli("score a separated model", ["score", model, data, "--out", run.path("s.csv")])
        #expect(a.status == 0 && a.stderr.contains("carries the fit warning separation"), "\(a.stderr)")
        let b = try run.cli("score a separated model --require-trustworthy", ["score", model, data, "--require-trustworthy", "--out", run.path("t.csv")])
        #expect(b.status == 1 && b.stderr.contains("not trustworthy"), "\(b.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run.path("t.csv")))
    }

    // MARK: - Messages

    @Test func warningsSayWhatHappened() throws {
        let run = Run()
        let data = try run.file("d.csv", Self.history())
        let a = try run.cli("--max-iterations 2", ["fit", data, "--target", "churned", "--id", "customer", "--max-iterations", "2", "--out", run.path("m.json")])
        #expect(a.stdout.contains("did not converge after 2 iterations") && a.stdout.contains("iteration limit: raise --max-iterations (now 2)"), "\(a.stdout)")
        let blankLabel = try run.file("b.csv", Self.history() + "C999,3,basic,\n")
        let b = try run.cli("missing label under --missing impute", ["fit", blankLabel, "--target", "churned", "--id", "customer", "--missing", "impute", "--out", run.path("m.json")])
        #expect(b.stdout.contains("1 rows dropped (missing label: 1)") && !b.stdout.contains("pass --missing impute"), "\(b.stdout)")
    }
}
