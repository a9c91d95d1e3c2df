import Foundation
import ScoringCore
import Testing
import FitEngine
import Tabular
import TestSupport
@testable import Training

/// Box (sign) constraints on the elastic net, on mlc_churn's full design (as in ElasticNetTests).
/// Every fit is checked against KKT conditions computed here from the returned original-scale
/// coefficients alone: μ, the standardised gradient and the subgradient conditions with the bounds'
/// multipliers, derived independently of the solver.
@Suite struct PenalizedBoundsTests {
    static var problem: LogisticProblem { ElasticNetTests.mlc.problem }

    static func column(_ name: String) throws -> Int {
        try #require(problem.termNames.firstIndex(of: name), "no term \(name)")
    }

    /// Original-scale bounds arrays (−∞/+∞ everywhere but the given terms).
    static func bounds(_ given: [String: (lower: Double, upper: Double)]) throws -> (lower: [Double], upper: [Double]) {
        let p = problem.termNames.count
        var lower = [Double](repeating: -.infinity, count: p), upper = [Double](repeating: .infinity, count: p)
        for (name, box) in given {
            let j = try column(name)
            lower[j] = box.lower
            upper[j] = box.upper
        }
        return (lower, upper)
    }

    struct Check {
        /// Largest KKT residual over the terms (standardised scale).
        var residual: Double
        /// Terms at a bound whose multiplier is positive beyond 1e-8: the bound is what holds them.
        var binding: Set<Int>
    }

