import ArgumentParser
import Foundation
import ScoringCore

/// How a command that uses a fitted model treats one that may be wrong: its warnings travel with it
/// to every later command (one line each on standard error), and `--require-trustworthy` (or the
/// fit's `require_trustworthy: true`) turns them into a refusal.
struct ModelTrustOptions: ParsableArguments {
    @Flag(help: "Load a model file that has no checksum (one edited by hand on purpose); its warnings still apply.")
    var allowUnsigned = false

    @Flag(help: "Refuse a model whose fit warned of separation, non-convergence, a singular information matrix or a churn-majority label.")
    var requireTrustworthy = false

    /// The model's warnings that question its weights go to standard error once the command has
    /// succeeded (`immediately` for a service, which runs on); throws if trust is required.
    func check(_ model: ModelArtifact, path: String, command: String, immediately: Bool = false) throws {
        let doubtful = model.warnings.filter(\.makesModelUntrustworthy)
        guard !doubtful.isEmpty else { return }
        let codes = doubtful.map(\.code).joined(separator: ", ")
        if requireTrustworthy || model.schema.requireTrustworthy == true {
            throw ModelError(path: path, problem: "the model is not trustworthy: its fit warned \(codes) (\(doubtful[0].message))",
                             fix: "refit as the warning says (e.g. --penalty firth for separation), or drop --require-trustworthy to use it anyway")
        }
        for w in doubtful {
            let line = "healthscore \(command): warning: \(path) carries the fit warning \(w.code): \(w.message)"
            if immediately { printError(line) } else { AfterSuccess.warnings.append(line) }
        }
    }
}

/// Lines printed on standard error after a command succeeded (a failure prints its one error line only).
enum AfterSuccess {
    nonisolated(unsafe) static var warnings: [String] = []

    static func flush() {
        for line in warnings { printError(line) }
        warnings = []
    }
}
