import Foundation
import ScoringCore
import Service
import Tabular
import TestSupport
import Training

#if canImport(Glibc)
import Glibc
#endif

/// Two models fitted once for the whole suite on mlc_churn: A with every column, B without
/// `number_customer_service_calls` (so its scores differ), and the first 100 rows as JSON and CSV.
final class ServiceFixture: @unchecked Sendable {
    let modelA: ModelArtifact
    let modelB: ModelArtifact
    let dataA: Data
    let dataB: Data
    let checksumA: String
    let checksumB: String
    /// `{"rows": [...]}` for the first 100 mlc rows: numbers as written in the CSV, text as strings.
    let body100: Data
    /// The same 100 rows as a CSV (header included), for the core's own reading.
    let csv100: String
    let header: [String]
    /// The 100 rows' cells as written (unquoted), per row.
    let cells: [[String]]

    static let shared: Result<ServiceFixture, Error> = Result { try ServiceFixture() }
    static func get() throws -> ServiceFixture { try shared.get() }

    private init() throws {
        var clock = Timings()
        modelA = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock).model
        modelB = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn", exclude: ["number_customer_service_calls"])),
                                     .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock).model
        dataA = try modelA.encoded()
        dataB = try modelB.encoded()
        checksumA = try modelA.computedChecksum()
        checksumB = try modelB.computedChecksum()

        let text = try String(contentsOfFile: Fixtures.dataset("mlc_churn.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(101).map(String.init)
        csv100 = lines.joined(separator: "\n") + "\n"
        func fields(_ line: String) -> [(text: String, quoted: Bool)] {
            line.split(separator: ",", omittingEmptySubsequences: false).map { f in
                f.hasPrefix("\"") ? (String(f.dropFirst().dropLast()), true) : (String(f), false)
            }
        }
        header = fields(lines[0]).map(\.text)
        var rows: [String] = []
        var cells: [[String]] = []
        for line in lines.dropFirst() {
            let f = fields(line)
            cells.append(f.map(\.text))
            let members = zip(header, f).map { name, cell in
                "\"\(name)\":" + (cell.quoted ? "\"\(cell.text)\"" : cell.text)
            }
            rows.append("{" + members.joined(separator: ",") + "}")
        }
        self.cells = cells
        body100 = Data(("{\"rows\":[" + rows.joined(separator: ",") + "]}").utf8)
    }

    /// The scoring core's answer for the 100 rows, read from CSV as `healthscore score` reads it.
    func coreExplanations(_ model: ModelArtifact, reasons: Int = 3) throws -> [Explanation] {
        let dir = Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("rows.csv").path
        try csv100.write(toFile: path, atomically: true, encoding: .utf8)
        let (table, columns) = try ScoringInput.read(path: path, model: model)
        return try Scorer(model: model).explain(rowCount: table.rowCount, columns: columns, reasons: reasons)
    }

    /// A body with one row built from row `index` of the 100 with some cells replaced (raw JSON
    /// text) or removed (nil).
    func body(row index: Int = 0, replacing: [String: String?] = [:]) -> Data {
        var members: [String] = []
        for (name, cell) in zip(header, cells[index]) {
            if let replacement = replacing[name] {
                if let r = replacement { members.append("\"\(name)\":\(r)") }
                continue
            }
            members.append("\"\(name)\":" + (Double(cell) != nil ? cell : "\"\(cell)\""))
        }
        return Data(("{\"rows\":[{" + members.joined(separator: ",") + "}]}").utf8)
    }
}

/// Lines the service logs, kept for assertions.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return _lines }
    func append(_ line: String) { lock.lock(); _lines.append(line); lock.unlock() }
    var sink: @Sendable (String) -> Void { { [self] in self.append($0) } }
}

struct ServiceStartError: Error, CustomStringConvertible { var description: String }

/// A service running in this process on a free port; stopped by cancelling its task.
final class RunningService: @unchecked Sendable {
    let service: ScoringService
    let address: ListeningAddress
    let logs: LogCapture
    private let task: Task<Void, Error>
    var port: Int { address.port }

    private init(service: ScoringService, address: ListeningAddress, logs: LogCapture, task: Task<Void, Error>) {
        self.service = service; self.address = address; self.logs = logs; self.task = task
    }

    static func start(modelPath: String, configure: (inout ServeConfiguration) -> Void = { _ in }) async throws -> RunningService {
        var config = ServeConfiguration(modelPath: modelPath)
        config.port = 0
        config.reloadOnSIGHUP = false
        config.shutdownOnSignals = false
        // Tests that are not about the deadline must not meet it on a loaded machine (the whole
        // suite under ThreadSanitizer on two cores took over 30 s to read one request).
        config.requestTimeout = 600
        configure(&config)
        let logs = LogCapture()
        let service = try ScoringService(configuration: config, log: logs.sink)
        let (stream, continuation) = AsyncStream<ListeningAddress>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            try await service.run { continuation.yield($0) }
        }
        for await address in stream {
            return RunningService(service: service, address: address, logs: logs, task: task)
        }
        let failure: String
        switch await task.result {
        case .failure(let e): failure = "\(e)"
        case .success: failure = "the service returned before listening"
        }
        throw ServiceStartError(description: failure)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:],
                 chunked: Bool = false) async throws -> HTTPReply {
        try await RawHTTP.send(port: port, method: method, path: path, body: body, headers: headers, chunked: chunked)
    }

    /// Polls `/healthz` until it names `checksum` (or the deadline passes).
    func waitForChecksum(_ checksum: String, seconds: Double = 30) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await request("GET", "/healthz").text == "ok \(checksum)\n" { return true }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return false
    }
}

