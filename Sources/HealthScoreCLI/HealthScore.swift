import ArgumentParser
import CommandSupport
import Foundation

@main
struct HealthScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthscore",
        abstract: "Derive customer health-score weights from churn history, and score customers with them.",
        version: "0.1.0",
        subcommands: [Init.self, Fit.self, Score.self, Evaluate.self, Compare.self, Backtest.self, Export.self, ReportCommand.self, Trend.self, Serve.self, Simulate.self]
    )

    /// Parses and runs like ArgumentParser's own main, but usage errors are one line with the fix,
    /// like every other error of the tool.
    static func main() {
        // Past a file-size limit (ulimit -f) the kernel would kill us with SIGXFSZ, leaving a partial
        // temporary file; ignored, the write fails with EFBIG and the error path removes it.
        signal(SIGXFSZ, SIG_IGN)
        StandardOutput.install()
        do {
            var command = try parseAsRoot()
            try command.run()
            StandardOutput.finish()
            AfterSuccess.flush()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                StandardOutput.finish()
                Foundation.exit(0)
            }
            let message = HealthScore.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            printError("healthscore: error: \(message). Fix: see 'healthscore help' or the command's --help")
            Foundation.exit(code.rawValue)
        }
    }
}
