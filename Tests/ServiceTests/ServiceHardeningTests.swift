import Foundation
import ScoringCore
@testable import Service
import TestSupport
import Testing
import Support

/// What a hostile or careless client can and cannot do to `healthscore serve`.
@Suite(.serialized, .tags(.slow), TagSelection.unlessSkipped(.slow)) struct ServiceHardeningTests {
    func modelFile() throws -> String {
        let path = Fixtures.temporaryDirectory().appendingPathComponent("model.json").path
        try AtomicFile.write(try ServiceFixture.get().dataA, to: path)
        return path
    }

    static let secret = "0123456789abcdef-the-test-token"

    @Test func bearerTokenGuardsEverythingButHealthz() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile()) { $0.bearerToken = try! BearerToken(Self.secret) }
        defer { Task { await server.stop() } }

        let missing = try await server.request("POST", "/v1/score", body: f.body100)
        #expect(missing.status == 401)
        #expect(missing.headers["www-authenticate"] == "Bearer realm=\"healthscore\"")
        #expect(missing.errorMessage?.contains("Authorization: Bearer") == true)
        #expect(missing.errorMessage?.contains("Fix:") == true)
        #expect(missing.errorMessage?.contains("\n") == false)
        // Refused before its body was read, on a connection the client asks to close: the body is
        // drained first, so the close cannot reset the connection under the answer.
        let closing = try await server.request("POST", "/v1/score", body: f.body100, headers: ["Connection": "close"])
        #expect(closing.status == 401)

        for wrong in ["Bearer " + Self.secret.dropLast(), "Bearer " + Self.secret + "x", "Basic " + Self.secret,
                      Self.secret, "Bearer", "Bearer " + Self.secret + String(repeating: "x", count: 256)] {
            let reply = try await server.request("GET", "/v1/model", headers: ["Authorization": String(wrong)])
            #expect(reply.status == 401, "\(wrong) was let in")
        }
        // Unknown paths answer 401 too: without the token nothing about the service is revealed.
        #expect(try await server.request("GET", "/v2/anything").status == 401)

        let good = ["Authorization": "Bearer " + Self.secret]
        #expect(try await server.request("POST", "/v1/score", body: f.body100, headers: good).status == 200)
        #expect(try await server.request("GET", "/v1/model", headers: ["Authorization": "bearer  " + Self.secret]).status == 200)
        let health = try await server.request("GET", "/healthz")
        #expect(health.status == 200 && health.text == "ok \(f.checksumA)\n")
    }

    @Test func tokensThatCanBeGuessedOrMistypedAreRefused() throws {
        #expect(throws: Diagnostic.self) { try BearerToken("short") }
        #expect(throws: Diagnostic.self) { try BearerToken("has a space inside it, long enough") }
        #expect(throws: Diagnostic.self) { try BearerToken("ünïcödé-is-not-a-token-here") }
        let dir = Fixtures.temporaryDirectory()
        let file = dir.appendingPathComponent("token").path
        try Data((Self.secret + "\n").utf8).write(to: URL(fileURLWithPath: file))
        #expect(try BearerToken(file: file).accepts("Bearer " + Self.secret))
        do {
            _ = try BearerToken(file: dir.appendingPathComponent("absent").path)
            Issue.record("a missing token file was accepted")
        } catch let error as Diagnostic {
            #expect(error.description.contains("absent") && error.description.contains("--token-file"))
        }
    }

    /// A client that stops halfway through a request head, or through a body, is disconnected after
    /// the request timeout, and other clients are served meanwhile.
    @Test func slowClientsAreCutOffAndDoNotHoldTheService() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile()) { $0.requestTimeout = 1 }
        defer { Task { await server.stop() } }
        let stalls = [
            "POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty",
            "POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n{\"rows\": [",
            "",  // connects and says nothing
        ]
        let started = Date()
        async let closed = withThrowingTaskGroup(of: Double.self) { group in
            for stall in stalls {
                group.addTask { try await RawSocket.secondsUntilClosed(port: server.port, sending: stall, giveUpAfter: 20) }
            }
            return try await group.reduce(into: [Double]()) { $0.append($1) }
        }
        // While they stall, ordinary requests keep getting answers.
        for _ in 0..<5 {
            let reply = try await server.request("POST", "/v1/score", body: f.body100)
            #expect(reply.status == 200)
        }
        #expect(Date().timeIntervalSince(started) < 5)
        for seconds in try await closed {
            #expect(seconds >= 0.9 && seconds < 10, "a stalled connection stayed open \(seconds) s")
        }
    }

    /// Keep-alive clients that send requests back to back are not cut off by the clock.
    @Test func theClockRestartsAfterEachResponse() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile()) { $0.requestTimeout = 1 }
        defer { Task { await server.stop() } }
        let statuses = try await RawSocket.keepAlive(port: server.port, bodies: Array(repeating: f.body100, count: 4), pause: 0.6)
        #expect(statuses == [200, 200, 200, 200])
    }

    @Test func oversizedHeadsAreRefusedAndTheServiceGoesOn() async throws {
        let f = try ServiceFixture.get()
        let server = try await RunningService.start(modelPath: try modelFile())
        defer { Task { await server.stop() } }
        let longValue = ["X-Padding": String(repeating: "a", count: 20 * 1024)]
        var manyFields: [String: String] = [:]
        for i in 0..<150 { manyFields["X-Field-\(i)"] = "v" }
        for headers in [longValue, manyFields] {
            do {
                let reply = try await server.request("GET", "/healthz", headers: headers)
                #expect(reply.status == 431 || reply.status == 400, "an oversized head got \(reply.status)")
            } catch is HTTPClientError {
                // Closing the connection without an answer is also a refusal.
            }
        }
        #expect(try await server.request("POST", "/v1/score", body: f.body100).status == 200)
    }

    /// Paths are never mapped to files: traversal attempts reach no endpoint and read nothing.
    @Test func requestPathsNeverNameFiles() async throws {
        let server = try await RunningService.start(modelPath: try modelFile())
        defer { Task { await server.stop() } }
        for path in ["/../../etc/passwd", "/v1/../../../etc/passwd", "/v1/score/..%2F..%2Fetc%2Fpasswd", "/model.json",
                     "/v1/model?path=/etc/passwd"] {
            let reply = try await server.request("GET", path)
            #expect(!reply.text.contains("root:"), "\(path) leaked a file")
            if !path.hasPrefix("/v1/model?") { #expect(reply.status == 404, "\(path): \(reply.status)") }
        }
    }
}

