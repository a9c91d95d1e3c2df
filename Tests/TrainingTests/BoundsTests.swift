import Foundation
import Testing
import FitEngine
import ScoringCore
import Tabular
import TestSupport
@testable import Training

/// Sign constraints from business knowledge on mlc_churn, checked by KKT conditions computed here,
/// independently of the solver, on the original scale.
@Suite struct BoundsTests {
    @Test func bindingBoundsSatisfyKKTAndAreReported() throws {
        let data = Fixtures.dataset("mlc_churn.csv")
        let roles = ColumnRoles(target: "churn", exclude: ["state", "total_day_charge", "total_eve_charge", "total_night_charge", "total_intl_charge"])
        let bounds = [TermBound(term: "number_customer_service_calls", upper: 0),   // binds: calls raise churn
                      TermBound(term: "total_intl_calls", lower: 0),               // binds: the estimate is negative
                      TermBound(term: "account_length", lower: 0)]                 // does not bind
        var clock = Timings()
        let model = try FitPipeline.fit(FitSpec(roles: roles, bounds: bounds), .file(data), timings: &clock).model
        let w = try #require(model.warnings.first { $0.code == "binding_constraint" })
        #expect(Set(w.terms) == ["number_customer_service_calls", "total_intl_calls"])

        // Independent gradient of ℓ: Xᵀ(y − μ) with μ from the reported coefficients.
        var csv = CSVOptions()
        csv.textColumns = ["churn"]
        csv.skipColumns = Set(roles.exclude)
        let design = try DesignBuilder.build(try CSVReader.read(path: data, options: csv), roles: roles, naValues: FitPipeline.defaultNAValues)
        let n = design.rows, p = design.termNames.count
        let beta = design.termNames.map { t in model.coefficients.first { $0.term == t }!.estimate }
        var residual = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var eta = 0.0
            for j in 0..<p { eta += beta[j] * design.storage[j * n + i] }
            residual[i] = design.response[i] - 1 / (1 + exp(-eta))
        }
        for j in 0..<p {
            var g = 0.0, scale = 0.0
            for i in 0..<n { g += design.storage[j * n + i] * residual[i]; scale += abs(design.storage[j * n + i]) }
            let term = design.termNames[j]
            switch term {
            case "number_customer_service_calls":
                #expect(beta[j] == 0 && g > 0, "held at its upper bound, the likelihood pushes up")
            case "total_intl_calls":
                #expect(beta[j] == 0 && g < 0, "held at its lower bound, the likelihood pushes down")
            default:
                #expect(abs(g) <= 1e-8 * scale, "\(term): stationarity |g| = \(abs(g))")
            }
        }
        let account = try #require(model.coefficients.first { $0.term == "account_length" })
        #expect(account.estimate > 0 && account.standardError != nil)
        #expect(model.coefficients.first { $0.term == "total_intl_calls" }?.standardError == nil)
    }

    @Test func boundOnAnUnknownTermIsAClearError() throws {
        var clock = Timings()
        #expect {
            _ = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn"), bounds: [TermBound(term: "logins", upper: 0)]),
                                    .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock)
        } throws: { "\($0)".contains("'logins'") && "\($0)".contains("Fix:") }
    }

    @Test func parsing() {
        #expect(TermBound(parsing: "logins<=0") == TermBound(term: "logins", upper: 0))
        #expect(TermBound(parsing: "plan[pro] >= -0.5") == TermBound(term: "plan[pro]", lower: -0.5))
        #expect(TermBound(parsing: "logins=0") == nil)
        #expect(TermBound(parsing: "<=1") == nil)
    }
}
