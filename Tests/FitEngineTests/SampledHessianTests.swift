import Foundation
import Testing
import TestSupport
@testable import FitEngine

/// The sampled-information Newton path (`HessianSampling`) against the exact one: it changes the
/// route to the optimum, never the answer.
@Suite struct SampledHessianTests {
    static func options(sampled: Bool) -> FitOptions {
        var options = FitOptions()
        options.sampledHessianMinRows = sampled ? 0 : .max
        return options
    }

    static let beta = [-2.5, 0.08, -0.05, 0.03, 0.02, -0.01, 0.04]
    /// Sampled against exact path: see `sampledAndExactPathsReachTheSameFit`.
    static let standardErrorTolerance = 1e-7

    static func expectSameAnswer(_ a: LogisticFit, _ b: LogisticFit, coefficients: Double, standardErrors: Double) {
        #expect(a.converged && b.converged)
        #expect(relativeError(a.deviance, b.deviance) <= 1e-13)
        for j in a.coefficients.indices {
            let x = a.coefficients[j]!, y = b.coefficients[j]!
            #expect(abs(x - y) <= coefficients * max(1, abs(y)), "coefficient \(j): \(x) vs \(y)")
            if let s = a.standardErrors[j], let t = b.standardErrors[j] {
                #expect(relativeError(s, t) <= standardErrors, "standard error \(j): \(s) vs \(t)")
            } else {
                #expect((a.standardErrors[j] == nil) == (b.standardErrors[j] == nil))
            }
        }
    }

    @Test func sampledAndExactPathsReachTheSameFit() {
        let problem = simulate(n: 40_000, beta: Self.beta, seed: 23)
        let exact = LogisticRegression.fit(problem, options: Self.options(sampled: false))
        let sampled = LogisticRegression.fit(problem, options: Self.options(sampled: true))
        #expect(exact.sampledIterations == 0 && exact.sampleStartIterations == 0)
        // In memory it starts at a small sample's optimum.
        #expect(sampled.sampleStartIterations > 0)
        // It did sample: the early steps, not only the last exact one.
        #expect(sampled.sampledIterations >= 2)
        #expect(sampled.sampledIterations < sampled.iterations)
        // Linear convergence at ~√(k/n_sample) per step costs only a few iterations more.
        #expect(sampled.iterations <= exact.iterations + 6)
        // The last iteration's decrement is the exact one and meets the rule.
        let last = sampled.history.last!
        #expect(last.decrement / 2 <= FitOptions().tolerance * (abs(last.deviance / 2) + 1))
        // Both stop where the exact decrement d is at the rounding of ℓ and take one exact Newton
        // step from there, whose error is quadratic in d: the coefficients agree to rounding. The
        // covariance is the exact information at that last point, which the rule places within
        // ~√(d/(n·w̄)) ≈ 1e-8 (in η) of the optimum on either path, so standard errors agree to that,
        // as two exact fits stopped at different iterates would.
        Self.expectSameAnswer(sampled, exact, coefficients: 1e-12, standardErrors: Self.standardErrorTolerance)
    }

    @Test func sampledRowsDoNotDependOnBlocksOrShards() throws {
        var problem = simulate(n: 30_000, beta: Self.beta, seed: 5)
        var rng = SeededRandom(seed: 77)
        problem.weights = (0..<problem.design.rows).map { _ in Double(Int(rng.uniform() * 4)) }
        let options = Self.options(sampled: true)
        let streamed = try LogisticRegression.fit(source: MatrixRowSource(problem, blockSizes: [333, 4_097, 1_000]),
                                                  termNames: problem.termNames, options: options)
        #expect(streamed.sampledIterations >= 2)
        // Same rows sampled ⇒ same route: same iteration counts, and the same fit to rounding.
        let shards = try fitShards(problem, shards: 2, options: options)
        #expect(shards[1].sampledIterations == streamed.sampledIterations)
        #expect(shards[1].iterations == streamed.iterations)
        expectSameFit(shards[1], streamed)
        // In memory the route differs (rows sampled by index, a start at a small sample's optimum);
        // the answer does not, and the exact path agrees with all of them.
        let inMemory = LogisticRegression.fit(problem, options: options)
        #expect(inMemory.sampleStartIterations > 0)
        Self.expectSameAnswer(inMemory, streamed, coefficients: 1e-12, standardErrors: Self.standardErrorTolerance)
        Self.expectSameAnswer(inMemory, LogisticRegression.fit(problem, options: Self.options(sampled: false)),
                              coefficients: 1e-12, standardErrors: Self.standardErrorTolerance)
    }

