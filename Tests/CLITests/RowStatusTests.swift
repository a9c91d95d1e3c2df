import Foundation
import TestSupport
import Testing

/// `score` goes on past rows it cannot score: each gets status=unscored and a problem naming the
/// column, standard error sums them up, and `--strict` refuses the file instead.
@Suite struct RowStatusTests {
    /// A telco-style export: 7,043 customers, `total_charges` blank for 11 new ones (as in IBM's
    /// Telco file), a contract type, a charge that log1p tames.
    static func telco(blanks: Set<Int>) -> String {
        var g = SeededRandom(seed: 7043)
        var csv = "customer_id,tenure,monthly_charges,total_charges,contract,churn\n"
        let contracts = ["month-to-month", "one-year", "two-year"]
        for i in 0..<7043 {
            let tenure = Int(g.uniform() * 72) + 1
            let monthly = 20 + (g.uniform() * 100).rounded() / 1
            let contract = contracts[Int(g.uniform() * 3)]
            let eta = -1.5 - 0.04 * Double(tenure) + 0.015 * monthly + (contract == "month-to-month" ? 1.2 : 0)
            let churned = g.uniform() < 1 / (1 + exp(-eta))
            let total = blanks.contains(i) ? "" : String(format: "%.2f", Double(tenure) * monthly)
            csv += "C\(String(format: "%05d", i)),\(tenure),\(monthly),\(total),\(contract),\(churned ? "Yes" : "No")\n"
        }
        return csv
    }

    static let blankRows: Set<Int> = [488, 753, 936, 1082, 1340, 3331, 3826, 4380, 5218, 6670, 6754]

    struct Output {
        var header: [String]
        var rows: [[String]]
    }

    static func read(_ path: String) throws -> Output {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        func fields(_ line: String) -> [String] {
            var out: [String] = [], cell = "", quoted = false
            for ch in line {
                if ch == "\"" { quoted.toggle(); continue }
                if ch == "," && !quoted { out.append(cell); cell = ""; continue }
                cell.append(ch)
            }
            return out + [cell]
        }
        return Output(header: fields(lines[0]), rows: lines.dropFirst().map(fields))
    }