struct HTTPReply: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The `error` message of a `{"error": "..."}` body.
    var errorMessage: String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        return object["error"] as? String
    }
}

struct HTTPClientError: Error, CustomStringConvertible { var description: String }

/// A minimal HTTP/1.1 client on a plain socket, so tests control every byte (oversized bodies,
/// chunked uploads) and depend on nothing but the OS. The blocking I/O runs on its own thread, so
/// no Swift-concurrency thread (which the in-process server needs) is ever blocked.
enum RawHTTP {
    static func send(port: Int, method: String, path: String, body: Data?, headers: [String: String],
                     chunked: Bool) async throws -> HTTPReply {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result {
                    try blockingSend(port: port, method: method, path: path, body: body, headers: headers, chunked: chunked)
                })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    static func blockingSend(port: Int, method: String, path: String, body: Data?, headers: [String: String],
                             chunked: Bool) throws -> HTTPReply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPClientError(description: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw HTTPClientError(description: "connect to port \(port): errno \(errno)") }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body {
            head += chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: \(body.count)\r\n"
            if headers["Content-Type"] == nil { head += "Content-Type: application/json\r\n" }
        }
        head += "\r\n"
        var out = Data(head.utf8)
        if let body {
            if chunked {
                var offset = 0
                while offset < body.count {
                    let n = min(16_384, body.count - offset)
                    out += Data((String(n, radix: 16) + "\r\n").utf8) + body[body.startIndex + offset ..< body.startIndex + offset + n] + Data("\r\n".utf8)
                    offset += n
                }
                out += Data("0\r\n\r\n".utf8)
            } else {
                out += body
            }
        }
        // The server may answer (413) before reading everything; it drains the rest, so keep writing,
        // but a closed connection is not an error here: the answer may already be waiting.
        var writeFailed = false
        out.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n <= 0 { writeFailed = true; return }
                sent += n
            }
        }

        // Read the head, then Content-Length bytes (or to EOF).
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        func readMore() -> Bool {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return false }
            received.append(contentsOf: buffer[0..<n])
            return true
        }
        let separator = Data("\r\n\r\n".utf8)
        var headEnd = received.range(of: separator)
        while headEnd == nil {
            guard readMore() else {
                throw HTTPClientError(description: "connection closed before a response head (write failed: \(writeFailed))")
            }
            headEnd = received.range(of: separator)
        }
        let headText = String(decoding: received[..<headEnd!.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw HTTPClientError(description: "bad status line in \(headText)")
        }
        var replyHeaders: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            replyHeaders[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let bodyStart = headEnd!.upperBound
        if let length = replyHeaders["content-length"].flatMap({ Int($0) }) {
            while received.count - bodyStart < length {
                guard readMore() else { throw HTTPClientError(description: "connection closed inside the body") }
            }
            return HTTPReply(status: status, headers: replyHeaders, body: Data(received[bodyStart ..< bodyStart + length]))
        }
        if replyHeaders["transfer-encoding"]?.lowercased() == "chunked" {
            // Decode chunks until the zero-size one.
            var body = Data()
            var cursor = bodyStart
            while true {
                var lineEnd = received[cursor...].range(of: Data("\r\n".utf8))
                while lineEnd == nil {
                    guard readMore() else { throw HTTPClientError(description: "connection closed inside a chunk") }
                    lineEnd = received[cursor...].range(of: Data("\r\n".utf8))
                }
                let size = Int(String(decoding: received[cursor ..< lineEnd!.lowerBound], as: UTF8.self), radix: 16) ?? 0
                cursor = lineEnd!.upperBound
                if size == 0 { return HTTPReply(status: status, headers: replyHeaders, body: body) }
                while received.count < cursor + size + 2 {
                    guard readMore() else { throw HTTPClientError(description: "connection closed inside a chunk") }
                }
                body.append(received[cursor ..< cursor + size])
                cursor += size + 2
            }
        }
        while readMore() {}
        return HTTPReply(status: status, headers: replyHeaders, body: Data(received[bodyStart...]))
    }
}

/// The JSON of a score response, decoded with Foundation (a correctly rounding parser).
struct ScoreResponse: Decodable {
    struct Model: Decodable { var checksum: String; var created_at: String }
    struct Row: Decodable {
        var churn_probability: Double
        var health_score: Double
        var band: String?
        var reasons: [Reason]
    }
    struct Reason: Decodable, Equatable {
        var metric: String
        var display_name: String
        var value: String
        var points: Double
    }
    var model: Model
    var scores: [Row]

    static func decode(_ reply: HTTPReply) throws -> ScoreResponse {
        try JSONDecoder().decode(ScoreResponse.self, from: reply.body)
    }
}
