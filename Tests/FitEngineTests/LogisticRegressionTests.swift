import Foundation
import Testing
import TestSupport
@testable import FitEngine

/// n rows of a design with an intercept and correlated, shifted, scaled columns, and y drawn
/// from the logistic model with `beta`.
func simulate(n: Int, beta: [Double], seed: UInt64) -> LogisticProblem {
    var rng = SeededRandom(seed: seed)
    let p = beta.count
    var x = Matrix(rows: n, cols: p, repeating: 1)
    var y = [Double](repeating: 0, count: n)
    for i in 0..<n {
        let common = rng.normal()
        var eta = beta[0]
        for j in 1..<p {
            // Columns on different scales and offsets, mildly correlated through `common`.
            let v = Double(j) * 10 + Double(j) * (0.5 * common + rng.normal())
            x[i, j] = v
            eta += beta[j] * v
        }
        y[i] = rng.uniform() < 1 / (1 + exp(-eta)) ? 1 : 0
    }
    return LogisticProblem(design: x, response: y, termNames: (0..<p).map { $0 == 0 ? "(Intercept)" : "x\($0)" })
}

@Suite struct LogisticRegressionTests {
    @Test func recoversKnownWeightsInside99PercentIntervals() {
        // Intercept chosen so the event rate is moderate: means are 10·j.
        let slopes: [Double] = [0.30, -0.25, 0.10, -0.08, 0.05, 0.04, -0.03, 0.02]
        let intercept = -slopes.enumerated().reduce(0) { $0 + $1.element * Double(($1.offset + 1) * 10) } - 1.0
        let beta = [intercept] + slopes
        let problem = simulate(n: 200_000, beta: beta, seed: 42)
        let fit = LogisticRegression.fit(problem)
        #expect(fit.converged)
        #expect(fit.aliasedTerms.isEmpty)
        var covered = 0
        for j in beta.indices {
            let b = fit.coefficients[j]!, se = fit.standardErrors[j]!
            if abs(b - beta[j]) <= 2.5758293035489 * se { covered += 1 }
        }
        #expect(covered * 100 >= 97 * beta.count)
    }

    @Test func gradientIsZeroAtTheOptimumOnTheOriginalScale() {
        let problem = simulate(n: 5_000, beta: [-3, 0.1, -0.05, 0.02], seed: 7)
        let fit = LogisticRegression.fit(problem)
        // Independent check: Xᵀ(y − μ) with μ from the reported coefficients.
        let x = problem.design
        for j in 0..<x.cols {
            var g = 0.0, scale = 0.0
            for i in 0..<x.rows {
                var eta = 0.0
                for k in 0..<x.cols { eta += fit.coefficients[k]! * x[i, k] }
                let mu = 1 / (1 + exp(-eta))
                g += x[i, j] * (problem.response[i] - mu)
                scale += abs(x[i, j])
            }
            #expect(abs(g) <= 1e-8 * scale)
        }
    }

    @Test func duplicatedColumnIsAliasedAndTheRestUnchanged() {
        let base = simulate(n: 3_000, beta: [-2, 0.05, -0.04], seed: 11)
        var wide = Matrix(rows: base.design.rows, cols: 4)
        for i in 0..<wide.rows {
            for j in 0..<3 { wide[i, j] = base.design[i, j] }
            wide[i, 3] = base.design[i, 1]
        }
        let withDuplicate = LogisticProblem(design: wide, response: base.response,
                                            termNames: base.termNames + ["x1_copy"])
        let a = LogisticRegression.fit(base)
        let b = LogisticRegression.fit(withDuplicate)
        #expect(b.aliasedTerms == [3])
        #expect(b.coefficients[3] == nil)
        #expect(b.warnings.contains(.aliased(terms: [3])))
        for j in 0..<3 {
            #expect(abs(a.coefficients[j]! - b.coefficients[j]!) <= 1e-9 * max(1, abs(a.coefficients[j]!)))
            #expect(relativeError(b.standardErrors[j]!, a.standardErrors[j]!) <= 1e-8)
        }
        #expect(abs(a.deviance - b.deviance) <= 1e-9 * a.deviance)
    }