/// Raw socket moves the HTTP client in ServiceTestSupport cannot make: stalling mid-request and
/// several requests on one connection.
enum RawSocket {
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPClientError(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw HTTPClientError(description: "connect: errno \(errno)") }
        return fd
    }

    static func sendAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                sent += n
            }
            return true
        }
    }

    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Sends `text`, then waits for the server to close the connection; seconds from connecting.
    static func secondsUntilClosed(port: Int, sending text: String, giveUpAfter limit: Int) async throws -> Double {
        try await onThread {
            let fd = try connect(port: port)
            defer { close(fd) }
            let started = Date()
            var timeout = timeval(tv_sec: limit, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            _ = sendAll(fd, Data(text.utf8))
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n == 0 || (n < 0 && errno != EINTR) { break }
            }
            return Date().timeIntervalSince(started)
        }
    }

    /// POSTs each body on one keep-alive connection, pausing between them; the statuses answered.
    static func keepAlive(port: Int, bodies: [Data], pause: Double) async throws -> [Int] {
        try await onThread {
            let fd = try connect(port: port)
            defer { close(fd) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var statuses: [Int] = []
            var pending = Data()
            var buffer = [UInt8](repeating: 0, count: 65_536)
            for body in bodies {
                Thread.sleep(forTimeInterval: pause)
                let head = "POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                guard sendAll(fd, Data(head.utf8) + body) else { return statuses }
                // Read one response: its head, then Content-Length bytes.
                while true {
                    if let end = pending.range(of: Data("\r\n\r\n".utf8)) {
                        let head = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
                        let length = head.components(separatedBy: "\r\n").compactMap { line -> Int? in
                            let parts = line.split(separator: ":", maxSplits: 1)
                            return parts.count == 2 && parts[0].lowercased() == "content-length"
                                ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : nil
                        }.first ?? 0
                        if pending.count - end.upperBound >= length {
                            statuses.append(Int(head.split(separator: " ")[1]) ?? 0)
                            pending = Data(pending[(end.upperBound + length)...])
                            break
                        }
                    }
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n <= 0 { return statuses }
                    pending.append(contentsOf: buffer[0..<n])
                }
            }
            return statuses
        }
    }
}
