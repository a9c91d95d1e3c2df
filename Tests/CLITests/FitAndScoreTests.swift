import Foundation
import Testing
import TestSupport

@Suite struct FitAndScoreTests {
    @Test func fitWritesAModelAndScoreReproducesItsFittedValues() throws {
        let dir = Fixtures.temporaryDirectory()
        let model = dir.appendingPathComponent("model.json").path
        let scores = dir.appendingPathComponent("scores.csv").path
        let data = Fixtures.dataset("mlc_churn.csv")
        let fit = try CLI.run(["fit", data, "--target", "churn", "--out", model])
        #expect(fit.status == 0, "\(fit.stderr)")
        #expect(fit.stdout.contains("Log-likelihood:   -1526.9345"))
        #expect(fit.stdout.contains("international_plan[yes]"))
        #expect(fit.stdout.contains("Model written to"))

        let score = try CLI.run(["score", model, data, "--out", scores])
        #expect(score.status == 0, "\(score.stderr)")
        let lines = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "row,churn_probability,health_score,band,reason_1,reason_2,reason_3,status,problem")
        #expect(lines.count == 5001)
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            let p = Double(f[1])!, h = Double(f[2])!
            #expect(p > 0 && p < 1)
            #expect(abs(h - 100 * (1 - p)) <= 0.005 + 1e-9)
        }
    }

    @Test func quietFitPrintsNothingAndWritesTheModel() throws {
        let model = Fixtures.temporaryDirectory().appendingPathComponent("q.json").path
        let r = try CLI.run(["fit", Fixtures.dataset("mlc_churn.csv"), "--target", "churn", "--penalty", "l2", "--lambda", "auto",
                             "--folds", "3", "--quiet", "--out", model])
        #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(r.stdout)\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: model))
    }

    @Test func jsonFlagPrintsTheArtifact() throws {
        let r = try CLI.run(["fit", Fixtures.dataset("mlc_churn.csv"), "--target", "churn", "--json"])
        #expect(r.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(object?["format"] as? String == "healthscore-model")
        let coefficients = object?["coefficients"] as? [[String: Any]]
        #expect(coefficients?.count == 70)
        #expect(coefficients?.first?["term"] as? String == "(Intercept)")
    }

    @Test func idColumnIsCarriedIntoTheScores() throws {
        let dir = Fixtures.temporaryDirectory()
        let data = dir.appendingPathComponent("d.csv")
        var csv = "customer,logins,plan,churned\n"
        for i in 0..<60 { csv += "\"C,\(i)\",\(i % 7),\(i % 3 == 0 ? "pro" : "basic"),\(i % 4 == 0 ? "yes" : "no")\n" }
        try Data(csv.utf8).write(to: data)
        let model = dir.appendingPathComponent("m.json").path
        #expect(try CLI.run(["fit", data.path, "--target", "churned", "--id", "customer", "--out", model]).status == 0)
        let r = try CLI.run(["score", model, data.path])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "customer,churn_probability,health_score,band,reason_1,reason_2,reason_3,status,problem")
        #expect(lines.dropFirst().first?.hasPrefix("\"C,0\",") == true)
    }

    @Test func unknownLevelPolicyReferenceScoresTheRow() throws {
        let dir = Fixtures.temporaryDirectory()
        let train = dir.appendingPathComponent("t.csv")
        try Data("logins,plan,churned\n1,basic,1\n5,pro,0\n2,basic,1\n7,pro,0\n3,basic,0\n6,pro,1\n".utf8).write(to: train)
        let model = dir.appendingPathComponent("m.json").path
        #expect(try CLI.run(["fit", train.path, "--target", "churned", "--out", model]).status == 0)
        let fresh = dir.appendingPathComponent("new.csv")
        try Data("logins,plan\n3,gold\n3,basic\n".utf8).write(to: fresh)
        let r = try CLI.run(["score", model, fresh.path, "--unknown-level", "reference"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] }
        #expect(rows.count == 2 && rows[0] == rows[1])
    }
}

@Suite struct LambdaAutoTests {
    @Test func crossValidatedLassoPrintsThePathAndRecordsTheChoice() throws {
        let r = try CLI.run(["fit", Fixtures.dataset("simulated_history.csv"), "--target", "churned_next_month",
                             "--id", "customer_id", "--time", "snapshot_date", "--penalty", "l1", "--lambda", "auto", "--folds", "4"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Cross-validation: 4 folds"))
        #expect(r.stdout.contains("cross_validation: λ chosen by 4-fold cross-validation"))
        #expect(r.stdout.contains("grouped by 'customer_id'"))
        #expect(r.stdout.contains("^") && r.stdout.contains("*"))
    }

    @Test func penaltyWithoutLambdaIsAOneLineError() throws {
        let r = try CLI.run(["fit", Fixtures.dataset("mlc_churn.csv"), "--target", "churn", "--penalty", "l2"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--lambda") && r.stderr.split(separator: "\n").count == 1)
    }
}
