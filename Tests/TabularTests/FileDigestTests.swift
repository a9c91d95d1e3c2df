import Foundation
import Testing
import ScoringCore
import TestSupport
@testable import Tabular

@Suite struct FileDigestTests {
    @Test func opensslDigestAgreesWithThePortableOne() throws {
        let path = Fixtures.dataset("mlc_churn.csv")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(try FileDigest.sha256Hex(path: path) == SHA256.hex(of: data))
    }

    @Test func knownVectorAndEmptyFile() throws {
        let dir = Fixtures.temporaryDirectory()
        let abc = dir.appendingPathComponent("abc").path
        try Data("abc".utf8).write(to: URL(fileURLWithPath: abc))
        #expect(try FileDigest.sha256Hex(path: abc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let empty = dir.appendingPathComponent("empty").path
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(try FileDigest.sha256Hex(path: empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func missingFileIsADataError() {
        #expect(throws: DataError.self) { try FileDigest.sha256Hex(path: "/nonexistent/file.csv") }
    }
}
