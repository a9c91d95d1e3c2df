import ArgumentParser
import ScoringCore

/// The options of `healthscore serve`, shared by the command (which checks them and shows its help)
/// and `healthscore-serve`, the separate program that runs the HTTP service: the main tool then
/// builds without the HTTP server's dependencies.
public struct ServeOptions: ParsableArguments {
    public init() {}

    @Option(help: "Model artifact written by 'healthscore fit --out'.")
    public var model: String

    @Option(help: "Address to listen on.")
    public var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0: pick a free one and print it).")
    public var port: Int = 8080

    @Option(help: "Largest request body accepted, in bytes; larger ones get 413.")
    public var maxBodyBytes: Int = 8 * 1024 * 1024

    @Option(help: "Most rows accepted in one request; more get 400.")
    public var maxRows: Int = 10_000

    @Option(help: "Seconds between checks of the model file for changes (0: only reload on SIGHUP).")
    public var reloadInterval: Double = 2

    @Option(help: "File holding a bearer token (16+ printable characters): every request but GET /healthz must then send 'Authorization: Bearer <token>'.")
    public var tokenFile: String?

    @Option(help: "Seconds a client has to send a whole request; slower or idle connections are closed.")
    public var requestTimeout: Double = 30

    @OptionGroup public var trust: ModelTrustOptions

    @Option(help: "Category levels not seen in training: error, reference or other. Default: the policy stored in the model, else error.")
    public var unknownLevel: UnknownLevelPolicy?

    public func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be positive") }
        guard maxRows > 0 else { throw ValidationError("--max-rows must be positive") }
        guard reloadInterval >= 0 && reloadInterval.isFinite else { throw ValidationError("--reload-interval must be 0 or more seconds") }
        guard requestTimeout > 0 && requestTimeout.isFinite else { throw ValidationError("--request-timeout must be a positive number of seconds") }
    }
}

/// The abstract and discussion of `healthscore serve`, one text for both programs.
public enum ServeHelp {
    public static let abstract = "Serve scores over HTTP: POST /v1/score, GET /v1/model, GET /healthz."
    public static let discussion = """
            POST /v1/score takes {"rows": [{"column": value, ...}, ...]} (numbers, strings, null for missing) and \
            answers each row's churn probability, health score, band and top reasons (?reasons=N, default 3). \
            The model file is reloaded on SIGHUP and when it changes on disk (checked every --reload-interval \
            seconds); an invalid new file is logged to stderr and the old model keeps serving. \
            SIGTERM or SIGINT stop the service after the requests in flight. \
            With --token-file, every request but GET /healthz needs 'Authorization: Bearer <token>' (401 otherwise). \
            A client gets --request-timeout seconds to send each whole request; request heads are limited to \
            16 KiB and 100 header fields. No request data names a file: the service reads only its model. With --port 0 a free port is \
            chosen; the bound address is printed on stdout as 'listening on http://HOST:PORT'.
            """
}