    @Test func perfectlySeparatingMetricIsNamed() {
        var rng = SeededRandom(seed: 5)
        let n = 400
        var x = Matrix(rows: n, cols: 3, repeating: 1)
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let s = rng.normal() * 3 + 10
            x[i, 1] = rng.normal()          // noise metric
            x[i, 2] = s                     // separating metric
            y[i] = s > 10 ? 1 : 0
        }
        let fit = LogisticRegression.fit(LogisticProblem(design: x, response: y, termNames: ["(Intercept)", "noise", "days_late"]))
        let separation = fit.warnings.compactMap { w -> (Bool, [Int])? in
            if case .separation(let complete, let terms, _) = w { return (complete, terms) }
            return nil
        }
        #expect(separation.count == 1)
        #expect(separation.first?.0 == true)
        #expect(separation.first?.1.contains(2) == true)
        #expect(separation.first?.1.contains(1) == false)
    }

    @Test func rareLevelWithOneClassIsQuasiSeparation() {
        var rng = SeededRandom(seed: 9)
        let n = 2_000
        var x = Matrix(rows: n, cols: 3, repeating: 1)
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            x[i, 1] = rng.normal()
            x[i, 2] = i % 200 == 0 ? 1 : 0   // a rare category whose 10 customers all stayed
            let eta = -1.5 + 0.8 * x[i, 1]
            y[i] = x[i, 2] == 1 ? 0 : (rng.uniform() < 1 / (1 + exp(-eta)) ? 1 : 0)
        }
        let fit = LogisticRegression.fit(LogisticProblem(design: x, response: y, termNames: ["(Intercept)", "usage", "state[ZZ]"]))
        let terms = fit.warnings.compactMap { w -> [Int]? in
            if case .separation(false, let t, _) = w { return t }
            return nil
        }
        #expect(terms == [[2]])
        // The other weight is still estimated normally.
        #expect(abs(fit.coefficients[1]! - 0.8) < 0.2)
    }

    @Test func constantColumnIsAliased() {
        var problem = simulate(n: 1_000, beta: [-1, 0.05], seed: 3)
        var x = Matrix(rows: problem.design.rows, cols: 3)
        for i in 0..<x.rows { x[i, 0] = 1; x[i, 1] = problem.design[i, 1]; x[i, 2] = 4.2 }
        problem = LogisticProblem(design: x, response: problem.response, termNames: ["(Intercept)", "x1", "flat"])
        let fit = LogisticRegression.fit(problem)
        #expect(fit.aliasedTerms == [2])
        #expect(fit.converged)
    }
}


@Suite struct VarianceInflationTests {
    /// With two slopes, VIF = 1/(1 − r²) for their sample correlation r.
    @Test func twoColumnsGiveOneOverOneMinusRSquared() {
        var rng = SeededRandom(seed: 21)
        let n = 2_000
        var x = Matrix(rows: n, cols: 3, repeating: 1)
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let a = rng.normal(), b = 0.8 * a + 0.6 * rng.normal()
            x[i, 1] = 3 + 2 * a
            x[i, 2] = -1 + 0.5 * b
            y[i] = rng.uniform() < 1 / (1 + exp(-(0.3 * a - 0.2 * b))) ? 1 : 0
        }
        var m1 = 0.0, m2 = 0.0
        for i in 0..<n { m1 += x[i, 1]; m2 += x[i, 2] }
        m1 /= Double(n); m2 /= Double(n)
        var s11 = 0.0, s22 = 0.0, s12 = 0.0
        for i in 0..<n {
            let d1 = x[i, 1] - m1, d2 = x[i, 2] - m2
            s11 += d1 * d1; s22 += d2 * d2; s12 += d1 * d2
        }
        let r2 = s12 * s12 / (s11 * s22)
        let fit = LogisticRegression.fit(LogisticProblem(design: x, response: y, termNames: ["(Intercept)", "a", "b"]))
        #expect(fit.varianceInflation[0] == nil)
        #expect(relativeError(fit.varianceInflation[1]!, 1 / (1 - r2)) <= 1e-10)
        #expect(relativeError(fit.varianceInflation[2]!, 1 / (1 - r2)) <= 1e-10)
    }
}
