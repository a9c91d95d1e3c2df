import Foundation
import Testing
import TestSupport
@testable import Tabular
import Support

/// Cells of a table decoded to comparable values: numbers by bit pattern,
/// text by spelling, missing as nil, whatever kind each piece chose.
private func cells(_ t: RawTable, _ name: String) -> [String?] {
    switch t.column(named: name)!.values {
    case .numeric(let v): return v.map { $0.isNaN ? nil : "#\($0.bitPattern)" }
    case .text(let codes, let levels): return codes.map { $0 < 0 ? nil : levels[Int($0)] }
    }
}

/// A whole-file read and a pieced read agree when, column by column, the
/// pieces' cells concatenate to the whole's (a piece may type a column as
/// numbers where the whole file has text, so the text is compared parsed).
private func concatenated(_ pieces: [(RawTable, Int)], equal whole: RawTable) -> Bool {
    var rows = 0
    for (t, first) in pieces {
        guard first == rows, t.columns.map(\.name) == whole.columns.map(\.name) else { return false }
        rows += t.rowCount
    }
    guard rows == whole.rowCount, pieces.flatMap({ $0.0.recordLines }) == whole.recordLines else { return false }
    for column in whole.columns {
        let joined = pieces.flatMap { cells($0.0, column.name) }
        var expected = cells(whole, column.name)
        if case .text = column.values {
            // Text in the whole file that a piece read as a number.
            expected = zip(expected, joined).map { e, j in
                guard let e, let j, j.hasPrefix("#"), let v = Double(e.trimmingCharacters(in: .whitespaces)) else { return e }
                return "#\(v.bitPattern)" == j ? j : e
            }
        }
        guard joined == expected else { return false }
        guard pieces.reduce(0, { $0 + $1.0.column(named: column.name)!.missingCount }) == column.missingCount else { return false }
    }
    return true
}

