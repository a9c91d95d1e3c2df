import Foundation
import Testing
import ScoringCore
import TestSupport
@testable import Tabular
import Support

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
        #expect(throws: Diagnostic.self) { try FileDigest.sha256Hex(path: "/nonexistent/file.csv") }
    }
}

@Suite struct SkipColumnsTests {
    func read(_ text: String, skip: Set<String>) throws -> RawTable {
        var o = CSVOptions()
        o.skipColumns = skip
        return try CSVReader.read(data: Array(text.utf8), path: "t.csv", options: o)
    }

    @Test func skippedColumnsAreListedButNotRead() throws {
        let t = try read("id,x,notes\nA,1,\nB,2,\n", skip: ["id", "notes"])
        #expect(t.columns.map(\.name) == ["x"])
        #expect(t.skippedColumns == ["id", "notes"])
        #expect(t.hasColumn("id") && t.hasColumn("x") && !t.hasColumn("y"))
        #expect(t.column(named: "id") == nil)
    }

    @Test func recordStructureIsStillChecked() {
        #expect(throws: Diagnostic.self) { try read("id,x\nA,1\nB\n", skip: ["id"]) }
        #expect(throws: Diagnostic.self) { try read("id,x\n\"A,1\n", skip: ["id"]) }
    }
}

@Suite struct HashColumnsTests {
    @Test func equalCellsHashEquallyAndMissingIsZero() throws {
        var o = CSVOptions()
        o.hashColumns = ["id"]
        o.threads = 1
        let t = try CSVReader.read(data: Array("id,x\nA,1\nB,2\n\"A\",3\n,4\nNA,5\n".utf8), path: "t.csv", options: o)
        let h = try #require(t.hashedColumns["id"])
        #expect(h.count == 5)
        #expect(h[0] == h[2] && h[0] != h[1])
        #expect(h[3] == 0 && h[4] == 0)
        #expect(t.column(named: "id") == nil && t.hasColumn("id"))
    }

    @Test func sameHashesWithAnyThreadCount() throws {
        var text = "id,x\n"
        for i in 0..<20_000 { text += "C\(i % 7_000),\(i)\n" }
        func hashes(_ threads: Int) throws -> [UInt64] {
            var o = CSVOptions()
            o.hashColumns = ["id"]
            o.threads = threads
            o.minChunkBytes = 1_024
            return try CSVReader.read(data: Array(text.utf8), path: "t.csv", options: o).hashedColumns["id"]!
        }
        let one = try hashes(1)
        #expect(try hashes(2) == one)
        #expect(try hashes(3) == one)
        #expect(Set(one).count == 7_000)
    }
}