    /// A rare term (a 0.3% indicator, few or none of whose rows the small start sample holds, and
    /// whose curvature the 1/8 sample estimates poorly) lengthens the route, never changes the answer.
    @Test func sampleStartCannotMisleadTheFit() {
        var problem = simulate(n: 60_000, beta: Self.beta, seed: 41)
        var rng = SeededRandom(seed: 9)
        let n = problem.design.rows, p = problem.design.cols
        var design = Matrix(rows: n, cols: p + 1)
        for i in 0..<n {
            for j in 0..<p { design[i, j] = problem.design[i, j] }
            design[i, p] = rng.uniform() < 0.003 ? 1 : 0
            if design[i, p] == 1 && rng.uniform() < 0.7 { problem.response[i] = 1 - problem.response[i] }
        }
        problem.design = design
        problem.termNames.append("rare")
        let sampled = LogisticRegression.fit(problem, options: Self.options(sampled: true))
        let exact = LogisticRegression.fit(problem, options: Self.options(sampled: false))
        #expect(sampled.converged && sampled.iterations < FitOptions().maxIterations)
        Self.expectSameAnswer(sampled, exact, coefficients: 1e-12, standardErrors: Self.standardErrorTolerance)
    }

    @Test func boundsOnTheSampledPath() {
        let problem = simulate(n: 30_000, beta: Self.beta, seed: 11)
        var exactOptions = Self.options(sampled: false), sampledOptions = Self.options(sampled: true)
        // x1's weight is positive in the data; holding it ≤ 0.04 makes the bound bind.
        exactOptions.upperBounds = [.infinity, 0.04, .infinity, .infinity, .infinity, .infinity, .infinity]
        sampledOptions.upperBounds = exactOptions.upperBounds
        let exact = LogisticRegression.fit(problem, options: exactOptions)
        let sampled = LogisticRegression.fit(problem, options: sampledOptions)
        #expect(exact.bindingTerms == [1])
        #expect(sampled.bindingTerms == [1])
        #expect(sampled.sampledIterations >= 1)
        #expect(abs(sampled.coefficients[1]! - 0.04) <= 1e-15)
        #expect(sampled.kktResidual <= 1e-12)
        Self.expectSameAnswer(sampled, exact, coefficients: 1e-12, standardErrors: Self.standardErrorTolerance)
    }

    @Test func ridgeOnTheSampledPath() {
        let problem = simulate(n: 40_000, beta: Self.beta, seed: 31)
        var exactOptions = ElasticNetOptions(), sampledOptions = ElasticNetOptions()
        exactOptions.sampledHessianMinRows = .max
        sampledOptions.sampledHessianMinRows = 0
        let penalty = ElasticNetPenalty(alpha: 0, lambda: 0.01)
        let exact = ElasticNet.fit(problem, penalty: penalty, options: exactOptions)
        let sampled = ElasticNet.fit(problem, penalty: penalty, options: sampledOptions)
        #expect(exact.converged && sampled.converged)
        #expect(sampled.kktViolation <= 1e-12)
        // The penalty shrinks the slopes (a check the ridge is really in the objective).
        #expect(abs(sampled.coefficients[6]) < abs(LogisticRegression.fit(problem).coefficients[6]!))
        for j in exact.coefficients.indices {
            #expect(abs(sampled.coefficients[j] - exact.coefficients[j]) <= 1e-12 * max(1, abs(exact.coefficients[j])))
        }
        #expect(relativeError(sampled.objective, exact.objective) <= 1e-14)
    }

    @Test func sampledInformationEstimatesTheExactOne() {
        var problem = simulate(n: 80_000, beta: Self.beta, seed: 3)
        let k = problem.design.cols
        _ = Standardization.apply(to: &problem.design, weights: nil)
        var eta = [Double](repeating: 0, count: problem.design.rows)
        let beta = [0.3, 0.2, -0.3, 0.1, 0.2, -0.1, 0.5]
        let (exact, sampled) = problem.design.storage.withUnsafeBufferPointer { x in
            problem.response.withUnsafeBufferPointer { y in
                eta.withUnsafeMutableBufferPointer { e in
                    let rows = InMemoryRows(x: x.baseAddress!, rows: problem.design.rows, y: y.baseAddress!,
                                            weights: nil, eta: e.baseAddress!)
                    return (rows.run(PassKernel(map: .leading(k), mode: .derivatives, beta: beta)),
                            rows.run(PassKernel(map: .leading(k), mode: .sampledDerivatives, beta: beta)))
                }
            }
        }
        // Deviance and gradient are over every row in both modes.
        #expect(relativeError(sampled.deviance, exact.deviance) <= 1e-13)
        for a in 0..<k { #expect(abs(sampled.gradient[a] - exact.gradient[a]) <= 1e-9 * (1 + abs(exact.gradient[a]))) }
        // About one row in eight carries the sampled XᵀWX (binomial: sd ≈ 0.0012 of the weight share).
        let share = sampled.values[2 + k + k * k] / sampled.values[1 + k + k * k]
        #expect(abs(share - 0.125) < 0.01)
        // Its estimate is close to the exact matrix but not equal to it: relative error ~√(k/n_sample).
        let h = exact.information, hs = sampled.information
        var diff = 0.0, norm = 0.0
        for j in 0..<k { for i in 0..<k { diff += pow(hs[i, j] - h[i, j], 2); norm += h[i, j] * h[i, j] } }
        let relative = (diff / norm).squareRoot()
        #expect(relative > 1e-6)
        #expect(relative < 0.1)
        #expect(abs(hs[0, 0] - h[0, 0]) <= 1e-12 * h[0, 0])  // the ratio estimator gets Σw exactly
        #expect(!sampled.isExact && exact.isExact)
    }
}
