import Foundation
import FitEngine
import ScoringCore
import Tabular
import Support

/// Cross-validation folds spread over the processes of a distributed fit: this process fits fold f
/// when `computes(f)` (fold f on rank f mod K), and one sum across processes combines the folds'
/// deviance curves, so every process picks λ from all of them.
public struct FoldSharing {
    public var computes: (Int) -> Bool
    public var sum: (inout [Double]) throws -> Void
    /// Every process passes its error reading the file (or nil); all throw if any failed, so none
    /// waits in the fold sum for a process that stopped.
    public var agree: (Error?) throws -> Void
    public init(computes: @escaping (Int) -> Bool, sum: @escaping (inout [Double]) throws -> Void,
                agree: @escaping (Error?) throws -> Void) {
        self.computes = computes; self.sum = sum; self.agree = agree
    }
}

extension FitPipeline {
    /// λ by K-fold cross-validation over the elastic-net path, folds grouped by customer id when
    /// `roles.id` is set (a customer's snapshots are correlated, so splitting them between train and
    /// test would flatter the small λ), then the final fit on all rows at the chosen λ.
    static func crossValidated(design: Design, source: TrainingSource, spec: FitSpec, run: FitRun, sharing: FoldSharing?,
                               timings: inout Timings) throws -> FitOutcome {
        guard let choice = spec.estimator.crossValidation else { preconditionFailure("an estimator with cross-validation") }
        let k = choice.folds, seed = choice.seed, select = choice.select, alpha = spec.estimator.mix
        let roles = spec.roles
        let allBounds = TermBound.implied(by: design.schema, explicit: spec.bounds)
        let box = try Trainer.box(allBounds, names: design.termNames)
        let groups = roles.id == nil ? nil : design.idHashes
        let groupCount = groups.map { Set($0).count } ?? design.rows
        guard k >= 2 && k <= groupCount else {
            throw Diagnostic(.data, file: source.file, row: nil, line: nil, column: roles.id,
                            problem: "\(k)-fold cross-validation needs at least \(k) \(groups == nil ? "rows" : "customers") (found \(groupCount))",
                            fix: "pass --folds between 2 and \(groupCount)")
        }
        let problem = LogisticProblem(design: Matrix(rows: design.rows, cols: design.termNames.count, columnMajor: design.storage),
                                      response: design.response, weights: design.weights, termNames: design.termNames)
        let cv = try timings.measure("cross_validation") {
            // Every process makes the same folds from the same design; with `sharing` each fits its own.
            let folds = CVFolds.make(rows: design.rows, k: k, groups: groups, response: design.response, seed: seed)
            return try CrossValidatedElasticNet.run(problem, alpha: alpha, folds: folds, lowerBounds: box?.lower,
                                                    upperBounds: box?.upper, options: run.elasticNet, progress: run.progress,
                                                    computesFold: sharing?.computes ?? { _ in true },
                                                    sumAcrossProcesses: sharing?.sum ?? { _ in })
        }
        let lambda = select == .min ? cv.lambdaMin : cv.lambda1se
        var (model, fit) = try Trainer.trainPenalized(design: design, source: source, penalty: ElasticNetPenalty(alpha: alpha, lambda: lambda),
                                                      bounds: allBounds, scoring: spec.scoring, timings: &timings)
        let grouping = groups == nil ? "rows split individually (no --id)" : "grouped by '\(roles.id!)' (\(groupCount) customers, each in one fold)"
        model.fit.lambdaChoice = "cv:\(k):\(select.rawValue)"
        model.warnings.append(ModelWarning(
            .crossValidation,
            message: "λ chosen by \(k)-fold cross-validation (seed \(seed)), \(grouping), \(cv.lambdas.count) λ on binomial deviance: λmin = \(cv.lambdaMin), λ1se = \(cv.lambda1se); the model uses λ\(select == .min ? "min" : "1se") = \(lambda)"))
        return FitOutcome(model: model, penalized: fit, cv: cv)
    }
}