private func withTemporaryFile<R>(_ text: String, _ body: (String) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("chunks-\(UUID().uuidString).csv")
    try Data(text.utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

private func pieces(_ path: String, _ options: CSVOptions = CSVOptions(), chunkBytes: Int,
                    range: Range<Int>? = nil) throws -> [(RawTable, Int)] {
    var out: [(RawTable, Int)] = []
    try CSVReader.readChunks(path: path, options: options, chunkBytes: chunkBytes, range: range) { out.append(($0, $1)) }
    return out
}

/// Quoted cells with line breaks, commas and doubled quotes, CRLF and LF,
/// NA tokens, and a column that turns to text late.
private func awkwardCSV(rows: Int, seed: UInt64) -> String {
    var rng = SeededRandom(seed: seed)
    var csv = "\u{FEFF}id,amount,note,mixed,sparse\r\n"
    for i in 0..<rows {
        let amount = Double(Int.random(in: -100_000...100_000, using: &rng)) / 100
        let note: String
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: note = "\"line one\nline two\r\nline three\""
        case 1: note = "\"has, comma and \"\"quote\"\"\""
        case 2: note = ""
        default: note = "n\(i % 13)"
        }
        let mixed = i == rows * 3 / 4 ? "late text" : String(i % 17)
        let sparse = Int.random(in: 0..<4, using: &rng) == 0 ? "NA" : String(Int.random(in: 0...9, using: &rng))
        csv += "\(i),\(amount),\(note),\(mixed),\(sparse)"
        csv += i % 3 == 0 ? "\r\n" : "\n"
    }
    return csv + "\n\r\n"
}

@Suite struct CSVChunkReaderTests {
    @Test(arguments: [1, 2, 7, 33, 100, 1000, 1 << 20])
    func piecesConcatenateToTheWholeFile(chunkBytes: Int) throws {
        try withTemporaryFile(awkwardCSV(rows: 400, seed: 11)) { path in
            let whole = try CSVReader.read(path: path)
            #expect(whole.rowCount == 400)
            let parts = try pieces(path, chunkBytes: chunkBytes)
            #expect(concatenated(parts, equal: whole))
            if chunkBytes >= 1 << 20 { #expect(parts.count == 1) }
            if chunkBytes <= 100 { #expect(parts.count > 50) }
        }
    }

    @Test func textColumnsOptionFixesTheKindInEveryPiece() throws {
        try withTemporaryFile(awkwardCSV(rows: 300, seed: 5)) { path in
            var options = CSVOptions()
            options.textColumns = ["mixed"]
            let whole = try CSVReader.read(path: path, options: options)
            let parts = try pieces(path, options, chunkBytes: 500)
            #expect(concatenated(parts, equal: whole))
            for (t, _) in parts {
                guard case .text = t.column(named: "mixed")!.values else { Issue.record("mixed is not text"); return }
            }
            // Without the option, pieces before the word read the column as numbers.
            let plain = try pieces(path, chunkBytes: 500)
            guard case .numeric = plain[0].0.column(named: "mixed")!.values else { Issue.record("expected numbers"); return }
        }
    }

    @Test func byteRangesTilingTheFileVisitEveryRecordOnce() throws {
        let csv = awkwardCSV(rows: 300, seed: 21)
        let size = csv.utf8.count
        try withTemporaryFile(csv) { path in
            let whole = try CSVReader.read(path: path)
            for k in [1, 2, 3, 7, 50, size / 3] {
                var cuts = (0...k).map { size * $0 / k }
                cuts[k] = size
                var parts: [(RawTable, Int)] = []
                for i in 0..<k {
                    parts += try pieces(path, chunkBytes: 257, range: cuts[i]..<cuts[i + 1])
                }
                #expect(concatenated(parts, equal: whole), "\(k) ranges")
            }
            // A range past the last record start holds nothing.
            #expect(try pieces(path, chunkBytes: 64, range: (size - 3)..<size).isEmpty)
        }
    }

    @Test func errorsCarryAbsoluteRowsAndLines() throws {
        let good = awkwardCSV(rows: 200, seed: 3).replacingOccurrences(of: "\n\r\n", with: "")
        let bad = good + "x,1\n"
        try withTemporaryFile(bad) { path in
            let expected = try #require(failureOf { _ = try CSVReader.read(path: path) })
            for chunkBytes in [3, 200, 5000] {
                let pieced = try #require(failureOf { _ = try pieces(path, chunkBytes: chunkBytes) })
                #expect(pieced.description == expected.description, "chunk \(chunkBytes)")
            }
            #expect(expected.row == 201)
            let ranged = try #require(failureOf { _ = try pieces(path, chunkBytes: 100, range: (bad.utf8.count - 10)..<bad.utf8.count) })
            #expect(ranged.description == expected.description)
        }
        let open = "a,b\n1,2\n3,\"never closed\n4,5\n"
        try withTemporaryFile(open) { path in
            let expected = try #require(failureOf { _ = try CSVReader.read(path: path) })
            let pieced = try #require(failureOf { _ = try pieces(path, chunkBytes: 4) })
            #expect(pieced.description == expected.description)
            #expect(pieced.row == 2 && pieced.line == 3)
        }
    }

    @Test func headerOnlyEmptyAndMissingFiles() throws {
        for (text, problem) in [("", "empty"), ("\n\r\n", "empty"), ("a,b\n\n", "no data rows")] {
            try withTemporaryFile(text) { path in
                let e = failureOf { _ = try pieces(path, chunkBytes: 8) }
                #expect(e?.problem.contains(problem) == true, "\(text.debugDescription)")
            }
        }
        let missing = failureOf { _ = try pieces("/tmp/not-here-\(UUID().uuidString).csv", chunkBytes: 8) }
        #expect(missing?.problem == "file not found")
    }
}

private func failureOf(_ body: () throws -> Void) -> Diagnostic? {
    do { try body(); return nil } catch { return error as? Diagnostic }
}
