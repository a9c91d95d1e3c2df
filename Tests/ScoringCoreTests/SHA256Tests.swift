import Foundation
import Testing
@testable import ScoringCore

@Suite("SHA256")
struct SHA256Tests {
    @Test("NIST FIPS 180-4 short vectors")
    func nistVectors() {
        #expect(SHA256.hex(of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(SHA256.hex(of: Data(twoBlocks.utf8)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("one million 'a' bytes")
    func millionA() {
        let data = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(of: data) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the 55/56/64-byte padding edges, where off-by-one errors hide.
    @Test("padding boundaries", arguments: [55, 56, 57, 63, 64, 65, 119, 120, 128])
    func paddingBoundaries(length: Int) {
        let data = Data((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        var hasher = SHA256Hasher()
        hasher.update(data)
        let whole = hasher.finalize()
        #expect(whole.count == 32)
        #expect(SHA256.hexString(whole) == SHA256.hex(of: data))
    }

    @Test("chunked updates match one-shot hashing", arguments: [1, 63, 64, 65, 1000])
    func chunked(pieceSize: Int) {
        let data = Data((0..<5_003).map { UInt8(truncatingIfNeeded: ($0 &* 131) ^ ($0 >> 3)) })
        let expected = SHA256.hex(of: data)
        var hasher = SHA256Hasher()
        var start = 0
        while start < data.count {
            let end = min(start + pieceSize, data.count)
            hasher.update(data.subdata(in: start..<end))
            start = end
        }
        #expect(SHA256.hexString(hasher.finalize()) == expected)
    }

    @Test("finalize resets the hasher for reuse")
    func reuse() {
        var hasher = SHA256Hasher()
        hasher.update(Data("abc".utf8))
        _ = hasher.finalize()
        hasher.update(Data("abc".utf8))
        #expect(SHA256.hexString(hasher.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("file hashing agrees with sha256sum")
    func fileMatchesSha256sum() throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("sha256-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A little over 2 MiB so the file reader crosses its 1 MiB chunk boundaries mid-block.
        var bytes = [UInt8](repeating: 0, count: (2 << 20) + 12_345)
        var x: UInt32 = 0x9e37_79b9
        for i in bytes.indices {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5
            bytes[i] = UInt8(truncatingIfNeeded: x)
        }
        let file = dir.appendingPathComponent("payload.bin")
        try Data(bytes).write(to: file)

        let ours = try SHA256.hex(ofFileAt: file.path)
        #expect(ours == SHA256.hex(of: Data(bytes)))

        guard let reference = Self.runSha256sum(file.path) else {
            print("sha256sum not available; skipped the external comparison")
            return
        }
        #expect(ours == reference)
    }

    @Test("missing file throws")
    func missingFile() {
        #expect(throws: (any Error).self) {
            _ = try SHA256.hex(ofFileAt: "/nonexistent/healthscore/\(UUID().uuidString)")
        }
    }

    private static func runSha256sum(_ path: String) -> String? {
        let candidates = ["/usr/bin/sha256sum", "/bin/sha256sum", "/usr/local/bin/sha256sum"]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = String(data: output, encoding: .utf8),
              let digest = line.split(separator: " ").first
        else { return nil }
        return String(digest)
    }
}
