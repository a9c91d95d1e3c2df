import ArgumentParser
import CommandSupport
import Foundation
import Support

/// `healthscore serve`: checks the options, then runs `healthscore-serve` (built beside this program,
/// a product of its own so that the main tool builds without the HTTP server) with the same arguments.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: ServeHelp.abstract, discussion: ServeHelp.discussion)

    @OptionGroup var options: ServeOptions

    /// The command the service needs built once, as the README documents.
    static let buildCommand = "swift build -c release --product healthscore-serve"

    func run() throws {
        let program = Self.serverPath()
        guard FileManager.default.isExecutableFile(atPath: program) else {
            throw Diagnostic(.usage, problem: "the HTTP service is a program of its own and is not built yet (no \(program))",
                             fix: "run '\(Self.buildCommand)' once in the package directory (for a debug build: swift build --product healthscore-serve), then run this command again")
        }
        let all = CommandLine.arguments
        let after = all.firstIndex(of: "serve").map { Array(all[($0 + 1)...]) } ?? []
        let argv = ([program] + after).map { strdup($0) } + [nil]
        execv(program, argv)
        throw Diagnostic(.usage, problem: "cannot start \(program) (\(String(cString: strerror(errno))))", fix: "rebuild it with '\(Self.buildCommand)'")
    }

    /// `healthscore-serve` in the directory of this executable.
    static func serverPath() -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("healthscore-serve")
    }
}
