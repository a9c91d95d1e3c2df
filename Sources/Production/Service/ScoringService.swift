import Foundation
import Hummingbird
import HummingbirdCore
import ScoringCore
import Support

/// How `healthscore serve` runs.
public struct ServeConfiguration: Sendable {
    public var modelPath: String
    public var host: String = "127.0.0.1"
    /// 0 picks a free port; the bound one is passed to `onListening`.
    public var port: Int = 8080
    /// Larger request bodies are refused with 413.
    public var maxBodyBytes: Int = 8 * 1024 * 1024
    /// Larger batches are refused with 400.
    public var maxRows: Int = 10_000
    /// Load a model file without its checksum (edited by hand on purpose).
    public var allowUnsigned = false
    /// Seconds between looks at the model file's identity, size and modification time (nil or ≤ 0: off).
    public var pollInterval: Double? = 2
    /// Reload on SIGHUP. Off for in-process tests (a signal reaches the whole process).
    public var reloadOnSIGHUP = true
    /// Shut down gracefully on SIGTERM and SIGINT (finish requests in flight, then stop). Off for
    /// in-process tests, which stop the service by cancelling its task.
    public var shutdownOnSignals = true
    /// Unseen category levels: nil follows the model's stored policy (error when it has none).
    public var unknownLevels: UnknownLevelPolicy?
    /// When set, every request but `GET /healthz` must carry `Authorization: Bearer <token>`.
    public var bearerToken: BearerToken?
    /// Seconds a client has to send a whole request (from connecting or from the previous
    /// response); a slower client is disconnected, so it cannot hold a connection open.
    public var requestTimeout: Double = 30
    /// Largest request head (request line and all header fields) in bytes, and most header fields.
    public var maxHeaderBytes: Int = 16 * 1024
    public var maxHeaderFields: Int = 100

    public init(modelPath: String) { self.modelPath = modelPath }
}

/// The bound address, once the server accepts connections.
public struct ListeningAddress: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var url: String { host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)" }
}


/// The HTTP scoring service:
///   POST /v1/score   {"rows": [{column: value, ...}, ...]} → scores, bands and reasons
///   GET  /v1/model   what is being served (checksum, features, coefficients, scale, bands)
///   GET  /healthz    "ok <checksum>"
/// The model is hot-reloaded on SIGHUP and when its file changes; see `ModelStore`.
public final class ScoringService: Sendable {
    public let configuration: ServeConfiguration
    public let store: ModelStore

    /// Loads the model; throws (one line, with a fix) if it is missing or invalid.
    public init(configuration: ServeConfiguration, log: @escaping @Sendable (String) -> Void = ModelStore.standardErrorLog) throws {
        guard configuration.maxBodyBytes > 0, configuration.maxRows > 0, configuration.maxHeaderBytes > 0,
              configuration.maxHeaderFields > 0 else {
            throw Diagnostic(.serve, problem: "--max-body-bytes, --max-rows and the header limits must be positive. Fix: pass positive limits")
        }
        guard configuration.requestTimeout > 0, configuration.requestTimeout.isFinite else {
            throw Diagnostic(.serve, problem: "--request-timeout must be a positive number of seconds. Fix: pass e.g. --request-timeout 30")
        }
        self.configuration = configuration
        self.store = try ModelStore(path: configuration.modelPath, unknownLevels: configuration.unknownLevels,
                                    allowUnsigned: configuration.allowUnsigned, log: log)
    }

