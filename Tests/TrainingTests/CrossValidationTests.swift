import Foundation
import ScoringCore
import Testing
import FitEngine
import Simulator
import Tabular
import TestSupport
@testable import Training

/// `--lambda auto`: folds grouped by customer, glmnet's λmin/λ1se rules, and a final fit that is
/// the plain elastic net at the chosen λ.
@Suite struct CrossValidationTests {
    /// 800 customers × 6 months, written once for the suite.
    static let history: String = {
        let dir = Fixtures.temporaryDirectory()
        let csv = dir.appendingPathComponent("history.csv").path
        _ = try! Simulator.write(config: SimulationConfig(customers: 800, months: 6, seed: 3), csvPath: csv,
                                 truthPath: dir.appendingPathComponent("truth.json").path)
        return csv
    }()
    static let roles = ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date")
    /// Fewer folds and λ than the CLI default keep the debug run short; the rules are the same.
    static var quick: ElasticNetOptions {
        var o = ElasticNetOptions()
        o.lambdaCount = 40
        return o
    }

    @Test func foldsKeepCustomersTogetherAndPartitionRows() throws {
        var clock = Timings()
        let (design, _) = try FitPipeline.prepare(.file(Self.history), spec: FitSpec(roles: Self.roles), timings: &clock)
        let ids = try #require(design.idHashes)
        #expect(ids.count == design.rows)
        #expect(Set(ids).count == design.distinctIds)
        #expect(design.distinctIds! < design.rows, "the history repeats customers")
        let folds = CVFolds.make(rows: design.rows, k: 10, groups: ids, response: design.response, seed: 7)
        #expect(folds.count == 10)
        var seen = [Int](repeating: 0, count: design.rows)
        let overall = design.response.reduce(0, +) / Double(design.rows)
        for fold in folds {
            for i in fold.test { seen[i] += 1 }
            #expect(fold.train.count + fold.test.count == design.rows)
            #expect(Set(fold.train).isDisjoint(with: fold.test))
            #expect(Set(fold.train.map { ids[$0] }).isDisjoint(with: Set(fold.test.map { ids[$0] })))
            let share = fold.test.reduce(0.0) { $0 + design.response[$1] } / Double(fold.test.count)
            #expect(abs(share - overall) <= 0.1 * overall + 0.002, "fold share \(share) vs \(overall)")
            #expect(abs(Double(fold.test.count) - Double(design.rows) / 10) <= 0.05 * Double(design.rows) / 10)
        }
        #expect(seen.allSatisfy { $0 == 1 }, "every row is tested exactly once")
    }

    @Test func ungroupedFoldsAreStratified() {
        let response = (0..<1_000).map { Double($0 % 7 == 0 ? 1 : 0) }
        let folds = CVFolds.make(rows: 1_000, k: 5, groups: nil, response: response, seed: 1)
        let positives = folds.map { f in f.test.reduce(0.0) { $0 + response[$1] } }
        #expect(positives.max()! - positives.min()! <= 1)
        let sizes = folds.map(\.test.count)
        #expect(sizes.max()! - sizes.min()! <= 2, "\(sizes)")
    }

