import Foundation
import Testing
import FitEngine
import ScoringCore
import Tabular
import TestSupport
@testable import Training

/// sandwich::vcovHC(type = "HC0") and vcovCL(cluster = ~state, type = "HC0", cadjust = TRUE) on the
/// full mlc_churn glm, from Tests/Reference/.
@Suite struct RobustCovarianceTests {
    static func referenceSE(_ file: String, column: String) throws -> [String: Double] {
        try Fixtures.referenceColumn(file, column)
    }

    static func fit(_ covariance: CovarianceChoice, cluster: String? = nil) throws -> ModelArtifact {
        var clock = Timings()
        return try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn", cluster: cluster), covariance: covariance),
                                   .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock).model
    }

    func check(_ model: ModelArtifact, against reference: [String: Double]) throws {
        #expect(model.coefficients.count == 70)
        for c in model.coefficients {
            let r = try #require(reference[RConformanceTests.rName(c)])
            #expect(relativeError(try #require(c.standardError), r) <= 1e-6, "\(c.term)")
        }
    }

    @Test func hc0MatchesSandwich() throws {
        let model = try Self.fit(.hc0)
        #expect(model.fit.covariance == "hc0")
        try check(model, against: try Self.referenceSE("mlc_robust_hc0.csv", column: "robust_se"))
    }

    @Test func clusterOnStateMatchesVcovCL() throws {
        let model = try Self.fit(.cluster, cluster: "state")
        #expect(model.fit.covariance == "cluster:state (51 clusters)")
        try check(model, against: try Self.referenceSE("mlc_cluster_state_hc0.csv", column: "cluster_se"))
    }

    @Test func hc1IsHc0TimesNOverNMinusK() throws {
        let a = try Self.fit(.hc0), b = try Self.fit(.hc1)
        let factor = (5000.0 / (5000.0 - 70.0)).squareRoot()
        for (x, y) in zip(a.coefficients, b.coefficients) {
            // Not bit-equal: the intercept variance is a sum with heavy cancellation (means ≫ sds).
            #expect(relativeError(y.standardError!, x.standardError! * factor) <= 1e-9)
            #expect(x.estimate == y.estimate)
        }
    }
}