    /// Serves until cancelled or (with `shutdownOnSignals`) until SIGTERM/SIGINT.
    public func run(onListening: @escaping @Sendable (ListeningAddress) -> Void = { _ in }) async throws {
        let configuration = self.configuration
        let listening = ListeningFlag()
        let timeout = configuration.requestTimeout
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadlineHandler(seconds: timeout)],
            httpDecoderConfiguration: .init(maxHeaderFieldSize: configuration.maxHeaderBytes,
                                            maxHeaderListSize: configuration.maxHeaderBytes,
                                            maxHeaderFieldCount: configuration.maxHeaderFields))
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: http1),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "healthscore"),
            onServerRunning: { channel in
                listening.set()
                let address = channel.localAddress
                onListening(ListeningAddress(host: address?.ipAddress ?? configuration.host,
                                             port: address?.port ?? configuration.port))
            }
        )
        let reloader = ModelReloader(store: store)
        reloader.start(pollInterval: configuration.pollInterval, onSIGHUP: configuration.reloadOnSIGHUP)
        defer { reloader.stop() }
        do {
            if configuration.shutdownOnSignals {
                try await app.runService()
            } else {
                try await app.run()
            }
        } catch {
            if listening.isSet { throw Diagnostic(.serve, problem: "the server stopped: \(error)") }
            throw Diagnostic(.serve, problem: "cannot serve on \(configuration.host):\(configuration.port) (\(error)). Fix: choose another --port (0 picks a free one) or --host, or stop the process using it")
        }
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        // First, so it also covers unknown paths and methods.
        router.add(middleware: JSONErrorMiddleware())
        let maxBody = configuration.maxBodyBytes
        if let token = configuration.bearerToken { router.add(middleware: BearerTokenMiddleware(token: token, maxBodyBytes: maxBody)) }
        let store = self.store
        let maxRows = configuration.maxRows

        router.post("/v1/score") { request, _ -> Response in
            let model = store.current  // one model for the whole request
            if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBody {
                return Self.tooLarge(maxBody, checksum: model.checksum)
            }
            var bytes: [UInt8] = []
            var total = 0
            for try await fragment in request.body {
                total += fragment.readableBytes
                guard total <= maxBody else { return Self.tooLarge(maxBody, checksum: model.checksum) }
                bytes.append(contentsOf: fragment.readableBytesView)
            }
            if let problem = ScoreEndpoint.queryProblem(request.uri.queryParameters.map { String($0.key) }) {
                return Self.json(.badRequest, JSONWriter.error(problem), checksum: model.checksum)
            }
            let reasons = request.uri.queryParameters["reasons"].map(String.init)
            let strict = request.uri.queryParameters["strict"].map(String.init)
            let reply = ScoreEndpoint.handle(body: bytes, reasons: reasons, strict: strict, model: model, maxRows: maxRows)
            return Self.json(HTTPResponse.Status(code: reply.status), reply.bytes, checksum: model.checksum)
        }

        router.get("/v1/model") { _, _ -> Response in
            let model = store.current
            return Self.json(.ok, model.metadataJSON, checksum: model.checksum)
        }

        router.get("/healthz") { _, _ -> Response in
            let model = store.current
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            headers[.init("X-Model-Checksum")!] = model.checksum
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "ok \(model.checksum)\n")))
        }
        return router
    }

    static func json(_ status: HTTPResponse.Status, _ body: String, checksum: String?) -> Response {
        json(status, ByteBuffer(string: body), checksum: checksum)
    }

    static func json(_ status: HTTPResponse.Status, _ body: [UInt8], checksum: String?) -> Response {
        json(status, ByteBuffer(bytes: body), checksum: checksum)
    }

    private static func json(_ status: HTTPResponse.Status, _ body: ByteBuffer, checksum: String?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if let checksum { headers[.init("X-Model-Checksum")!] = checksum }
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    static func tooLarge(_ limit: Int, checksum: String) -> Response {
        json(.contentTooLarge,
             JSONWriter.error("the request body is larger than this service takes (\(limit) bytes). Fix: split the batch into smaller requests, or start the service with a larger --max-body-bytes"),
             checksum: checksum)
    }
}

/// Answers every error that escapes a handler, including unknown paths (404), as `{"error": "..."}`.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let message: String
            if error.status == .notFound {
                message = "no endpoint \(request.method) \(request.uri.path). Fix: use POST /v1/score, GET /v1/model or GET /healthz"
            } else if error.status == .contentTooLarge {
                message = "the request body is too large. Fix: split the batch into smaller requests"
            } else {
                message = "\(error.status.code) \(error.status.reasonPhrase). Fix: use POST /v1/score, GET /v1/model or GET /healthz"
            }
            return ScoringService.json(error.status, JSONWriter.error(message), checksum: nil)
        } catch {
            return ScoringService.json(.internalServerError,
                                       JSONWriter.error("internal error (\(error)). Fix: retry; report it if it persists"), checksum: nil)
        }
    }
}

/// Set once the listening socket is up (to tell a bind failure from a later one).
final class ListeningFlag: Sendable {
    private let value = Locked(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
