import Foundation
import Testing
import FitEngine
import ScoringCore
import Tabular
import TestSupport
@testable import Training

/// brglm2::brglmFit(type = "AS_mean") on the first 500 rows of mlc_churn (Tests/Reference/), where
/// the plain fit is quasi-separated.
@Suite struct FirthTests {
    @Test func firthMatchesBrglm2OnTheFirst500Rows() throws {
        let text = try String(contentsOfFile: Fixtures.dataset("mlc_churn.csv"), encoding: .utf8)
        let dir = Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("first500.csv").path
        try Data((text.split(separator: "\n").prefix(501).joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        var options = FitOptions()
        options.firth = true
        var clock = Timings()
        let model = try FitPipeline.run(dataPath: path, roles: ColumnRoles(target: "churn"), options: options, timings: &clock).model
        #expect(model.fit.converged)
        #expect(model.fit.penalty == "firth")
        #expect(!model.warnings.contains { $0.code == "quasi_separation" || $0.code == "separation" })

        let estimates = try Fixtures.referenceColumn("mlc_first500_firth.csv", "estimate")
        let errors = try Fixtures.referenceColumn("mlc_first500_firth.csv", "std_error")
        var reference: [String: (Double, Double)] = [:]
        for (term, b) in estimates { reference[term] = (b, errors[term]!) }
        #expect(model.coefficients.count == reference.count)
        for c in model.coefficients {
            let (estimate, se) = try #require(reference[RConformanceTests.rName(c)])
            #expect(abs(c.estimate - estimate) <= 1e-6, "\(c.term): \(c.estimate) vs \(estimate)")
            #expect(relativeError(try #require(c.standardError), se) <= 1e-5, "\(c.term) SE")
        }
    }
}