    @Test func elevenBlankCellsLeaveElevenRowsUnscoredAndTheRestScored() throws {
        let dir = Fixtures.temporaryDirectory()
        let data = dir.appendingPathComponent("telco.csv").path
        try Self.telco(blanks: Self.blankRows).write(toFile: data, atomically: true, encoding: .utf8)
        let model = dir.appendingPathComponent("m.json").path
        let fit = try CLI.run(["fit", data, "--target", "churn", "--id", "customer_id", "--out", model, "--quiet"])
        #expect(fit.status == 0, "\(fit.stderr)")

        let out = dir.appendingPathComponent("scores.csv").path
        let r = try CLI.run(["score", model, data, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let scores = try Self.read(out)
        #expect(scores.header == ["customer_id", "churn_probability", "health_score", "band", "reason_1", "reason_2", "reason_3", "status", "problem"])
        #expect(scores.rows.count == 7043)
        let unscored = scores.rows.enumerated().filter { $0.element[7] == "unscored" }
        #expect(scores.rows.filter { $0[7] == "scored" }.count == 7032)
        #expect(Set(unscored.map(\.offset)) == Self.blankRows)
        for (_, row) in unscored {
            #expect(row[1].isEmpty && row[2].isEmpty && row[3].isEmpty && row[4].isEmpty)
            #expect(row[8] == "total_charges missing")
        }
        // One summary line per kind of problem, with its count, first rows and fix, then the totals.
        #expect(r.stderr.contains("11 rows unscored: 'total_charges' is missing; rows 489 (line 490), 754 (line 755)"), "\(r.stderr)")
        #expect(r.stderr.contains("--missing impute"))
        #expect(r.stderr.contains("scored 7032 of 7043 rows; 11 marked status=unscored"))

        // --strict: one error naming the first such row, exit 1, no file.
        let strictOut = dir.appendingPathComponent("strict.csv").path
        let strict = try CLI.run(["score", model, data, "--out", strictOut, "--strict"])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("row 489 (line 490), column 'total_charges': missing value"), "\(strict.stderr)")
        #expect(strict.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: strictOut))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.contains(".tmp-") })
    }

    /// One bad row per kind; every other row scores exactly as in the clean file.
    @Test(arguments: [
        ("missing under --missing drop", 5, "monthly_charges", "", "monthly_charges missing"),
        ("unseen level", 6, "contract", "three-year", "contract unseen level 'three-year'"),
        ("outside log1p's domain", 7, "total_charges", "-5", "total_charges -5.0 outside log1p"),
        ("not a number", 8, "monthly_charges", "1,234", "monthly_charges '1,234' not a number"),
        // Swift's Double(_:) reads hexadecimal: only decimal text is a number here.
        ("hexadecimal", 9, "monthly_charges", "0x19", "monthly_charges '0x19' not a number"),
    ])
    func eachKindOfProblemMarksItsRowOnly(kind: String, row: Int, column: String, value: String, problem: String) throws {
        let dir = Fixtures.temporaryDirectory()
        let clean = Self.telco(blanks: [])
        let train = dir.appendingPathComponent("train.csv").path
        try clean.write(toFile: train, atomically: true, encoding: .utf8)
        let model = dir.appendingPathComponent("m.json").path
        let fit = try CLI.run(["fit", train, "--target", "churn", "--id", "customer_id", "--transform", "total_charges=log1p",
                               "--out", model, "--quiet"])
        #expect(fit.status == 0, "\(fit.stderr)")

        var lines = clean.split(separator: "\n").map(String.init)
        let names = lines[0].split(separator: ",").map(String.init)
        var cells = lines[row + 1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells[names.firstIndex(of: column)!] = value.contains(",") ? "\"\(value)\"" : value
        lines[row + 1] = cells.joined(separator: ",")
        let bad = dir.appendingPathComponent("bad.csv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: bad, atomically: true, encoding: .utf8)

        let cleanOut = dir.appendingPathComponent("clean-scores.csv").path
        let badOut = dir.appendingPathComponent("bad-scores.csv").path
        #expect(try CLI.run(["score", model, train, "--out", cleanOut]).status == 0)
        let r = try CLI.run(["score", model, bad, "--out", badOut])
        #expect(r.status == 0, "\(kind): \(r.stderr)")
        let a = try Self.read(cleanOut), b = try Self.read(badOut)
        #expect(b.rows[row][7] == "unscored", "\(kind)")
        #expect(b.rows[row][8] == problem, "\(kind)")
        #expect(r.stderr.contains("1 row unscored") && r.stderr.contains("rows \(row + 1) (line \(row + 2))"), "\(kind): \(r.stderr)")
        for i in a.rows.indices where i != row { #expect(a.rows[i] == b.rows[i], "\(kind): row \(i + 1)") }
    }

    @Test func idAndKeptColumnsAreCopiedThrough() throws {
        let dir = Fixtures.temporaryDirectory()
        let data = dir.appendingPathComponent("d.csv").path
        try Self.telco(blanks: []).write(toFile: data, atomically: true, encoding: .utf8)
        let model = dir.appendingPathComponent("m.json").path
        // Fitted without an id: the scores are keyed by --id, with --keep beside it.
        #expect(try CLI.run(["fit", data, "--target", "churn", "--exclude", "customer_id", "--out", model, "--quiet"]).status == 0)
        let plain = try CLI.run(["score", model, data, "--reasons", "0"])
        #expect(plain.stdout.hasPrefix("row,churn_probability,health_score,band,status,problem\n1,"))
        let r = try CLI.run(["score", model, data, "--id", "customer_id", "--keep", "contract,tenure", "--reasons", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines[0] == "customer_id,contract,tenure,churn_probability,health_score,band,reason_1,status,problem")
        #expect(lines[1].hasPrefix("C00000,"))
        #expect(lines.count == 7044)
        let typo = try CLI.run(["score", model, data, "--keep", "contrct"])
        #expect(typo.status == 1 && typo.stdout.isEmpty)
        #expect(typo.stderr.contains("no column 'contrct' for --keep") && typo.stderr.contains("did you mean 'contract'?"), "\(typo.stderr)")
    }

    /// Rows scored by the unseen-level policy are counted on standard error; without an id the
    /// output still has a row number; a failed run says the old output file was kept.
    @Test func substitutedLevelsAreCountedAndFailuresSayTheOldFileStays() throws {
        let dir = Fixtures.temporaryDirectory()
        let clean = Self.telco(blanks: [])
        let train = dir.appendingPathComponent("train.csv").path
        try clean.write(toFile: train, atomically: true, encoding: .utf8)
        let model = dir.appendingPathComponent("m.json").path
        #expect(try CLI.run(["fit", train, "--target", "churn", "--id", "customer_id", "--out", model, "--quiet"]).status == 0)

        var lines = clean.split(separator: "\n").map(String.init)
        for row in [3, 9, 10] { lines[row] = lines[row].replacingOccurrences(of: "two-year", with: "Two-Year").replacingOccurrences(of: "one-year", with: "Two-Year").replacingOccurrences(of: "month-to-month", with: "Two-Year") }
        let odd = dir.appendingPathComponent("odd.csv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: odd, atomically: true, encoding: .utf8)
        let r = try CLI.run(["score", model, odd, "--unknown-level", "reference", "--reasons", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("3 scored rows have a 'contract' level the model never saw ('Two-Year'; first at row 3 (line 4)), scored as the reference level by --unknown-level reference"), "\(r.stderr)")
        // Under the default policy the same rows are unscored, and the fix points at the case difference.
        let strict = try CLI.run(["score", model, odd, "--strict"])
        #expect(strict.status == 1 && strict.stderr.contains("differs from the known level 'two-year' only in case or spaces"), "\(strict.stderr)")
        // evaluate takes the same policy.
        let evaluate = try CLI.run(["evaluate", model, odd, "--unknown-level", "reference"])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")

        // No id column in the file: the scores carry the row number.
        let noID = dir.appendingPathComponent("noid.csv").path
        try (lines.map { $0.split(separator: ",", maxSplits: 1).last.map(String.init) ?? $0 }.joined(separator: "\n") + "\n")
            .write(toFile: noID, atomically: true, encoding: .utf8)
        let keyless = try CLI.run(["score", model, noID, "--reasons", "0", "--unknown-level", "other"])
        #expect(keyless.stdout.hasPrefix("row,churn_probability,"), "\(keyless.stdout.prefix(80))")

        // A failed run leaves last month's file, and says so.
        let out = dir.appendingPathComponent("scores.csv").path
        try "last month\n".write(toFile: out, atomically: true, encoding: .utf8)
        let failed = try CLI.run(["score", model, odd, "--strict", "--out", out])
        #expect(failed.status == 1 && failed.stderr.contains("still holds the previous output; it was not replaced"), "\(failed.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "last month\n")
    }
}
