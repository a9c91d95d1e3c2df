import ArgumentParser
import Foundation
@testable import HealthScoreCommands
import Testing
import TestSupport

/// `healthscore --help` and every subcommand's help, rendered in process (as swift-argument-parser's
/// own tests do) and compared in full with the recorded text in Tests/CommandTests/Help/. Re-record
/// after an intended change with HEALTHSCORE_RECORD_HELP=1.
@Suite struct HelpTextTests {
    static let directory = Fixtures.packageRoot.appendingPathComponent("Tests/CommandTests/Help")

    /// Every subcommand the root command lists, by name, and the root itself ("").
    static let commands: [(name: String, type: any ParsableCommand.Type)] =
        [("", HealthScore.self)] + HealthScore.configuration.subcommands.map { ($0._commandName, $0) }

    static func help(_ name: String) -> String {
        let type = commands.first { $0.name == name }!.type
        return (type == HealthScore.self ? HealthScore.helpMessage(includeHidden: false, columns: 80) : HealthScore.helpMessage(for: type, includeHidden: false, columns: 80)) + "\n"
    }

    @Test(arguments: commands.map(\.name))
    func helpTextIsAsRecorded(_ command: String) throws {
        let text = Self.help(command)
        let file = Self.directory.appendingPathComponent((command.isEmpty ? "healthscore" : command) + ".txt")
        if ProcessInfo.processInfo.environment["HEALTHSCORE_RECORD_HELP"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
            return
        }
        let recorded = try String(contentsOf: file, encoding: .utf8)
        #expect(text == recorded, "help of '\(command)' changed; re-record with HEALTHSCORE_RECORD_HELP=1 if intended")
    }

    /// Every recorded help belongs to a subcommand (none left behind after a rename), and there are
    /// as many as the tool has.
    @Test func everyRecordedHelpIsASubcommand() throws {
        let recorded = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".txt") }
        let expected = Self.commands.map { ($0.name.isEmpty ? "healthscore" : $0.name) + ".txt" }
        #expect(Set(recorded) == Set(expected))
        #expect(expected.count >= 11)
    }
}
