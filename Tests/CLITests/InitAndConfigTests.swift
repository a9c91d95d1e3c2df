import Foundation
import Testing
import TestSupport

/// `init` writes a starter the analyst edits; `fit --config` uses it, flags still win.
@Suite struct InitAndConfigTests {
    @Test func initThenFitWithTheEditedConfig() throws {
        let dir = Fixtures.temporaryDirectory()
        let config = dir.appendingPathComponent("health.yaml").path
        let data = Fixtures.dataset("simulated_history.csv")
        let initRun = try CLI.run(["init", data, "--target", "churned_next_month", "--id", "customer_id", "--time", "snapshot_date",
                                   "--out", config])
        #expect(initRun.status == 0, "\(initRun.stderr)")
        var text = try String(contentsOfFile: config, encoding: .utf8)
        #expect(text.contains("missing: impute") && text.contains("csat:") && text.contains("transform: log1p"))
        #expect(!text.contains("  customer_id:"))  // the id is a role, not a metric

        // A second init refuses to overwrite the analyst's edits.
        let again = try CLI.run(["init", data, "--target", "churned_next_month", "--out", config])
        #expect(again.status != 0 && again.stderr.contains("--force"))

        // The analyst's edit: logins are healthier when higher.
        text = text.replacingOccurrences(of: "  logins:\n    type: numeric\n    healthier_when: unknown",
                                         with: "  logins:\n    type: numeric\n    healthier_when: higher")
        #expect(text.contains("healthier_when: higher"))
        try Data(text.utf8).write(to: URL(fileURLWithPath: config))
        let model = dir.appendingPathComponent("m.json").path
        let fit = try CLI.run(["fit", data, "--config", config, "--covariance", "cluster:customer_id", "--out", model])
        #expect(fit.status == 0, "\(fit.stderr)")
        #expect(fit.stdout.contains("Constraints:      logins <= 0.0"))
        #expect(fit.stdout.contains("Transforms:"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model))) as? [String: Any]
        let schema = json?["schema"] as? [String: Any]
        #expect(schema?["id"] as? String == "customer_id" && schema?["missingPolicy"] as? String == "impute")

        // Flags win over the file.
        let dropped = try CLI.run(["fit", data, "--config", config, "--missing", "drop", "--json"])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        #expect(dropped.stdout.contains("\"missingPolicy\" : \"drop\""))
    }

    @Test func initToStandardOutput() throws {
        let r = try CLI.run(["init", Fixtures.dataset("mlc_churn.csv"), "--target", "churn", "--out", "-"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("# healthscore metric configuration"))
        #expect(r.stdout.contains("# group: total_day_minutes_group"))
    }
}
