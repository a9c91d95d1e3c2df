import Foundation
import ScoringCore
import Testing
import FitEngine
import Tabular
import TestSupport
@testable import Training

/// Elastic-net logistic regression against the exact optimum of glmnet's objective on mlc_churn
/// (Tests/Reference/mlc_glmnet_*.csv), plus properties of the path and a known sparse truth.
@Suite struct ElasticNetTests {
    /// mlc_churn's design as the fit pipeline builds it, and R's name for every term.
    static let mlc: (problem: LogisticProblem, rNames: [String]) = {
        var csv = CSVOptions()
        csv.naValues = Set(FitPipeline.defaultNAValues)
        csv.textColumns = ["churn"]
        let table = try! CSVReader.read(path: Fixtures.dataset("mlc_churn.csv"), options: csv)
        let design = try! DesignBuilder.build(table, roles: ColumnRoles(target: "churn"), naValues: FitPipeline.defaultNAValues)
        let problem = LogisticProblem(design: Matrix(rows: design.rows, cols: design.termNames.count, columnMajor: design.storage),
                                      response: design.response, termNames: design.termNames)
        // R pastes column and level: `state[AL]` is R's `stateAL`.
        let names = design.termSources.map { source in source.column.map { $0 + (source.level ?? "") } ?? "(Intercept)" }
        return (problem, names)
    }()

    /// Columns `estimate` (the exact optimum) and `glmnet_thresh_1e-22` (glmnet itself) of a reference
    /// file, by R term name; the intercept's estimate is written `np.float64(…)`.
    static func reference(alpha: String, lambda: String) throws -> [String: (exact: Double, glmnet: Double)] {
        let file = "mlc_glmnet_alpha\(alpha)_lambda\(lambda).csv"
        let exact = try Fixtures.referenceColumn(file, "estimate")
        let glmnet = try Fixtures.referenceColumn(file, "glmnet_thresh_1e-22")
        var out: [String: (exact: Double, glmnet: Double)] = [:]
        for (term, b) in exact { out[term] = (b, glmnet[term]!) }
        return out
    }

