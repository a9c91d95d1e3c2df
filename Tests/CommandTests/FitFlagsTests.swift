import ArgumentParser
import Foundation
@testable import HealthScoreCommands
import ScoringCore
import Testing

/// A command is flags → spec → library call → printing: the flags' spec, checked in process.
@Suite struct FitFlagsTests {
    @Test func theFlagsMakeOneSpec() throws {
        let fit = try Fit.parse(["data.csv", "--target", "churn", "--id", "customer", "--penalty", "elasticnet", "--alpha", "0.3",
                                 "--lambda", "auto", "--folds", "4", "--seed", "9", "--lambda-select", "min",
                                 "--bound", "logins<=0", "--missing", "impute", "--transform", "tickets=clip+log1p",
                                 "--scale", "points", "--band-cuts", "620,580", "--na-values=-,?", "--max-iterations", "30"])
        let spec = try fit.spec()
        #expect(spec.estimator == Estimator(penalty: .elasticnet, alpha: 0.3, crossValidation: .init(folds: 4, seed: 9, select: .min)))
        #expect(spec.bounds == [TermBound(term: "logins", upper: 0)])
        #expect(spec.roles.target == "churn" && spec.roles.id == "customer" && spec.roles.missing == .impute)
        #expect(spec.roles.transforms["tickets"] == [.clip, .log1p])
        #expect(spec.scoring.scale.kind == .points && spec.scoring.cuts == [620, 580])
        #expect(spec.naValues.contains("-") && spec.naValues.contains("?") && spec.naValues.contains("NA"))
        #expect(spec.maxIterations == 30 && spec.covariance == .model)
    }

    @Test func clusterCovarianceNamesItsColumnInTheRoles() throws {
        let spec = try Fit.parse(["data.csv", "--target", "churn", "--covariance", "cluster:account"]).spec()
        #expect(spec.covariance == .cluster && spec.roles.cluster == "account")
        #expect(try Fit.parse(["data.csv", "--target", "churn", "--penalty", "firth"]).spec().estimator == .firth)
    }

    /// The spec's own check runs when the flags are parsed or the spec is built, with the flags'
    /// words and before any file is read.
    @Test(arguments: [
        (["--penalty", "l1"], "needs --lambda"),
        (["--lambda", "0.1"], "--lambda goes with --penalty l2"),
        (["--penalty", "l2", "--alpha", "0.5", "--lambda", "0.01"], "use --penalty elasticnet --alpha 0.5"),
        (["--band-cuts", "600,650"], "off the probability scale"),
        (["--folds", "5"], "--folds goes with --lambda auto"),
        (["--seed", "7", "--lambda-select", "min", "--penalty", "l2", "--lambda", "0.1"], "--seed and --lambda-select go with --lambda auto"),
        (["--pdo", "40"], "--pdo goes with --scale points"),
        (["--round-points", "--reference-odds", "20"], "--reference-odds and --round-points go with --scale points"),
        (["--impute", "median"], "--impute goes with --missing impute"),
        (["--penalty", "l2", "--lambda", "auto", "--folds", "1"], "--folds must be at least 2"),
        (["--penalty", "firth", "--bound", "x<=0"], "not firth"),
        (["--penalty", "l2", "--lambda", "0.1", "--covariance", "hc1"], "does not apply to penalised fits"),
        (["--max-iterations", "0"], "--max-iterations must be at least 1"),
    ])
    func contradictoryFlagsAreRefused(_ flags: [String], _ words: String) {
        #expect {
            _ = try Fit.parse(["missing.csv", "--target", "churn"] + flags).spec()
        } throws: { error in
            Fit.message(for: error).contains(words)
        }
    }
}
