import ArgumentParser
import CommandSupport
import FitEngine
import Foundation

/// The `healthscore` command and its subcommands: a library, so that tests parse flags and render
/// help in process; the program (HealthScoreCLI) only calls `main()`.
public struct HealthScore: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "healthscore",
        abstract: "Derive customer health-score weights from churn history, and score customers with them.",
        version: "0.1.0",
        subcommands: [Init.self, Fit.self, Score.self, Evaluate.self, Compare.self, Backtest.self, Export.self, ReportCommand.self, Trend.self, Serve.self, Simulate.self]
    )

    public init() {}

    public static func main() {
        // A generic virtual CPU makes OpenBLAS choose SSE3 kernels; the library reads its choice when
        // it loads, so the process starts once more with the kernel the CPU supports.
        if getenv("OPENBLAS_CORETYPE") == nil, let core = BLASInfo.betterCoreType {
            setenv("OPENBLAS_CORETYPE", core, 1)
            execv("/proc/self/exe", CommandLine.unsafeArgv)
        }
        runAsTool(helpHint: "'healthscore help' or the command's --help")
    }
}
