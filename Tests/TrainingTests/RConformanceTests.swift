import Foundation
import Testing
import ScoringCore
import Tabular
import TestSupport
@testable import Training

/// R 4.2.2: glm(churn ~ ., family = binomial, control = glm.control(epsilon = 1e-14)) on mlc_churn.
/// Values from ../shared/reference/README.md and mlc_glm_coefficients.csv.
@Suite struct RConformanceTests {
    struct RRow { var estimate: Double; var se: Double; var z: Double; var p: Double }

    static func referenceTable() throws -> [String: RRow] {
        let file = "mlc_glm_coefficients.csv"
        let estimate = try Fixtures.referenceColumn(file, "estimate"), se = try Fixtures.referenceColumn(file, "std_error")
        let z = try Fixtures.referenceColumn(file, "z"), p = try Fixtures.referenceColumn(file, "p_value")
        var rows: [String: RRow] = [:]
        for (term, b) in estimate { rows[term] = RRow(estimate: b, se: se[term]!, z: z[term]!, p: p[term]!) }
        return rows
    }

    /// R pastes column and level: `state[AL]` is R's `stateAL`.
    static func rName(_ c: Coefficient) -> String { c.term == Coefficient.interceptTerm ? c.term : (c.column ?? "") + (c.level ?? "") }

    static let fitted: FitOutcome = {
        var clock = Timings()
        return try! FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock)
    }()

    @Test func coefficientsAndStandardErrorsMatchR() throws {
        let reference = try Self.referenceTable()
        let model = Self.fitted.model
        #expect(model.coefficients.count == 70)
        #expect(model.aliased.isEmpty)
        var worstCoef = 0.0, worstSE = 0.0
        for c in model.coefficients {
            let r = try #require(reference[Self.rName(c)], "no R term for \(c.term)")
            let se = try #require(c.standardError)
            let coefError = abs(c.estimate - r.estimate) / max(abs(r.estimate), r.se)
            worstCoef = max(worstCoef, coefError)
            worstSE = max(worstSE, relativeError(se, r.se))
            #expect(coefError <= 1e-6, "\(c.term): \(c.estimate) vs R \(r.estimate)")
            #expect(relativeError(se, r.se) <= 1e-6, "\(c.term) SE: \(se) vs R \(r.se)")
            #expect(abs(c.z! - r.z) <= 1e-5 * max(1, abs(r.z)))
            // d log p / d z ≈ −z, so a relative error e in z moves p by about z²·e relative.
            #expect(relativeError(c.pValue!, r.p) <= 1e-6 * max(1, r.z * r.z))
        }
        print("mlc_churn vs R glm: max coefficient error \(worstCoef) (scaled), max SE relative error \(worstSE)")
    }

    @Test func likelihoodStatisticsMatchR() {
        let f = Self.fitted.model.fit
        #expect(relativeError(f.logLikelihood, -1526.934464754635) <= 1e-9)
        #expect(relativeError(f.deviance, 3053.868929509269) <= 1e-9)
        #expect(relativeError(f.nullDeviance, 4074.967740808543) <= 1e-12)
        // AIC/BIC equal to R's printed digits.
        #expect(abs(f.aic - 3193.8689295093) < 5e-10)
        #expect(abs(f.bic - 3650.0724529084) < 5e-10)
        #expect(f.converged)
        #expect(f.nObservations == 5000)
        #expect(f.nDropped == 0)
        #expect(f.rank == 70)
    }

    @Test func nothingIsFlaggedOnAWellPosedFit() {
        let codes = Self.fitted.model.warnings.map(\.code)
        #expect(!codes.contains("separation") && !codes.contains("quasi_separation") && !codes.contains("not_converged"))
    }

    @Test func scoringCoreReproducesFittedProbabilities() throws {
        let model = Self.fitted.model
        let (table, columns) = try ScoringInput.read(path: Fixtures.dataset("mlc_churn.csv"), model: model)
        let scores = try Scorer(model: model).score(rowCount: table.rowCount, columns: columns)
        var worst = 0.0
        for (s, p) in zip(scores, Self.fitted.fit!.fittedProbabilities) { worst = max(worst, abs(s.churnProbability - p)) }
        #expect(worst <= 1e-12)
    }

    @Test func artifactRoundTripsThroughJSON() throws {
        let data = try Self.fitted.model.encoded()
        var back = try ModelArtifact.decode(data, path: "memory")
        #expect(back.checksum == (try Self.fitted.model.computedChecksum()))
        back.checksum = nil
        #expect(back == Self.fitted.model)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        for key in ["coefficients", "aliased", "fit", "warnings", "schema", "training"] { #expect(object[key] != nil) }
        let fit = object["fit"] as! [String: Any]
        for key in ["nObservations", "nDropped", "logLikelihood", "deviance", "aic", "bic", "iterations", "converged"] {
            #expect(fit[key] != nil, "fit.\(key)")
        }
    }
}

@Suite struct CollinearityReportTests {
    @Test func chargeAndMinutesAreFlaggedAsCollinear() throws {
        let model = RConformanceTests.fitted.model
        let w = try #require(model.warnings.first { $0.code == "collinear" })
        #expect(w.terms.contains("total_day_charge") && w.terms.contains("total_day_minutes"))
        #expect(!w.terms.contains("account_length"))
        let vif = Dictionary(uniqueKeysWithValues: model.coefficients.map { ($0.term, $0.vif) })
        #expect((vif["total_day_charge"]! ?? 0) > 1e6)
        #expect((vif["account_length"]! ?? 99) < 2)
        #expect(vif["(Intercept)"]! == nil)
    }
}
