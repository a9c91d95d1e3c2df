import Foundation
import Testing
import FitEngine
import ScoringCore
import Tabular
import TestSupport
@testable import Training

@Suite struct WeightsTests {
    static func fit(_ csv: String, _ roles: ColumnRoles) throws -> FitOutcome { try fitCSV(csv, roles) }

    /// Rows with integer weights and the same rows repeated that many times give one likelihood.
    @Test func frequencyWeightsEqualRepeatedRows() throws {
        var rng = SeededRandom(seed: 99)
        var weighted = "logins,plan,w,churned\n", expanded = "logins,plan,churned\n"
        for _ in 0..<400 {
            let logins = Int(rng.uniform() * 30), plan = rng.uniform() < 0.4 ? "pro" : "basic"
            let churned = rng.uniform() < 1 / (1 + exp(-(1.0 - 0.12 * Double(logins)))) ? 1 : 0
            let w = 1 + Int(rng.uniform() * 3)
            weighted += "\(logins),\(plan),\(w),\(churned)\n"
            for _ in 0..<w { expanded += "\(logins),\(plan),\(churned)\n" }
        }
        let a = try Self.fit(weighted, ColumnRoles(target: "churned", weights: "w")).model
        let b = try Self.fit(expanded, ColumnRoles(target: "churned")).model
        #expect(a.schema.weightsColumn == "w")
        #expect(!a.schema.features.contains { $0.column == "w" })
        for (x, y) in zip(a.coefficients, b.coefficients) {
            #expect(x.term == y.term)
            #expect(abs(x.estimate - y.estimate) <= 1e-9 * max(1, abs(y.estimate)))
            #expect(relativeError(x.standardError!, y.standardError!) <= 1e-8)
        }
        #expect(relativeError(a.fit.logLikelihood, b.fit.logLikelihood) <= 1e-12)
    }

    /// With balanced class weights each class carries half the total weight, so at the optimum
    /// the weighted residuals of the intercept balance: Σ w(1 − μ) over churners = Σ wμ over the rest.
    @Test func balancedClassWeightsBalanceTheClasses() throws {
        var rng = SeededRandom(seed: 5)
        var csv = "usage,churned\n"
        for _ in 0..<1_000 {
            let u = rng.normal()
            csv += "\(u),\(rng.uniform() < 1 / (1 + exp(-(-2.5 - u))) ? 1 : 0)\n"
        }
        let plain = try Self.fit(csv, ColumnRoles(target: "churned"))
        let balanced = try Self.fit(csv, ColumnRoles(target: "churned", classWeight: .balanced))
        #expect(balanced.model.schema.classWeight == "balanced")
        let meanPlain = plain.fit!.fittedProbabilities.reduce(0, +) / 1000
        let meanBalanced = balanced.fit!.fittedProbabilities.reduce(0, +) / 1000
        #expect(meanBalanced > meanPlain + 0.2)  // the rare class is up-weighted
        // The slope keeps its sign and rough size; only the intercept absorbs the reweighting.
        #expect(balanced.model.coefficients[1].estimate < 0 && plain.model.coefficients[1].estimate < 0)
    }

    @Test func negativeWeightIsRejectedWithItsRow() throws {
        #expect {
            _ = try Self.fit("x,w,y\n1,1,0\n2,-1,1\n3,1,1\n", ColumnRoles(target: "y", weights: "w"))
        } throws: { error in
            "\(error)".contains("row 2") && "\(error)".contains("negative weight")
        }
    }
}
