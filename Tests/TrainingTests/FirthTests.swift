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
        var clock = Timings()
        let model = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn"), estimator: .firth), .file(path), timings: &clock).model
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

    /// modeldata's credit_data (4,454 rows, blanks in Home, Marital, Job, Income, Assets, Debt):
    /// with `--missing impute` the one-row Marital and two-row Job `(missing)` levels make full
    /// modified-score steps cycle; the fit must converge by its stated rule and agree with brglm2
    /// (started at our estimate, converged by its own rule; Tests/Reference/scripts/credit_firth.R).
    @Test(arguments: [(MissingPolicy.impute, "credit_impute_firth.csv", 1e-6), (.drop, "credit_complete_firth.csv", 1e-8)])
    func firthConvergesOnCreditDataWithBlanks(missing: MissingPolicy, reference file: String, tolerance: Double) throws {
        var roles = ColumnRoles(target: "Status", positive: "bad")
        roles.missing = missing
        var clock = Timings()
        let model = try FitPipeline.fit(FitSpec(roles: roles, estimator: .firth), .file(Fixtures.dataset("credit_data.csv")), timings: &clock).model
        #expect(model.fit.converged, "\(model.fit.iterations) iterations")
        #expect(model.fit.iterations < 40)
        #expect(!model.warnings.contains { $0.code == "not_converged" })
        let last = try #require(model.fit.history.last)
        #expect(last.decrement / 2 <= Double.ulpOfOne * (abs(model.fit.logLikelihood) + 1) * 4, "final decrement \(last.decrement)")
        let estimates = try Fixtures.referenceColumn(file, "estimate")
        let errors = try Fixtures.referenceColumn(file, "std_error")
        #expect(model.coefficients.count == estimates.count)
        for c in model.coefficients {
            let estimate = try #require(estimates[c.term], "\(c.term) not in \(file)")
            #expect(abs(c.estimate - estimate) <= tolerance * max(1, abs(estimate)), "\(c.term): \(c.estimate) vs \(estimate)")
            #expect(relativeError(try #require(c.standardError), errors[c.term]!) <= 100 * tolerance, "\(c.term) SE")
        }
    }
}
