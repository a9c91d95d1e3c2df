import Foundation
import ScoringCore
import Hummingbird
import Support

/// The shared secret a client must present as `Authorization: Bearer <token>`. Read from a file
/// (never a command-line argument, which `ps` shows to every user on the machine).
public struct BearerToken: Sendable {
    let bytes: [UInt8]

    /// Tokens shorter than this are refused: they can be guessed.
    public static let minimumLength = 16

    public init(_ token: String) throws {
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count >= Self.minimumLength else {
            throw Diagnostic(.serve, problem: "the bearer token has \(trimmed.utf8.count) characters; at least \(Self.minimumLength) are needed. Fix: put a long random token in the file, e.g. `openssl rand -hex 32 > token`")
        }
        guard trimmed.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Diagnostic(.serve, problem: "the bearer token contains spaces or non-ASCII characters. Fix: use printable ASCII only, e.g. `openssl rand -hex 32 > token`")
        }
        bytes = Array(trimmed.utf8)
    }

    public init(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostic(.serve, problem: "\(path): cannot read the token file. Fix: check the path passed to --token-file and its permissions")
        }
        do {
            try self.init(String(decoding: data, as: UTF8.self))
        } catch let error as Diagnostic {
            throw Diagnostic(.serve, problem: "\(path): \(error.description)")
        }
    }

    /// Whether an `Authorization` header value carries this token. The comparison touches every byte
    /// whatever the input, so its time says nothing about how much of a guess was right.
    func accepts(_ header: String?) -> Bool {
        guard let header else { return false }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
        let offered = Array(parts[1].trimmingCharacters(in: .whitespaces).utf8)
        var difference: UInt8 = offered.count == bytes.count ? 0 : 1
        for i in bytes.indices {
            difference |= bytes[i] ^ (i < offered.count ? offered[i] : 0)
        }
        return difference == 0
    }
}

/// Answers 401 to any request but `GET /healthz` (a load balancer's probe carries no secret) that
/// lacks the bearer token.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: BearerToken
    /// At most this much of a refused request's body is read (the service's body limit).
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" || token.accepts(request.headers[.authorization]) {
            return try await next(request, context)
        }
        // Read (and drop) the body first: a server that answers and closes while request bytes are
        // still unread makes the kernel reset the connection, and the client may lose the 401.
        var read = 0
        if (request.headers[.contentLength].flatMap { Int($0) } ?? 0) <= maxBodyBytes {
            for try await fragment in request.body {
                read += fragment.readableBytes
                if read > maxBodyBytes { break }
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.wwwAuthenticate] = "Bearer realm=\"healthscore\""
        let message = request.headers[.authorization] == nil
            ? "this service needs a bearer token. Fix: send the header 'Authorization: Bearer <token>' with the token the service was started with (--token-file)"
            : "the bearer token is not valid. Fix: send 'Authorization: Bearer <token>' with the token in the service's --token-file"
        return Response(status: .unauthorized, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: JSONWriter.error(message))))
    }
}
