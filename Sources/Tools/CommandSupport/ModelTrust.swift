import ArgumentParser
import Foundation
import ScoringCore
import Support

/// How a command that uses a fitted model treats one that may be wrong: its warnings travel with it
/// to every later command (one line each on standard error), and `--require-trustworthy` (or the
/// fit's `require_trustworthy: true`) turns them into a refusal.
public struct ModelTrustOptions: ParsableArguments {
    public init() {}

    @Flag(help: "Load a model file whose checksum is missing or does not match (one edited by hand on purpose); its warnings still apply.")
    public var allowUnsigned = false

    @Flag(help: "Refuse a model whose fit warned of separation, non-convergence, a singular information matrix or a churn-majority label.")
    public var requireTrustworthy = false

    /// The model's warnings that question its weights go to standard error once the command has
    /// succeeded (`immediately` for a service, which runs on); throws if trust is required.
    public func check(_ model: ModelArtifact, path: String, command: String, immediately: Bool = false) throws {
        let doubtful = model.warnings.filter(\.makesModelUntrustworthy)
        guard !doubtful.isEmpty else { return }
        let codes = doubtful.map(\.code).joined(separator: ", ")
        if requireTrustworthy || model.schema.requireTrustworthy == true {
            throw Diagnostic(.model, file: path, problem: "the model is not trustworthy: its fit warned \(codes) (\(doubtful[0].message))",
                             fix: "refit as the warning says (e.g. --penalty firth for separation), or drop --require-trustworthy to use it anyway")
        }
        for w in doubtful {
            let line = "healthscore \(command): warning: \(path) carries the fit warning \(w.code): \(w.message)"
            if immediately { printError(line) } else { AfterSuccess.warnings.append(line) }
        }
    }
}

/// Lines printed on standard error after a command succeeded (a failure prints its one error line only).
public enum AfterSuccess {
    nonisolated(unsafe) public static var warnings: [String] = []

    public static func flush() {
        for line in warnings { printError(line) }
        warnings = []
    }
}

extension UnknownLevelPolicy: ExpressibleByArgument {}
