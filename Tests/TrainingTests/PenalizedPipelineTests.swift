import Foundation
import Testing
import FitEngine
import ScoringCore
import Tabular
import TestSupport
@testable import Training

/// The elastic net through the whole pipeline (CSV → design → fit → artifact) against glmnet's exact
/// optimum in Tests/Reference/, and the artifact scores like any other.
@Suite struct PenalizedPipelineTests {
    @Test(arguments: [(1.0, 0.01, "mlc_glmnet_alpha1_lambda0.01.csv"), (0.5, 0.001, "mlc_glmnet_alpha0.5_lambda0.001.csv"),
                      (0.0, 0.01, "mlc_glmnet_alpha0_lambda0.01.csv")])
    func artifactCarriesGlmnetsOptimum(alpha: Double, lambda: Double, file: String) throws {
        var clock = Timings()
        let outcome = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn"), estimator: .elasticNet(alpha: alpha, lambda: lambda)),
                                          .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock)
        let (model, fit) = (outcome.model, try #require(outcome.penalized))
        #expect(fit.converged)
        let reference = try Fixtures.referenceColumn(file, "estimate")
        for c in model.coefficients {
            let r = try #require(reference[RConformanceTests.rName(c)], "\(c.term)")
            #expect(abs(c.estimate - r) <= 1e-6, "\(c.term)")
            #expect((c.estimate == 0) == (r == 0), "\(c.term) zero pattern")
            #expect(c.standardError == nil && c.pValue == nil)
        }
        #expect(model.warnings.contains { $0.code == "penalised_inference" })
        let back = try ModelArtifact.decode(try model.encoded(), path: "memory")
        let (table, columns) = try ScoringInput.read(path: Fixtures.dataset("mlc_churn.csv"), model: back)
        let scores = try Scorer(model: back).score(rowCount: table.rowCount, columns: columns)
        #expect(scores.count == 5000 && scores.allSatisfy { $0.churnProbability > 0 && $0.churnProbability < 1 })
    }
}
