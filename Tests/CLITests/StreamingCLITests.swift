import Foundation
import Testing
import TestSupport

/// `fit --streaming` as a user runs it.
@Suite struct StreamingCLITests {
    @Test func streamedFitPrintsTheInMemorySummary() throws {
        let data = Fixtures.dataset("mlc_churn.csv")
        let memory = try CLI.run(["fit", data, "--target", "churn", "--json"])
        let streamed = try CLI.run(["fit", data, "--target", "churn", "--json", "--streaming", "--timings"])
        #expect(memory.status == 0 && streamed.status == 0, "\(streamed.stderr)")
        let a = try JSONSerialization.jsonObject(with: Data(memory.stdout.utf8)) as! [String: Any]
        let b = try JSONSerialization.jsonObject(with: Data(streamed.stdout.utf8)) as! [String: Any]
        let ca = a["coefficients"] as! [[String: Any]], cb = b["coefficients"] as! [[String: Any]]
        #expect(ca.count == 70 && cb.count == 70)
        for (x, y) in zip(ca, cb) {
            #expect(x["term"] as? String == y["term"] as? String)
            let u = x["estimate"] as! Double, v = y["estimate"] as! Double
            #expect(abs(u - v) <= 1e-10 * max(1, abs(v)), "\(x["term"] ?? "")")
        }
        let fa = a["fit"] as! [String: Any], fb = b["fit"] as! [String: Any]
        #expect(relativeError(fb["deviance"] as! Double, fa["deviance"] as! Double) <= 1e-10)
        // Passes over the file are timed: the design's, the solver's, the scores'.
        #expect(streamed.stderr.contains("timing pass_1_seconds="))
        #expect(streamed.stderr.contains("timing scores_seconds="))
    }

    @Test(arguments: [["--penalty", "firth"], ["--covariance", "hc1"], ["--penalty", "l2", "--lambda", "auto"]])
    func optionsThatNeedEveryRowFailInOneLine(_ extra: [String]) throws {
        let r = try CLI.run(["fit", Fixtures.dataset("mlc_churn.csv"), "--target", "churn", "--streaming"] + extra)
        #expect(r.status != 0)
        #expect(r.stderr.contains("--streaming"), "\(r.stderr)")
        #expect(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count <= 2, "\(r.stderr)")
    }
}