    @Test func crossValidatedFitFollowsGlmnetsRules() throws {
        var clock = Timings()
        var run = FitRun()
        run.elasticNet = Self.quick
        let spec = FitSpec(roles: Self.roles, estimator: Estimator(penalty: .l1, crossValidation: .init(folds: 5, seed: 11, select: .oneSE)))
        let outcome = try FitPipeline.fit(spec, .file(Self.history), run: run, timings: &clock)
        let (model, cv) = (outcome.model, try #require(outcome.cv))
        #expect(cv.lambdas.count >= 5 && cv.lambdas.count <= 40 && cv.folds.count == 5)
        // glmnet's early exit: the path ends at the first λ (from the 5th on) whose deviance ratio exceeds
        // 0.999 or gains less than 1e-5 on the previous one; path[0] has no slopes, so its deviance is D_null.
        let ratios = cv.path.map { 1 - $0.deviance / cv.path[0].deviance }
        let stops = ratios.indices.map { m in m >= 4 && (ratios[m] > 0.999 || ratios[m] - ratios[m - 1] < 1e-5) }
        #expect(!stops.dropLast().contains(true), "\(ratios)")
        #expect(stops.last! || cv.lambdas.count == 40, "\(ratios)")
        #expect(zip(cv.lambdas, cv.lambdas.dropFirst()).allSatisfy { $0 > $1 })
        let minIndex = try #require(cv.lambdas.firstIndex(of: cv.lambdaMin))
        let seIndex = try #require(cv.lambdas.firstIndex(of: cv.lambda1se))
        #expect(cv.lambda1se >= cv.lambdaMin)
        #expect(cv.meanDeviance[minIndex] == cv.meanDeviance.min())
        #expect(cv.meanDeviance[seIndex] <= cv.meanDeviance[minIndex] + cv.sdError[minIndex])
        if seIndex > 0 { #expect(cv.meanDeviance[seIndex - 1] > cv.meanDeviance[minIndex] + cv.sdError[minIndex]) }
        #expect(cv.sdError.allSatisfy { $0 >= 0 && $0.isFinite })
        #expect(cv.nonZero.first == 0 && cv.nonZero.last! > 0)

        let note = try #require(model.warnings.first { $0.code == "cross_validation" })
        #expect(note.message.contains("5-fold") && note.message.contains("customer_id"))

        let (design, _) = try FitPipeline.prepare(.file(Self.history), spec: FitSpec(roles: Self.roles), timings: &clock)
        let problem = LogisticProblem(design: Matrix(rows: design.rows, cols: design.termNames.count, columnMajor: design.storage),
                                      response: design.response, weights: design.weights, termNames: design.termNames)
        let direct = ElasticNet.fit(problem, penalty: ElasticNetPenalty(alpha: 1, lambda: cv.lambda1se))
        #expect(model.coefficients.count == direct.coefficients.count)
        for (c, b) in zip(model.coefficients, direct.coefficients) {
            #expect(abs(c.estimate - b) <= 1e-12 * max(1, abs(b)), "\(c.term)")
        }
    }

    @Test func sameSeedSameFoldsAndCurve() throws {
        var clock = Timings()
        let (design, _) = try FitPipeline.prepare(.file(Self.history), spec: FitSpec(roles: Self.roles), timings: &clock)
        let a = CVFolds.make(rows: design.rows, k: 5, groups: design.idHashes, response: design.response, seed: 42)
        let b = CVFolds.make(rows: design.rows, k: 5, groups: design.idHashes, response: design.response, seed: 42)
        let c = CVFolds.make(rows: design.rows, k: 5, groups: design.idHashes, response: design.response, seed: 43)
        #expect(a.map(\.test) == b.map(\.test))
        #expect(a.map(\.test) != c.map(\.test))
        let problem = LogisticProblem(design: Matrix(rows: design.rows, cols: design.termNames.count, columnMajor: design.storage),
                                      response: design.response, weights: design.weights, termNames: design.termNames)
        var options = Self.quick
        options.lambdaCount = 15
        let first = CrossValidatedElasticNet.run(problem, alpha: 0.5, folds: a, options: options)
        let second = CrossValidatedElasticNet.run(problem, alpha: 0.5, folds: b, options: options)
        #expect(first.meanDeviance == second.meanDeviance && first.sdError == second.sdError)
        #expect(first.lambdaMin == second.lambdaMin && first.lambda1se == second.lambda1se)
    }
}

/// Timings for the report, α = 1, 10 folds, 100 λ: `HEALTHSCORE_CV_TIMING=1 swift test --filter CrossValidationTiming`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["HEALTHSCORE_CV_TIMING"] != nil))
struct CrossValidationTimingTests {
    @Test(arguments: ["simulated", "mlc_churn"])
    func tenFoldsHundredLambdas(data: String) throws {
        let (path, roles) = data == "simulated"
            ? (CrossValidationTests.history, CrossValidationTests.roles)
            : (Fixtures.dataset("mlc_churn.csv"), ColumnRoles(target: "churn"))
        var clock = Timings()
        let spec = FitSpec(roles: roles, estimator: Estimator(penalty: .l1, crossValidation: .init(folds: 10, seed: 1, select: .oneSE)))
        let outcome = try FitPipeline.fit(spec, .file(path), timings: &clock)
        let (model, cv) = (outcome.model, try #require(outcome.cv))
        let phases = clock.phases.map { "\($0.name)=\(String(format: "%.3f", $0.seconds))s" }.joined(separator: " ")
        print("CV timing \(data): rows=\(model.fit.nObservations) terms=\(model.coefficients.count) \(phases)")
        print("CV \(data): λmin=\(cv.lambdaMin) λ1se=\(cv.lambda1se) nonZero(min)=\(cv.nonZero[cv.lambdas.firstIndex(of: cv.lambdaMin)!]) nonZero(1se)=\(cv.nonZero[cv.lambdas.firstIndex(of: cv.lambda1se)!])")
        print("CV \(data): \(model.warnings.first { $0.code == "cross_validation" }!.message)")
    }
}