    @Test(arguments: [("0", "0.001"), ("0", "0.01"), ("0.5", "0.001"), ("0.5", "0.01"), ("1", "0.001"), ("1", "0.01")])
    func matchesTheExactGlmnetOptimum(alpha: String, lambda: String) throws {
        let reference = try Self.reference(alpha: alpha, lambda: lambda)
        let (problem, names) = Self.mlc
        #expect(reference.count == names.count)
        let started = Date()
        let fit = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: Double(alpha)!, lambda: Double(lambda)!))
        let seconds = Date().timeIntervalSince(started)
        var worst = 0.0, glmnetWorst = 0.0
        for (j, name) in names.enumerated() {
            let (r, glmnet) = try #require(reference[name], "no reference term for \(fit.termNames[j])")
            let c = fit.coefficients[j]
            worst = max(worst, abs(c - r))
            glmnetWorst = max(glmnetWorst, abs(glmnet - r))
            #expect(abs(c - r) <= 1e-6, "\(fit.termNames[j]): \(c) vs \(r)")
            #expect((c == 0) == (r == 0), "\(fit.termNames[j]): zero pattern differs (\(c) vs \(r))")
        }
        #expect(fit.converged)
        #expect(fit.kktViolation <= 1e-12)
        #expect(fit.nonZero == names.indices.dropFirst().filter { reference[names[$0]]!.exact != 0 }.count)
        print("glmnet alpha=\(alpha) lambda=\(lambda): max |coefficient error| \(worst) (glmnet 4.1-6 at thresh 1e-22: \(glmnetWorst)), "
              + "KKT residual \(fit.kktViolation), "
              + "\(fit.nonZero) nonzero, \(fit.iterations) iterations, \(String(format: "%.3f", seconds)) s")
    }

    @Test func pathStartsEmptyAndGrowsAsLambdaFalls() {
        let problem = Self.mlc.problem
        for alpha in [1.0, 0.5] {
            var options = ElasticNetOptions()
            options.lambdaCount = 40
            let started = Date()
            let path = ElasticNet.path(problem, alpha: alpha, options: options)
            let seconds = Date().timeIntervalSince(started)
            #expect(path.count == 40)
            #expect(path[0].nonZero == 0)
            #expect(path[0].coefficients.dropFirst().allSatisfy { $0 == 0 })
            #expect(path.allSatisfy { $0.converged }, "alpha \(alpha): \(path.filter { !$0.converged }.map(\.lambda))")
            #expect(zip(path, path.dropFirst()).allSatisfy { $0.lambda > $1.lambda })
            // Non-decreasing up to terms leaving now and then (a lasso path is not monotone in general):
            // never more than two terms drop at one step, and the end is far above the start.
            let counts = path.map(\.nonZero)
            #expect(zip(counts, counts.dropFirst()).allSatisfy { $1 >= $0 - 2 }, "\(counts)")
            #expect(counts.last! >= 40)
            // The objective value is continuous and the deviance falls as the penalty is relaxed.
            #expect(zip(path, path.dropFirst()).allSatisfy { $1.deviance <= $0.deviance + 1e-9 })
            // Warm or cold, a path point is the same optimum.
            let k = 20
            let cold = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: path[k].lambda))
            let warm = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: path[k].lambda),
                                      warmStart: path[k - 1].coefficients)
            for other in [cold, warm] {
                #expect(other.converged)
                #expect(zip(other.coefficients, path[k].coefficients).allSatisfy { abs($0 - $1) <= 1e-9 && ($0 == 0) == ($1 == 0) })
            }
            print("mlc_churn path alpha=\(alpha), 40 lambdas (debug build): \(String(format: "%.3f", seconds)) s, nonzero \(counts)")
        }
    }

    @Test(arguments: [1.0, 0.5]) func lambdaMaxIsWhereTheFirstSlopeEnters(alpha: Double) {
        let problem = Self.mlc.problem
        let top = ElasticNet.lambdaMax(problem, alpha: alpha, penaltyFactors: nil)
        #expect(top > 0)
        let at = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: top))
        #expect(at.nonZero == 0)
        #expect(at.converged)
        let below = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: alpha, lambda: top * (1 - 1e-6)))
        #expect(below.nonZero >= 1)
        #expect(below.converged)
    }

    @Test func penaltyFactorsZeroLeaveTermsUnpenalised() {
        let problem = Self.mlc.problem
        let p = problem.termNames.count
        // international_plan unpenalised: it stays in at any λ, and λmax is read past it.
        let j = try! #require(problem.termNames.firstIndex(of: "international_plan[yes]"))
        var factors = [Double](repeating: 1, count: p - 1)
        factors[j - 1] = 0
        let top = ElasticNet.lambdaMax(problem, alpha: 1, penaltyFactors: factors)
        let fit = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: 1, lambda: top, penaltyFactors: factors))
        #expect(fit.converged)
        #expect(fit.nonZero == 1 && fit.coefficients[j] != 0)
        // Rescaling: factors of 2 everywhere are the same problem as factors of 1.
        let doubled = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: 0.5, lambda: 0.01,
                                                                        penaltyFactors: [Double](repeating: 2, count: p - 1)))
        let plain = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: 0.5, lambda: 0.01))
        #expect(zip(doubled.coefficients, plain.coefficients).allSatisfy { $0 == $1 })
    }

    /// Ridge's optimum moves from the unpenalised one by about λ·H⁻¹β̃: linear in λ, so the gap
    /// shrinks a hundredfold per hundredfold λ, and vanishes at λ = 0. (On mlc_churn the nearly
    /// collinear charge-vs-minutes columns make H nearly singular, so λ = 1e-10 still moves their
    /// coefficients by 2% of max(|β|, SE), and λ must fall to ~1e-14 for 1e-6.)
    @Test func ridgeWithTinyLambdaApproachesTheUnpenalisedFit() throws {
        let problem = Self.mlc.problem
        let glm = LogisticRegression.fit(problem)
        var gaps: [Double] = []
        for lambda in [1e-10, 1e-12, 1e-14, 0] {
            let ridge = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: 0, lambda: lambda))
            #expect(ridge.converged)
            var worst = 0.0
            for j in 0..<problem.termNames.count {
                let b = try #require(glm.coefficients[j]), se = try #require(glm.standardErrors[j])
                worst = max(worst, abs(ridge.coefficients[j] - b) / max(abs(b), se))
            }
            gaps.append(worst)
        }
        print("ridge vs unpenalised glm, max coefficient gap / max(|β|, SE) at λ = 1e-10, 1e-12, 1e-14, 0: \(gaps)")
        for (a, b) in zip(gaps.dropLast(), gaps.dropFirst().dropLast()) { #expect(b <= a / 50, "\(gaps)") }
        #expect(gaps[2] <= 1e-5)
        #expect(gaps[3] <= 1e-9)
    }

    /// 3,000 rows, 30 Gaussian metrics (pairwise correlated 0.3), 5 with true weight ±1: the lasso
    /// at a moderate λ keeps exactly those five.
    @Test func lassoRecoversAKnownSparseSupport() {
        var rng = SeededRandom(seed: 20240611)
        let n = 3_000, k = 30
        let truth: [Int: Double] = [1: 1.0, 4: -1.0, 9: 0.8, 17: -0.9, 25: 1.2]
        var storage = [Double](repeating: 1, count: n * (k + 1))
        var response = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let shared = rng.normal()
            var eta = -0.5
            for j in 1...k {
                let v = 0.3.squareRoot() * shared + 0.7.squareRoot() * rng.normal()
                storage[j * n + i] = 3 * v + Double(j)   // arbitrary scale and location: the penalty sees standardised columns
                eta += (truth[j] ?? 0) * v
            }
            response[i] = rng.uniform() < 1 / (1 + exp(-eta)) ? 1 : 0
        }
        let problem = LogisticProblem(design: Matrix(rows: n, cols: k + 1, columnMajor: storage), response: response,
                                      termNames: ["(Intercept)"] + (1...k).map { "x\($0)" })
        let fit = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: 1, lambda: 0.03))
        #expect(fit.converged)
        let support = Set((1...k).filter { fit.coefficients[$0] != 0 })
        #expect(support == Set(truth.keys), "support \(support.sorted())")
        for (j, w) in truth { #expect(fit.coefficients[j] * w > 0, "x\(j) has the wrong sign") }
    }

    /// Prior weights are frequencies: N = Σv, weighted means and 1/N variances. Integer weights must
    /// give the same optimum as repeating the rows.
    @Test func integerWeightsEqualRepeatedRows() {
        var rng = SeededRandom(seed: 7)
        let n = 400, k = 6
        var x = [[Double]](repeating: [], count: n), y = [Double](), v = [Double]()
        for i in 0..<n {
            x[i] = (0..<k).map { j in rng.normal() * Double(j + 1) + Double(j) }
            let eta = 0.3 + 0.8 * x[i][0] - 0.4 * x[i][2] / 3
            y.append(rng.uniform() < 1 / (1 + exp(-eta)) ? 1 : 0)
            v.append(Double(1 + Int(rng.uniform() * 3)))
        }
        func problem(rows: [Int], weights: [Double]?) -> LogisticProblem {
            var storage = [Double](repeating: 1, count: rows.count * (k + 1))
            for (r, i) in rows.enumerated() { for j in 0..<k { storage[(j + 1) * rows.count + r] = x[i][j] } }
            return LogisticProblem(design: Matrix(rows: rows.count, cols: k + 1, columnMajor: storage),
                                   response: rows.map { y[$0] }, weights: weights,
                                   termNames: ["(Intercept)"] + (1...k).map { "x\($0)" })
        }
        let repeated = (0..<n).flatMap { i in [Int](repeating: i, count: Int(v[i])) }
        for alpha in [0.0, 0.5, 1.0] {
            let penalty = ElasticNetPenalty(alpha: alpha, lambda: 0.02)
            let weighted = ElasticNet.fit(problem(rows: Array(0..<n), weights: v), penalty: penalty)
            let expanded = ElasticNet.fit(problem(rows: repeated, weights: nil), penalty: penalty)
            #expect(weighted.converged && expanded.converged)
            for (a, b) in zip(weighted.coefficients, expanded.coefficients) {
                #expect(abs(a - b) <= 1e-10 && (a == 0) == (b == 0), "alpha \(alpha): \(a) vs \(b)")
            }
            #expect(abs(weighted.deviance - expanded.deviance) <= 1e-9 * expanded.deviance)
        }
    }

    /// Opt-in timing on a large file (e.g. `healthscore simulate --customers 100000 --months 1
    /// --extra-metrics 36`): ENET_BENCH_CSV=path ENET_BENCH_TARGET=churned_next_month swift test …
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ENET_BENCH_CSV"] != nil))
    func timingOnALargeFile() throws {
        let env = ProcessInfo.processInfo.environment
        let path = env["ENET_BENCH_CSV"]!
        let target = env["ENET_BENCH_TARGET"] ?? "churned_next_month"
        var csv = CSVOptions()
        csv.naValues = Set(FitPipeline.defaultNAValues)
        csv.textColumns = [target]
        let exclude = (env["ENET_BENCH_EXCLUDE"] ?? "customer_id,snapshot_date").split(separator: ",").map(String.init)
        csv.skipColumns = Set(exclude)
        let table = try CSVReader.read(path: path, options: csv)
        let design = try DesignBuilder.build(table, roles: ColumnRoles(target: target, exclude: exclude),
                                             naValues: FitPipeline.defaultNAValues)
        let problem = LogisticProblem(design: Matrix(rows: design.rows, cols: design.termNames.count, columnMajor: design.storage),
                                      response: design.response, termNames: design.termNames)
        for alpha in [1.0, 0.5, 0.0] {
            let started = Date()
            let path = ElasticNet.path(problem, alpha: alpha)
            let seconds = Date().timeIntervalSince(started)
            print("path \(design.rows)×\(design.termNames.count) alpha=\(alpha): \(path.count) lambdas in "
                  + "\(String(format: "%.3f", seconds)) s, \(path.map(\.iterations).reduce(0, +)) iterations, "
                  + "all converged: \(path.allSatisfy(\.converged)), worst KKT \(path.map(\.kktViolation).max()!)")
        }
    }
}