    /// The KKT conditions of glmnet's objective with pf = 1 on the box, from scratch. On the
    /// standardised scale (x̃ⱼ = (xⱼ − mⱼ)/sⱼ, 1/N moments, β̃ⱼ = βⱼ·sⱼ), with
    /// gⱼ = (1/N)·Σᵢ(μᵢ − yᵢ)·x̃ᵢⱼ + λ(1 − α)·β̃ⱼ and l1 = λα, optimality asks for ξ ∈ ∂|β̃ⱼ| and
    /// multipliers ν⁺, ν⁻ ≥ 0 (ν⁺ > 0 only at the upper bound, ν⁻ only at the lower) with
    /// gⱼ + l1·ξ + ν⁺ − ν⁻ = 0. With G = {gⱼ + l1·ξ : ξ ∈ ∂|β̃ⱼ|} (an interval [gmin, gmax]):
    ///   free term: distance from 0 to G;  at the upper bound only: max(0, gmin) (ν⁺ = −(g + l1ξ) ≥ 0);
    ///   at the lower bound only: max(0, −gmax).
    /// The bound binds when its multiplier is positive for every ξ: gmax < 0 at the upper bound,
    /// gmin > 0 at the lower.
    static func kkt(_ fit: PenalizedFit, alpha: Double, lambda: Double, lower: [Double], upper: [Double]) -> Check {
        let problem = Self.problem
        let x = problem.design, y = problem.response
        let n = x.rows, p = x.cols
        let beta = fit.coefficients
        var residual = [Double](repeating: 0, count: n)   // μ − y
        for i in 0..<n {
            var eta = 0.0
            for j in 0..<p { eta += beta[j] * x.storage[j * n + i] }
            residual[i] = 1 / (1 + exp(-eta)) - y[i]
        }
        let l1 = lambda * alpha, l2 = lambda * (1 - alpha)
        var worst = 0.0
        var binding = Set<Int>()
        for j in 0..<p {
            let column = x.storage[(j * n)..<((j + 1) * n)]
            let mean = j == 0 ? 0 : column.reduce(0, +) / Double(n)
            let sd = j == 0 ? 1 : (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)).squareRoot()
            var g = 0.0
            for i in 0..<n { g += residual[i] * (x.storage[j * n + i] - mean) }
            g /= Double(n) * sd
            if j == 0 { worst = max(worst, abs(g)); continue }
            let b = beta[j] * sd
            g += l2 * b
            let (gmin, gmax) = beta[j] > 0 ? (g + l1, g + l1) : beta[j] < 0 ? (g - l1, g - l1) : (g - l1, g + l1)
            let atUpper = beta[j] >= upper[j], atLower = beta[j] <= lower[j]
            let r: Double
            switch (atLower, atUpper) {
            case (false, false): r = gmin > 0 ? gmin : gmax < 0 ? -gmax : 0
            case (false, true):
                r = max(0, gmin)
                if gmax < -1e-8 { binding.insert(j) }
            case (true, false):
                r = max(0, -gmax)
                if gmin > 1e-8 { binding.insert(j) }
            case (true, true): r = 0   // fixed
            }
            worst = max(worst, r)
        }
        return Check(residual: worst, binding: binding)
    }

    /// The bounds hold exactly (no rounding past them) on the original scale.
    static func withinBounds(_ fit: PenalizedFit, _ lower: [Double], _ upper: [Double]) -> Bool {
        fit.coefficients.indices.allSatisfy { lower[$0] <= fit.coefficients[$0] && fit.coefficients[$0] <= upper[$0] }
    }

    // MARK: 1. Sign constraints that contradict the unbounded optimum

    @Test(arguments: [(0.5, 0.001), (0.0, 0.01), (1.0, 0.001)])
    func signConstraintsBindAndSatisfyKKT(alpha: Double, lambda: Double) throws {
        let calls = try Self.column("number_customer_service_calls"), intl = try Self.column("total_intl_calls")
        // Unbounded, customer-service calls raise churn risk and international calls lower it: the
        // business's signs below contradict both, so both bounds must bind.
        let free = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: lambda))
        #expect(free.coefficients[calls] > 0 && free.coefficients[intl] < 0)
        #expect(free.bindingTerms.isEmpty)

        let (lower, upper) = try Self.bounds(["number_customer_service_calls": (-.infinity, 0),
                                              "total_intl_calls": (0, .infinity)])
        let fit = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: lambda,
                                                                         lowerBounds: lower, upperBounds: upper))
        #expect(fit.converged)
        #expect(fit.kktViolation <= 1e-12)
        #expect(Self.withinBounds(fit, lower, upper))
        #expect(fit.coefficients[calls] == 0 && fit.coefficients[intl] == 0)
        #expect(fit.bindingTerms == [intl, calls])
        let check = Self.kkt(fit, alpha: alpha, lambda: lambda, lower: lower, upper: upper)
        #expect(check.residual <= 1e-8, "independent KKT residual \(check.residual)")
        #expect(check.binding == [intl, calls])
        // The constraint costs objective: the bounded optimum is worse than the free one.
        #expect(fit.objective > free.objective)

        // Warm-started from the (infeasible) free optimum, the same answer.
        let warm = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: lambda, lowerBounds: lower, upperBounds: upper),
                                  warmStart: free.coefficients)
        #expect(warm.converged && warm.bindingTerms == fit.bindingTerms)
        #expect(zip(warm.coefficients, fit.coefficients).allSatisfy { abs($0 - $1) <= 1e-9 })
        print("bounded enet alpha=\(alpha) lambda=\(lambda): solver KKT \(fit.kktViolation), independent KKT \(check.residual), "
              + "binding \(fit.bindingTerms.map { Self.problem.termNames[$0] }), \(fit.nonZero) nonzero, \(fit.iterations) iterations")
    }

    // MARK: 2. Bounds that do not bind change nothing

    @Test(arguments: [(0.5, 0.001), (0.0, 0.01), (1.0, 0.01)])
    func looseBoundsGiveTheUnboundedFit(alpha: Double, lambda: Double) throws {
        let free = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: lambda))
        let names = Self.problem.termNames
        // Boxes around the free estimates, with room, on the same side of 0; and, for terms the L1
        // penalty zeroes, a one-sided bound at 0 in either direction: such a term is not binding.
        var given: [String: (lower: Double, upper: Double)] = [
            "number_customer_service_calls": (-.infinity, 5),
            "total_intl_calls": (-1, .infinity),
            "account_length": (0, 1),
            "international_plan[yes]": (0, .infinity),
            "voice_mail_plan[yes]": (-10, 0),
        ]
        var zeroed: [String] = []
        for j in 1..<names.count where free.coefficients[j] == 0 {
            given[names[j]] = zeroed.count % 2 == 0 ? (0, .infinity) : (-.infinity, 0)
            zeroed.append(names[j])
        }
        if alpha > 0 { #expect(!zeroed.isEmpty, "expected some L1 zeros to bound at 0") }
        for (name, box) in given {
            let b = free.coefficients[try Self.column(name)]
            #expect(box.lower <= b && b <= box.upper, "\(name): the free estimate \(b) must be inside the loose box")
        }
        let (lower, upper) = try Self.bounds(given)
        let fit = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: lambda,
                                                                         lowerBounds: lower, upperBounds: upper))
        #expect(fit.converged)
        #expect(fit.bindingTerms.isEmpty, "\(fit.bindingTerms.map { names[$0] })")
        var worst = 0.0
        for (a, b) in zip(fit.coefficients, free.coefficients) {
            worst = max(worst, abs(a - b))
            #expect((a == 0) == (b == 0))
        }
        #expect(worst <= 1e-10, "max |bounded − free| = \(worst)")
        let check = Self.kkt(fit, alpha: alpha, lambda: lambda, lower: lower, upper: upper)
        #expect(check.residual <= 1e-8 && check.binding.isEmpty)
        print("loose bounds alpha=\(alpha) lambda=\(lambda): max |bounded − free| \(worst), \(zeroed.count) L1 zeros bounded at 0, "
              + "independent KKT \(check.residual)")
    }

    // MARK: 3. A bound at a nonzero value

    @Test(arguments: [(0.5, 0.001), (0.0, 0.01)])
    func nonzeroBoundsHoldExactly(alpha: Double, lambda: Double) throws {
        let calls = try Self.column("number_customer_service_calls"), voice = try Self.column("voice_mail_plan[yes]")
        let free = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: lambda))
        // Free: calls ≈ +0.5 and voice-mail plan ≈ −0.8 to −1.5: cap the first at 0.1, floor the second at −0.5.
        #expect(free.coefficients[calls] > 0.1 && free.coefficients[voice] < -0.5)
        let (lower, upper) = try Self.bounds(["number_customer_service_calls": (-.infinity, 0.1),
                                              "voice_mail_plan[yes]": (-0.5, .infinity)])
        let fit = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: lambda,
                                                                         lowerBounds: lower, upperBounds: upper))
        #expect(fit.converged)
        #expect(fit.coefficients[calls] == 0.1)
        #expect(fit.coefficients[voice] == -0.5)
        #expect(fit.bindingTerms == [voice, calls])
        let check = Self.kkt(fit, alpha: alpha, lambda: lambda, lower: lower, upper: upper)
        #expect(check.residual <= 1e-8, "independent KKT residual \(check.residual)")
        #expect(check.binding == [voice, calls])
        print("nonzero bounds alpha=\(alpha) lambda=\(lambda): solver KKT \(fit.kktViolation), independent KKT \(check.residual)")
    }

    /// A box that excludes 0 ([0.2, 0.3] on a term whose free estimate is 0 or near it): the fit
    /// starts at the projection and the term ends at its lower bound, reported exactly.
    @Test func boxExcludingZero() throws {
        let j = try Self.column("account_length")
        let (lower, upper) = try Self.bounds(["account_length": (0.02, 0.03)])
        for (alpha, lambda) in [(1.0, 0.01), (0.0, 0.01)] {
            let fit = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: lambda,
                                                                             lowerBounds: lower, upperBounds: upper))
            #expect(fit.converged)
            #expect(fit.coefficients[j] == 0.02)
            #expect(fit.bindingTerms == [j])
            let check = Self.kkt(fit, alpha: alpha, lambda: lambda, lower: lower, upper: upper)
            #expect(check.residual <= 1e-8 && check.binding == [j])
        }
    }

    // MARK: 4. Paths

    @Test(arguments: [1.0, 0.5, 0.0])
    func pathRespectsTheBounds(alpha: Double) throws {
        let (lower, upper) = try Self.bounds(["number_customer_service_calls": (-.infinity, 0),
                                              "total_intl_calls": (0, .infinity),
                                              "voice_mail_plan[yes]": (-0.5, .infinity),
                                              "international_plan[yes]": (-.infinity, 1)])
        var options = ElasticNetOptions()
        options.lambdaCount = 10
        let path = ElasticNet.path(Self.problem, alpha: alpha, lowerBounds: lower, upperBounds: upper, options: options)
        #expect(path.count == 10)
        #expect(zip(path, path.dropFirst()).allSatisfy { $0.lambda > $1.lambda })
        for fit in path {
            #expect(Self.withinBounds(fit, lower, upper), "lambda \(fit.lambda)")
            #expect(fit.converged, "lambda \(fit.lambda): KKT \(fit.kktViolation)")
        }
        if alpha > 0 {
            // At λmax no penalised slope has moved.
            #expect(path[0].nonZero == 0)
        }
        // Spot-check KKT independently at the last λ, and that the path agrees with a cold fit there.
        let last = path[9]
        let check = Self.kkt(last, alpha: alpha, lambda: last.lambda, lower: lower, upper: upper)
        #expect(check.residual <= 1e-8)
        #expect(Set(last.bindingTerms) == check.binding)
        let cold = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: last.lambda,
                                                                          lowerBounds: lower, upperBounds: upper))
        #expect(zip(cold.coefficients, last.coefficients).allSatisfy { abs($0 - $1) <= 1e-9 })
        print("bounded path alpha=\(alpha): nonzero \(path.map(\.nonZero)), binding \(path.map(\.bindingTerms.count)), "
              + "worst KKT \(path.map(\.kktViolation).max()!), independent at the end \(check.residual)")
    }

    /// λmax with bounds counts only the pull a box allows. With every slope in [0, ∞) only the
    /// negative gradient components at the null fit count, with every slope in (−∞, 0] only the
    /// positive ones, so the larger of the two is the free λmax. At λmax nothing moves; just below
    /// it something does, the way its box allows.
    @Test(arguments: [1.0, 0.5]) func lambdaMaxWithBounds(alpha: Double) {
        let p = Self.problem.termNames.count
        var zero = [Double](repeating: 0, count: p)
        zero[0] = -.infinity
        let nonNegative = (lower: zero, upper: [Double](repeating: .infinity, count: p))
        zero[0] = .infinity
        let nonPositive = (lower: [Double](repeating: -.infinity, count: p), upper: zero)
        let free = ElasticNet.lambdaMax(Self.problem, alpha: alpha)
        var tops: [Double] = []
        for (box, sign) in [(nonNegative, 1.0), (nonPositive, -1.0)] {
            let top = ElasticNet.lambdaMax(Self.problem, alpha: alpha, lowerBounds: box.lower, upperBounds: box.upper)
            tops.append(top)
            let at = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: top, lowerBounds: box.lower, upperBounds: box.upper))
            #expect(at.converged && at.nonZero == 0)
            // Held at 0 are the slopes the data pull the forbidden way harder than the L1 penalty resists.
            let check = Self.kkt(at, alpha: alpha, lambda: top, lower: box.lower, upper: box.upper)
            #expect(check.residual <= 1e-8 && Set(at.bindingTerms) == check.binding)
            #expect(at.bindingTerms.isEmpty == (top == free))
            let below = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: top * (1 - 1e-6),
                                                                               lowerBounds: box.lower, upperBounds: box.upper))
            #expect(below.converged && below.nonZero >= 1)
            #expect(below.coefficients.dropFirst().allSatisfy { $0 * sign >= 0 })
        }
        #expect(tops.allSatisfy { $0 > 0 && $0 <= free })
        #expect(tops.max()! == free)
        #expect(tops.min()! < free)
        print("lambdaMax alpha=\(alpha): free \(free), all slopes ≥ 0: \(tops[0]), all slopes ≤ 0: \(tops[1])")
    }

    // MARK: Special cases

    /// At λ = 0 the bounded elastic net is the bounded maximum-likelihood fit: it must agree with
    /// the unpenalised active-set Newton solver (FitOptions bounds) on the design BoundsTests uses
    /// (the charge columns, exact multiples of the minutes, left out so the MLE is unique).
    @Test func lambdaZeroMatchesTheUnpenalisedBoundedSolver() throws {
        var csv = CSVOptions()
        csv.naValues = Set(FitPipeline.defaultNAValues)
        csv.textColumns = ["churn"]
        let roles = ColumnRoles(target: "churn", exclude: ["state", "total_day_charge", "total_eve_charge", "total_night_charge", "total_intl_charge"])
        csv.skipColumns = Set(roles.exclude)
        let design = try DesignBuilder.build(try CSVReader.read(path: Fixtures.dataset("mlc_churn.csv"), options: csv), roles: roles,
                                             naValues: FitPipeline.defaultNAValues)
        let names = design.termNames, q = names.count
        let problem = LogisticProblem(design: Matrix(rows: design.rows, cols: q, columnMajor: design.storage),
                                      response: design.response, termNames: names)
        var lower = [Double](repeating: -.infinity, count: q), upper = [Double](repeating: .infinity, count: q)
        let calls = try #require(names.firstIndex(of: "number_customer_service_calls"))
        let intl = try #require(names.firstIndex(of: "total_intl_calls"))
        upper[calls] = 0
        lower[intl] = 0
        lower[try #require(names.firstIndex(of: "account_length"))] = 0   // does not bind
        var options = FitOptions()
        options.lowerBounds = lower
        options.upperBounds = upper
        let glm = LogisticRegression.fit(problem, options: options)
        #expect(glm.bindingTerms == [intl, calls])
        for alpha in [0.0, 1.0] {
            let fit = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: 0, lowerBounds: lower, upperBounds: upper))
            #expect(fit.converged)
            #expect(fit.bindingTerms == glm.bindingTerms)
            var worst = 0.0
            for j in 0..<q {
                let b = try #require(glm.coefficients[j])
                worst = max(worst, abs(fit.coefficients[j] - b) / max(1, abs(b)))
            }
            #expect(worst <= 1e-9, "alpha \(alpha): max relative gap to the bounded MLE \(worst)")
        }
    }

    /// lⱼ = uⱼ fixes a term; an unpenalised term (penalty factor 0) respects its bound too, at every λ
    /// of a path, from the constrained null fit on.
    @Test func fixedAndUnpenalisedTerms() throws {
        let calls = try Self.column("number_customer_service_calls"), plan = try Self.column("international_plan[yes]")
        var (lower, upper) = try Self.bounds(["number_customer_service_calls": (0.3, 0.3)])
        let fixed = ElasticNet.fit(Self.problem, penalty: ElasticNetPenalty(alpha: 0.5, lambda: 0.001, lowerBounds: lower, upperBounds: upper))
        #expect(fixed.converged && fixed.coefficients[calls] == 0.3 && fixed.bindingTerms == [calls])
        #expect(Self.kkt(fixed, alpha: 0.5, lambda: 0.001, lower: lower, upper: upper).residual <= 1e-8)

        // international_plan[yes] (free estimate ≈ 2) unpenalised and capped at 1.
        (lower, upper) = try Self.bounds(["international_plan[yes]": (-.infinity, 1)])
        var factors = [Double](repeating: 1, count: Self.problem.termNames.count - 1)
        factors[plan - 1] = 0
        var options = ElasticNetOptions()
        options.lambdaCount = 5
        let path = ElasticNet.path(Self.problem, alpha: 1, penaltyFactors: factors, lowerBounds: lower, upperBounds: upper, options: options)
        #expect(path.allSatisfy { $0.converged && $0.coefficients[plan] == 1 && $0.bindingTerms.contains(plan) })
        #expect(path[0].nonZero == 1)
    }
}
