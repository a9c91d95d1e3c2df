import Foundation
import Testing
import TestSupport

/// Each bad input gives one line on stderr naming the file (and row/column where it applies) and a
/// fix, a non-zero exit, and no output file.
@Suite struct BadInputTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var csv: [UInt8]?          // nil: no data file written
        var arguments: [String]    // DATA and OUT are replaced
        var mentions: [String]     // must appear in the message
        var config: String? = nil  // written to cfg.yaml, passed where CONFIG stands
        var description: String { name }
    }

    static let good = "customer,logins,plan,churned\nA,3,basic,1\nB,5,pro,0\nC,1,basic,1\nD,9,pro,0\nE,4,basic,0\nF,2,pro,1\n"
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let fit = ["fit", "DATA", "--target", "churned", "--id", "customer", "--out", "OUT"]

    static let cases: [Case] = [
        Case(name: "missing file", csv: nil, arguments: fit, mentions: ["data.csv"]),
        Case(name: "empty file", csv: [], arguments: fit, mentions: ["data.csv", "empty"]),
        Case(name: "header only", csv: bytes("customer,logins,plan,churned\n"), arguments: fit, mentions: ["data.csv", "no data rows"]),
        Case(name: "ragged row", csv: bytes(good + "G,3,basic\n"), arguments: fit, mentions: ["data.csv", "row 7", "line 8"]),
        Case(name: "unknown target", csv: bytes(good), arguments: ["fit", "DATA", "--target", "churn", "--out", "OUT"],
             mentions: ["data.csv", "churn", "--target"]),
        Case(name: "one-class label", csv: bytes(good.replacingOccurrences(of: ",1\n", with: ",0\n")), arguments: fit,
             mentions: ["data.csv", "churned", "both classes"]),
        Case(name: "non-binary label without --positive",
             csv: bytes("customer,logins,status\nA,1,active\nB,2,churned\nC,3,paused\n"),
             arguments: ["fit", "DATA", "--target", "status", "--out", "OUT"], mentions: ["data.csv", "status", "--positive"]),
        Case(name: "unterminated quote", csv: bytes(good + "G,\"3,basic,1\n"), arguments: fit, mentions: ["data.csv", "row 7", "quote"]),
        Case(name: "invalid UTF-8", csv: bytes("customer,logins,plan,churned\nA,3,basic,1\nB,5,") + [0xC3, 0x28] + bytes(",0\nC,1,pro,1\nD,2,basic,0\n"),
             arguments: fit, mentions: ["data.csv", "row 2", "plan", "UTF-8"]),
        Case(name: "duplicate header names", csv: bytes("customer,logins,logins,churned\nA,1,2,1\nB,2,3,0\n"), arguments: fit,
             mentions: ["data.csv", "logins"]),
        Case(name: "all-missing column", csv: bytes("customer,logins,notes,churned\nA,1,,1\nB,2,NA,0\nC,3,,1\nD,5,,0\n"), arguments: fit,
             mentions: ["data.csv", "notes", "--exclude"]),
        Case(name: "no rows left after dropping missing",
             csv: bytes("customer,logins,csat,churned\nA,1,,1\nB,2,4,\nC,,3,1\nD,5,,0\n"), arguments: fit,
             mentions: ["data.csv", "no rows left", "--missing impute"]),
        Case(name: "target listed in --exclude", csv: bytes(good),
             arguments: fit + ["--exclude", "churned"], mentions: ["data.csv", "churned", "--exclude"]),
        Case(name: "Inf in a metric", csv: bytes(good.replacingOccurrences(of: "C,1,basic", with: "C,Inf,basic")), arguments: fit,
             mentions: ["data.csv", "row 3", "logins", "Inf"]),
        Case(name: "score with a model file that is not a healthscore model", csv: bytes(good),
             arguments: ["score", "NOTMODEL", "DATA", "--out", "OUT"], mentions: ["not-a-model.json", "not a healthscore model"]),
        Case(name: "score with a missing model column", csv: bytes("customer,plan\nA,basic\n"),
             arguments: ["score", "MODEL", "DATA", "--out", "OUT"], mentions: ["logins"]),
        Case(name: "score with an unseen category level", csv: bytes("customer,logins,plan\nA,3,gold\n"),
             arguments: ["score", "MODEL", "DATA", "--out", "OUT"], mentions: ["data.csv", "row 1", "plan", "gold", "--unknown-level"]),
        Case(name: "unknown --missing policy", csv: bytes(good), arguments: fit + ["--missing", "zero"], mentions: ["--missing"]),
        Case(name: "unknown --covariance", csv: bytes(good), arguments: fit + ["--covariance", "cluster:"], mentions: ["--covariance"]),
        Case(name: "cluster column that does not exist", csv: bytes(good), arguments: fit + ["--covariance", "cluster:region"],
             mentions: ["data.csv", "region"]),
        Case(name: "malformed --bound", csv: bytes(good), arguments: fit + ["--bound", "logins=0"], mentions: ["--bound"]),
        Case(name: "--bound on an unknown term", csv: bytes(good), arguments: fit + ["--bound", "visits<=0"], mentions: ["visits", "--bound"]),
        Case(name: "text in a numeric column at scoring, --strict", csv: bytes("customer,logins,plan\nA,3,basic\nB,lots,pro\n"),
             arguments: ["score", "MODEL", "DATA", "--out", "OUT", "--strict"], mentions: ["data.csv", "row 2", "logins", "lots"]),
        Case(name: "config with a typo", csv: bytes(good), arguments: ["fit", "DATA", "--config", "CONFIG", "--out", "OUT"],
             mentions: ["cfg.yaml:3", "healthier_wen"], config: "target: churned\nmetrics:\n  logins: {healthier_wen: higher}\n"),
        Case(name: "config that is not YAML", csv: bytes(good), arguments: ["fit", "DATA", "--config", "CONFIG", "--out", "OUT"],
             mentions: ["cfg.yaml", "not valid YAML"], config: "target: [churned\n"),
        Case(name: "config group naming a missing column", csv: bytes(good), arguments: ["fit", "DATA", "--config", "CONFIG", "--out", "OUT"],
             mentions: ["data.csv", "visits"], config: "target: churned\nmetrics:\n  logins: {group: use}\n  visits: {group: use}\n"),
        Case(name: "config without a target", csv: bytes(good), arguments: ["fit", "DATA", "--config", "CONFIG", "--out", "OUT"],
             mentions: ["cfg.yaml", "target"], config: "metrics:\n  logins: {healthier_when: higher}\n"),
        Case(name: "init with an unknown target", csv: bytes(good), arguments: ["init", "DATA", "--target", "churn", "--out", "OUT"],
             mentions: ["data.csv", "churn"]),
        Case(name: "score --db with an impossible --as-of", csv: bytes(good),
             arguments: ["score", "MODEL", "DATA", "--db", "OUT", "--as-of", "2024-13-45"], mentions: ["--as-of", "2024-13-45"]),
        Case(name: "score --db without --as-of", csv: bytes(good), arguments: ["score", "MODEL", "DATA", "--db", "OUT"],
             mentions: ["--db", "--as-of"]),
        Case(name: "serve with a missing token file", csv: nil, arguments: ["serve", "--model", "MODEL", "--token-file", "DATA"],
             mentions: ["data.csv", "--token-file"]),
        Case(name: "serve with a guessable token", csv: bytes("secret\n"), arguments: ["serve", "--model", "MODEL", "--token-file", "DATA"],
             mentions: ["data.csv", "16"]),
        Case(name: "cross-validation with one fold", csv: bytes(good),
             arguments: ["fit", "DATA", "--target", "churned", "--penalty", "l1", "--lambda", "auto", "--folds", "1", "--out", "OUT"],
             mentions: ["--folds"]),
        Case(name: "lasso without a lambda", csv: bytes(good), arguments: ["fit", "DATA", "--target", "churned", "--penalty", "l1", "--out", "OUT"],
             mentions: ["--lambda"]),
        Case(name: "--out in a directory that does not exist", csv: bytes(good),
             arguments: ["fit", "DATA", "--target", "churned", "--out", "NODIR"], mentions: ["absent/model.json", "create the directory"]),
    ]

    /// A valid model for the scoring cases.
    static let model: URL = {
        let dir = Fixtures.temporaryDirectory()
        let data = dir.appendingPathComponent("train.csv")
        try! Data(good.utf8).write(to: data)
        let out = dir.appendingPathComponent("model.json")
        let r = try! CLI.run(["fit", data.path, "--target", "churned", "--id", "customer", "--out", out.path])
        precondition(r.status == 0, r.stderr)
        return out
    }()

    @Test(arguments: cases)
    func rejectsWithOneLineAndNoOutput(_ c: Case) throws {
        let dir = Fixtures.temporaryDirectory()
        let data = dir.appendingPathComponent("data.csv")
        if let csv = c.csv { try Data(csv).write(to: data) }
        let notModel = dir.appendingPathComponent("not-a-model.json")
        try Data("{\"hello\": 1}".utf8).write(to: notModel)
        let out = dir.appendingPathComponent("out.file")
        let config = dir.appendingPathComponent("cfg.yaml")
        if let text = c.config { try Data(text.utf8).write(to: config) }
        let args = c.arguments.map { a -> String in
            switch a {
            case "CONFIG": return config.path
            case "DATA": return data.path
            case "OUT": return out.path
            case "NOTMODEL": return notModel.path
            case "MODEL": return Self.model.path
            case "NODIR": return dir.appendingPathComponent("absent/model.json").path
            default: return a
            }
        }
        let result = try CLI.run(args)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count >= 1)
        let message = String(lines.first { $0.contains("rror") } ?? lines.first ?? "")
        #expect(lines.count == 1, "more than one line: \(result.stderr)")
        print("BAD-INPUT\tCLI\t\(c.name)\t\(message)")  // collected into the hardening report
        #expect(message.contains("Fix:"), "no fix in: \(message)")
        for m in c.mentions { #expect(message.contains(m), "'\(m)' not in: \(message)") }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }
}

@Suite struct DamagedModelTests {
    @Test func truncatedModelIsReportedAsSuch() throws {
        let dir = Fixtures.temporaryDirectory()
        let model = dir.appendingPathComponent("m.json").path
        #expect(try CLI.run(["fit", Fixtures.dataset("mlc_churn.csv"), "--target", "churn", "--out", model]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        let cut = dir.appendingPathComponent("cut.json")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        let out = dir.appendingPathComponent("s.csv").path
        let r = try CLI.run(["score", cut.path, Fixtures.dataset("mlc_churn.csv"), "--out", out])
        #expect(r.status != 0)
        #expect(r.stderr.contains("cut.json") && r.stderr.contains("not valid JSON"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
