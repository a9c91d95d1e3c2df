import Foundation
import Testing
import TestSupport

/// `healthscore --help` and every subcommand's help, compared in full with the recorded text in
/// Tests/CLITests/Help/. Re-record after an intended change with HEALTHSCORE_RECORD_HELP=1.
@Suite struct HelpTextTests {
    static let commands = ["", "init", "fit", "score", "evaluate", "compare", "backtest", "export", "report", "trend", "serve", "simulate"]
    static let directory = Fixtures.packageRoot.appendingPathComponent("Tests/CLITests/Help")

    @Test(arguments: commands)
    func helpTextIsAsRecorded(_ command: String) throws {
        let args = (command.isEmpty ? [] : [command]) + ["--help"]
        let r = try CLI.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        let file = Self.directory.appendingPathComponent((command.isEmpty ? "healthscore" : command) + ".txt")
        if ProcessInfo.processInfo.environment["HEALTHSCORE_RECORD_HELP"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try Data(r.stdout.utf8).write(to: file)
            return
        }
        let recorded = try String(contentsOf: file, encoding: .utf8)
        #expect(r.stdout == recorded, "help of '\(command)' changed; re-record with HEALTHSCORE_RECORD_HELP=1 if intended")
    }

    /// Every subcommand in the root help has a recorded help text here (nothing added silently).
    @Test func everySubcommandIsCovered() throws {
        let r = try CLI.run(["--help"])
        // Subcommand lines are indented two spaces; their wrapped descriptions more.
        let listed = r.stdout.split(separator: "\n").drop { !$0.hasPrefix("SUBCOMMANDS:") }.dropFirst()
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).first.map(String.init) }
            .filter { $0 != "See" && $0 != "help" }
        #expect(Set(listed).isSubset(of: Set(Self.commands)), "uncovered: \(Set(listed).subtracting(Self.commands))")
        #expect(listed.count >= 10)
    }
}
