import ArgumentParser
import CommandSupport
import Dispatch
import Foundation
import Support
import ScoringCore
import Service

/// `healthscore-serve`: the HTTP service, a program of its own so that the main tool builds without
/// SwiftNIO. `healthscore serve …` runs it with the same arguments.
@main
struct ServeMain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "healthscore serve", abstract: ServeHelp.abstract,
                                                    discussion: ServeHelp.discussion)

    @OptionGroup var options: ServeOptions

    static func main() { runAsTool(helpHint: "'healthscore serve --help'") }

    func run() throws {
        var config = ServeConfiguration(modelPath: options.model)
        config.host = options.host
        config.port = options.port
        config.maxBodyBytes = options.maxBodyBytes
        config.maxRows = options.maxRows
        config.pollInterval = options.reloadInterval > 0 ? options.reloadInterval : nil
        config.unknownLevels = options.unknownLevel
        config.requestTimeout = options.requestTimeout
        config.allowUnsigned = options.trust.allowUnsigned
        let service: ScoringService
        if let tokenFile = options.tokenFile { config.bearerToken = try BearerToken(file: tokenFile) }
        try options.trust.check(ModelArtifact.load(path: options.model, allowUnsigned: options.trust.allowUnsigned), path: options.model, command: "serve", immediately: true)
        service = try ScoringService(configuration: config)
        printError("healthscore serve: serving \(service.store.current.checksum) from \(options.model)")

        // The root command's main is synchronous, so the async server runs in a task and this thread
        // waits for it (the server needs no main thread).
        let failure = Locked<Error?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                try await service.run { address in
                    StandardOutput.write("listening on \(address.url)\n")
                    fflush(nil)  // every stream: `stdout` is a C global, not safe to name from a task
                }
            } catch {
                failure.withLock { $0 = error }
            }
            done.signal()
        }
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        printError("healthscore serve: stopped")
    }
}
