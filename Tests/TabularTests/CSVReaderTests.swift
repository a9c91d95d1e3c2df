import Foundation
import Testing
import TestSupport
@testable import Tabular
import Support

// MARK: - Helpers

private func read(_ text: String, _ options: CSVOptions = CSVOptions()) throws -> RawTable {
    try CSVReader.read(data: Array(text.utf8), path: "t.csv", options: options)
}

private func failure(_ bytes: [UInt8], _ options: CSVOptions = CSVOptions()) -> Diagnostic? {
    do {
        _ = try CSVReader.read(data: bytes, path: "t.csv", options: options)
        return nil
    } catch {
        return error as? Diagnostic
    }
}

private func failure(_ text: String, _ options: CSVOptions = CSVOptions()) -> Diagnostic? {
    failure(Array(text.utf8), options)
}

private func numbers(_ table: RawTable, _ name: String) -> [Double]? {
    guard case .numeric(let v)? = table.column(named: name)?.values else { return nil }
    return v
}

/// Text column decoded back to cells; nil entries are missing.
private func texts(_ table: RawTable, _ name: String) -> [String?]? {
    guard case .text(let codes, let levels)? = table.column(named: name)?.values else { return nil }
    return codes.map { $0 < 0 ? nil : levels[Int($0)] }
}

private func levels(_ table: RawTable, _ name: String) -> [String]? {
    guard case .text(_, let levels)? = table.column(named: name)?.values else { return nil }
    return levels
}

private func bits(_ values: [Double]?) -> [UInt64]? { values?.map(\.bitPattern) }

/// Tables equal cell for cell (NaN compared by bit pattern).
private func identical(_ a: RawTable, _ b: RawTable) -> Bool {
    guard a.rowCount == b.rowCount, a.recordLines == b.recordLines, a.columns.count == b.columns.count else { return false }
    for (x, y) in zip(a.columns, b.columns) {
        guard x.name == y.name, x.missingCount == y.missingCount else { return false }
        switch (x.values, y.values) {
        case let (.numeric(u), .numeric(v)):
            if u.map(\.bitPattern) != v.map(\.bitPattern) { return false }
        case let (.text(c1, l1), .text(c2, l2)):
            if c1 != c2 || l1 != l2 { return false }
        default:
            return false
        }
    }
    return true
}

private func withOptions(threads: Int = 0, minChunkBytes: Int? = nil, _ change: (inout CSVOptions) -> Void = { _ in }) -> CSVOptions {
    var o = CSVOptions()
    o.threads = threads
    if let minChunkBytes { o.minChunkBytes = minChunkBytes }
    change(&o)
    return o
}

/// RFC 4180 quoting, applied only when needed (and sometimes anyway).
private func quoted(_ cell: String, always: Bool = false) -> String {
    let special = cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
    if !special && !always { return cell }
    return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

// MARK: - Structure

@Suite struct CSVStructureTests {
    @Test func typesColumnsAndTrimsHeader() throws {
        let t = try read(" id , score,plan \n7,1.5,basic\n8,-2,pro\n9,3e2,basic\n")
        #expect(t.columns.map(\.name) == ["id", "score", "plan"])
        #expect(t.rowCount == 3)
        #expect(t.recordLines == [2, 3, 4])
        #expect(t.line(ofRecord: 3) == 4)
        #expect(numbers(t, "id") == [7, 8, 9])
        #expect(numbers(t, "score") == [1.5, -2, 300])
        #expect(texts(t, "plan") == ["basic", "pro", "basic"])
        #expect(levels(t, "plan") == ["basic", "pro"])
        #expect(t.column(named: "nope") == nil)
        #expect(t.path == "t.csv")
    }

    @Test func quotedFieldsWithCommasQuotesAndLineBreaks() throws {
        let csv = "name,note,n\n\"Smith, J\",\"said \"\"hi\"\"\",1\n\"a\nb\",\"x\r\ny\",2\nplain,\"\",3\n"
        let t = try read(csv)
        #expect(texts(t, "name") == ["Smith, J", "a\nb", "plain"])
        #expect(texts(t, "note") == ["said \"hi\"", "x\r\ny", nil])
        #expect(numbers(t, "n") == [1, 2, 3])
        // The second record spans lines 3-5, so the third starts on line 6.
        #expect(t.recordLines == [2, 3, 6])
    }

    @Test func lineEndingsBOMAndTrailingLines() throws {
        let expected: [Double] = [1, 2, 3]
        for csv in ["a,b\r\n1,x\r\n2,y\r\n3,z\r\n", "a,b\n1,x\r\n2,y\n3,z", "\u{FEFF}a,b\n1,x\n2,y\n3,z\n",
                    "a,b\n1,x\n2,y\n3,z\n\n", "a,b\r\n1,x\r\n2,y\r\n3,z\r\n\r\n\r\n"] {
            let t = try read(csv)
            #expect(t.columns.map(\.name) == ["a", "b"], "\(csv.debugDescription)")
            #expect(numbers(t, "a") == expected, "\(csv.debugDescription)")
            #expect(texts(t, "b") == ["x", "y", "z"], "\(csv.debugDescription)")
        }
        let crlf = try read("a\r\n1\r\n2\r\n")
        #expect(crlf.recordLines == [2, 3])
    }

    @Test func singleColumnEmptyLineInTheMiddleIsMissing() throws {
        let t = try read("a\n1\n\n3\n")
        #expect(bits(numbers(t, "a")) == bits([1, .nan, 3]))
        #expect(t.column(named: "a")?.missingCount == 1)
    }

    @Test func quotedNumbersAndSpacesAreNumbers() throws {
        let t = try read("a,b\n\"12\", 3 \n\" -4.5 \",+5\n.5,5.\n-0,1E5\n")
        #expect(bits(numbers(t, "a")) == bits([12, -4.5, 0.5, -0.0]))
        #expect(numbers(t, "b") == [3, 5, 5, 100_000])
    }

    @Test func mixedColumnBecomesTextWithExactSpellings() throws {
        // Far more rows than one staging block before the first word appears.
        var csv = "v,w\n"
        for i in 0..<3000 { csv += "\(i % 7 == 0 ? "007" : String(i % 5)),\(i)\n" }
        csv += "NA,1\n 12,2\nword,3\n1.50,4\n"
        let t = try read(csv)
        let v = try #require(texts(t, "v"))
        #expect(v.count == 3004)
        #expect(v[0] == "007" && v[1] == "1" && v[2] == "2")
        #expect(Array(v.suffix(4)) == [nil, " 12", "word", "1.50"])
        #expect(Array(try #require(levels(t, "v")).prefix(5)) == ["007", "1", "2", "3", "4"])
        #expect(t.column(named: "v")?.missingCount == 1)
        #expect(numbers(t, "w")?.count == 3004)
    }

    @Test func naTokens() throws {
        let t = try read("a,b,c\n1,x,\nNA,N/A,2\n\"NA\",NULL,NaN\n3, NA,4\n")
        #expect(bits(numbers(t, "a")) == bits([1, .nan, .nan, 3]))
        #expect(t.column(named: "a")?.missingCount == 2)
        // Tokens match ignoring case and surrounding spaces: " NA" is NA.
        #expect(texts(t, "b") == ["x", nil, nil, nil])
        #expect(bits(numbers(t, "c")) == bits([.nan, 2, .nan, 4]))

        var options = CSVOptions()
        options.naValues = ["-999", "?"]
        let custom = try read("a,b\n-999,?\n2,x\n,y\n", options)
        // With "" no longer NA, the empty cell makes column a text.
        #expect(texts(custom, "a") == [nil, "2", ""])
        #expect(texts(custom, "b") == [nil, "x", "y"])
        let numeric = try read("a\n-999\n2.5\n-999\n", options)
        #expect(bits(numbers(numeric, "a")) == bits([.nan, 2.5, .nan]))
    }

    /// The spellings of other exports: any case, spaces around, and a few more tokens by default.
    @Test func naTokensIgnoreCaseAndSpaces() throws {
        let t = try read("a,b\n1,x\nnull,n/a\n NA ,Null\nnan,#N/A\n<NA>,  \n\t NaN,nA\n2,None\n")
        #expect(bits(numbers(t, "a")) == bits([1, .nan, .nan, .nan, .nan, .nan, 2]))
        // "None" is a level (a plan called None is common), not a missing value.
        #expect(texts(t, "b") == ["x", nil, nil, nil, nil, nil, "None"])
        var options = CSVOptions()
        options.naValues.insert("-")
        let extra = try read("a\n1\n-\n NA\n", options)
        #expect(bits(numbers(extra, "a")) == bits([1, .nan, .nan]))
    }

    /// A control byte in a cell (NUL from a broken export) is an error at its cell, not a level.
    @Test func controlBytesInACellAreRefused() throws {
        let e = try #require(failure(Array("a,b\n1,x\n2,y\u{0}z\n".utf8)))
        #expect(e.row == 2 && e.column == "b" && e.problem.contains("control byte (0x00"))
        let numeric = try #require(failure(Array("a,b\n1,x\n2\u{1}3,y\n".utf8)))
        #expect(numeric.row == 2 && numeric.column == "a")
    }

    /// Declared business formats read as numbers; without the declaration the cells stay text.
    @Test func numberFormats() throws {
        var grouped = CSVOptions()
        grouped.numberFormat = .grouped
        let g = try read("a\n\"1,234.5\"\n$12\n12%\n\"(1,000)\"\n-$3.25\n7\n", grouped)
        #expect(bits(numbers(g, "a")) == bits([1234.5, 12, 0.12, -1000, -3.25, 7]))
        var comma = CSVOptions()
        comma.numberFormat = .decimalComma
        let c = try read("a\n\"1.234,5\"\n\"12,5 %\"\n1.500\n\"1 200,50 €\"\n3\n", comma)
        #expect(bits(numbers(c, "a")) == bits([1234.5, 0.125, 1500, 1200.5, 3]))
        let plain = try read("a\n\"1,234.5\"\n12\n")
        #expect(texts(plain, "a") == ["1,234.5", "12"])
        // A group must have three digits: 1,23 is not a grouped number.
        #expect(texts(try read("a\n\"1,23\"\n4\n", grouped), "a") == ["1,23", "4"])
    }

    @Test func textColumnsOption() throws {
        var options = CSVOptions()
        options.textColumns = ["id", "churn", "absent"]
        let t = try read("id,churn,x\n001,1,1\n002,0,2\n001,NA,3\n", options)
        #expect(texts(t, "id") == ["001", "002", "001"])
        #expect(texts(t, "churn") == ["1", "0", nil])
        #expect(numbers(t, "x") == [1, 2, 3])
    }

    @Test func infinityInTextColumnIsALevel() throws {
        let t = try read("a\nInf\nx\n")
        #expect(texts(t, "a") == ["Inf", "x"])
    }

    @Test func readsFromDiskSmallAndMapped() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("csvreader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = dir.appendingPathComponent("small.csv")
        try Data("a,b\n1,x\n".utf8).write(to: small)
        let s = try CSVReader.read(path: small.path)
        #expect(numbers(s, "a") == [1])
        #expect(s.path == small.path)

        // Over the size where the file is mapped instead of read.
        var big = "a,b,c\n"
        for i in 0..<80_000 { big += "\(i),\(Double(i) / 8),r\(i % 3)\n" }
        let bigURL = dir.appendingPathComponent("big.csv")
        try Data(big.utf8).write(to: bigURL)
        let b = try CSVReader.read(path: bigURL.path)
        #expect(b.rowCount == 80_000)
        #expect(numbers(b, "b")?.last == 79_999.0 / 8)
        #expect(levels(b, "c") == ["r0", "r1", "r2"])
    }
}

// MARK: - Errors

@Suite struct CSVErrorTests {
    @Test func missingFileAndDirectory() {
        let path = "/tmp/definitely-not-here-\(UUID().uuidString).csv"
        #expect(throws: Diagnostic.self) { try CSVReader.read(path: path) }
        do {
            _ = try CSVReader.read(path: path)
        } catch let e as Diagnostic {
            #expect(e.file == path)
            #expect(e.problem == "file not found")
            #expect(e.description.hasPrefix(path + ": file not found. Fix: "))
        } catch {
            Issue.record("unexpected \(error)")
        }
        do {
            _ = try CSVReader.read(path: "/tmp")
            Issue.record("a directory was read")
        } catch let e as Diagnostic {
            #expect(e.problem.contains("directory"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func emptyFileAndHeaderOnly() throws {
        for empty in [[UInt8](), [0xEF, 0xBB, 0xBF], Array("\n\r\n".utf8)] {
            let e = try #require(failure(empty))
            #expect(e.problem.contains("empty"))
        }
        for headerOnly in ["a,b", "a,b\n", "a,b\r\n\r\n"] {
            let e = try #require(failure(headerOnly))
            #expect(e.problem.contains("no data rows"), "\(headerOnly.debugDescription)")
            #expect(e.line == 1)
        }
    }

    @Test func raggedRows() throws {
        let few = try #require(failure("a,b,c\n1,2,3\n4,5\n6,7,8\n"))
        #expect(few.row == 2 && few.line == 3)
        #expect(few.problem.contains("expected 3 fields") && few.problem.contains("found 2"))

        let many = try #require(failure("a,b\n1,2\n3,4\n5,6,7,8\n"))
        #expect(many.row == 3 && many.line == 4)
        #expect(many.problem.contains("expected 2") && many.problem.contains("found 4"))

        let blank = try #require(failure("a,b\n1,2\n\n3,4\n"))
        #expect(blank.row == 2 && blank.line == 3)
        #expect(blank.problem.contains("empty line"))

        // Line numbers count the line breaks inside quoted fields.
        let afterQuoted = try #require(failure("a,b\n\"x\ny\nz\",1\n2\n"))
        #expect(afterQuoted.row == 2 && afterQuoted.line == 5)
    }

    /// Long enough that the parse loop takes short numbers straight from the
    /// cell start; defects right after such a number must still be caught.
    @Test func errorsAfterShortNumbersInALongFile() throws {
        let head = "a,b,c\n" + String(repeating: "1,-2.5,3\n", count: 30)
        let tail = String(repeating: "7,8,9\n", count: 30)
        let few = try #require(failure(head + "4,5\n" + tail))
        #expect(few.row == 31 && few.line == 32 && few.problem.contains("found 2"))
        let many = try #require(failure(head + "4,5,6,7\n" + tail))
        #expect(many.row == 31 && many.problem.contains("found 4"))
        let quote = try #require(failure(head + "4,5\"x,6\n" + tail))
        #expect(quote.row == 31 && quote.column == "b" && quote.problem.contains("quote"))
        let crlf = try read((head + "12.25,-0.5,123456789\n" + tail).replacingOccurrences(of: "\n", with: "\r\n"))
        let lf = try read(head + "12.25,-0.5,123456789\n" + tail)
        #expect(crlf.rowCount == 61 && lf.rowCount == 61)
        for name in ["a", "b", "c"] {
            guard case .numeric(let x) = crlf.column(named: name)?.values,
                  case .numeric(let y) = lf.column(named: name)?.values else { Issue.record("\(name) not numeric"); continue }
            #expect(x == y)
        }
        guard case .numeric(let c) = lf.column(named: "c")?.values else { return }
        #expect(c[29] == 3 && c[30] == 123456789 && c[31] == 9)
        let mixed = try read(head + "4,5e1,x\n" + tail)
        guard case .numeric(let b) = mixed.column(named: "b")?.values,
              case .text(let codes, let levels) = mixed.column(named: "c")?.values else { Issue.record("types"); return }
        #expect(b[30] == 50 && b[0] == -2.5)
        #expect(levels == ["3", "x", "9"] && codes[30] == 1)
    }

    @Test func unterminatedQuoteNamesWhereItOpened() throws {
        let e = try #require(failure("a,b\n1,x\n2,\"open\n3,y\n4,z\n"))
        #expect(e.row == 2 && e.line == 3 && e.column == "b")
        #expect(e.problem.contains("never closed"))
    }

    @Test func strayQuotes() throws {
        let mid = try #require(failure("a,b\n1,x\n2,ab\"c\n"))
        #expect(mid.row == 2 && mid.line == 3 && mid.column == "b")
        #expect(mid.problem.contains("ab\"c"))

        let after = try #require(failure("a,b\n1,\"ab\"c\n"))
        #expect(after.row == 1 && after.line == 2 && after.column == "b")
        #expect(after.problem.contains("after the closing quote"))

        let spaced = try #require(failure("a,b\n1, \"x\"\n"))
        #expect(spaced.fix.contains("spaces"))

        let header = try #require(failure("a,b\"c\n1,2\n"))
        #expect(header.line == 1 && header.row == nil)
        #expect(header.problem.contains("header"))
    }

    @Test func bareCarriageReturn() throws {
        let e = try #require(failure("a,b\r1,2\r3,4\n"))
        #expect(e.problem.contains("carriage return"))
    }

    @Test func invalidUTF8() throws {
        let cell = try #require(failure(Array("name,n\nok,1\n".utf8) + [0x63, 0x61, 0x66, 0xE9] + Array(",2\n".utf8)))
        #expect(cell.row == 2 && cell.line == 3 && cell.column == "name")
        #expect(cell.problem.contains("UTF-8") && cell.problem.contains("0xE9"))

        let header = try #require(failure(Array("a,".utf8) + [0xFF] + Array("\n1,2\n".utf8)))
        #expect(header.line == 1 && header.problem.contains("header column 2"))
    }

    @Test func headerNames() throws {
        let dup = try #require(failure("id,x,y,x\n1,2,3,4\n"))
        #expect(dup.column == "x" && dup.problem.contains("columns 2 and 4"))
        let dupTrimmed = try #require(failure("id, x ,x\n1,2,3\n"))
        #expect(dupTrimmed.problem.contains("columns 2 and 3"))
        let empty = try #require(failure("a,,c\n1,2,3\n"))
        #expect(empty.problem.contains("header column 2") && empty.problem.contains("empty name"))
        let trailing = try #require(failure("a,b,\n1,2,3\n"))
        #expect(trailing.problem.contains("header column 3"))
    }

    @Test func entirelyMissingColumn() throws {
        let e = try #require(failure("a,b\n1,\n2,NA\n3,\"\"\n"))
        #expect(e.column == "b" && e.row == nil)
        #expect(e.fix == "drop it or pass --exclude")
        var options = CSVOptions()
        options.textColumns = ["b"]
        #expect(failure("a,b\n1,\n2,NA\n", options)?.column == "b")
    }

    @Test func infiniteValues() throws {
        for token in ["Inf", "-Inf", "inf", "Infinity", "+INFINITY", " -inf "] {
            let e = try #require(failure("a,b\n1,2\n3,\(token)\n4,5\n"), "\(token)")
            #expect(e.row == 2 && e.line == 3 && e.column == "b", "\(token)")
            #expect(e.problem == "infinite value '\(token)'")
            #expect(e.fix == "replace it with an empty cell (missing) or a finite number")
        }
        let overflow = try #require(failure("a\n1\n1e400\n"))
        #expect(overflow.row == 2 && overflow.problem.contains("1e400"))
        // The earliest row wins across columns.
        let first = try #require(failure("a,b\n1,2\n3,Inf\nInf,4\n"))
        #expect(first.row == 2 && first.column == "b")
    }

    @Test func descriptionIsOneLineInTheDocumentedShape() throws {
        let e = try #require(failure("a,logins\n1,2\n3,inf\n"))
        #expect(e.description == "t.csv: row 2 (line 3), column 'logins': infinite value 'inf'. Fix: replace it with an empty cell (missing) or a finite number")
        let withBreak = Diagnostic(.data, file: "f", column: "a\nb", problem: "bad\nthing", fix: "x")
        #expect(!withBreak.description.contains("\n"))
        #expect(Diagnostic(.data, file: "f", line: 4, problem: "p", fix: "q").description == "f: line 4: p. Fix: q")
    }
}

// MARK: - Numbers

@Suite struct FastFloatTests {
    private func viaFastFloat(_ s: String) -> Double? {
        let bytes = Array(s.utf8)
        return bytes.withUnsafeBufferPointer { FastFloat.parse($0.baseAddress!, count: $0.count) }
    }

    private func viaPlain(_ s: String) -> Double? {
        let bytes = Array(s.utf8) + [0x2C]   // as it sits in a file, followed by a comma
        return bytes.withUnsafeBufferPointer { b -> Double? in
            guard let (v, stop) = FastFloat.parsePlain(b.baseAddress!, from: 0, end: b.count), stop == b.count - 1 else { return nil }
            return v
        }
    }

    /// The cell fast path, both as a one-word read and (at the end of the
    /// buffer) as a byte loop.
    private func viaCell(_ s: String, padded: Bool) -> Double? {
        let bytes = Array(s.utf8) + (padded ? Array(",xxxxxxxx".utf8) : [])
        return bytes.withUnsafeBufferPointer { b in
            FastFloat.parsePlainCell(b.baseAddress!, start: 0, end: s.utf8.count, limit: b.count)
        }
    }

    /// The fused path of the parse loop: the number's length comes from its bytes.
    private func viaLeading(_ s: String, then terminator: String = ",") -> Double? {
        let bytes = Array((s + terminator + "xxxxxxxxxx").utf8)
        return bytes.withUnsafeBufferPointer { b -> Double? in
            guard let (v, n) = FastFloat.parseLeading(b.baseAddress!), n == s.utf8.count else { return nil }
            return v
        }
    }

    private func check(_ s: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = Double(s)
        #expect(viaFastFloat(s)?.bitPattern == expected?.bitPattern, "\(s)", sourceLocation: sourceLocation)
        for value in [viaPlain(s), viaCell(s, padded: true), s.isEmpty ? nil : viaCell(s, padded: false), viaLeading(s)] {
            if let value {
                #expect(value.bitPattern == expected?.bitPattern, "fast path \(s)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func cellFastPathTakesThePlainShapes() {
        for s in ["0", "-0", "7", "42", "-42", "12.3456", "-1.234567", "99999999", "-9999999", ".5", "5.", "-.5",
                  "0.000001", "12345678901", "3.14159265358979"] {
            #expect(viaCell(s, padded: true)?.bitPattern == Double(s)?.bitPattern, "\(s)")
            #expect(viaCell(s, padded: false)?.bitPattern == Double(s)?.bitPattern, "\(s)")
        }
        for s in ["-", ".", "-.", "1.2.3", "1-2", "--1", "+1", "1e5", " 1", "1 ", "12a", "a", "1..", "1,2"] {
            #expect(viaCell(s, padded: true) == nil, "\(s)")
            #expect(viaCell(s, padded: false) == nil, "\(s)")
        }
    }

    @Test func leadingNumberPathFindsTheNumbersEnd() {
        for s in ["0", "-0", "7", "42", "-42", "12.3456", "-1.234567", "99999999", "-99999999", "123.5678",
                  "-123.5678", ".5", "5.", "-.5", "0.000001", "-.0000001"] {
            #expect(viaLeading(s)?.bitPattern == Double(s)?.bitPattern, "\(s)")
            #expect(viaLeading(s, then: "\n")?.bitPattern == Double(s)?.bitPattern, "\(s)")
        }
        // Too long for one word, or not the plain shape: left to the general path.
        for s in ["123456789", "-123456789", "1234.5678", "0.0000001", "", "-", ".", "-.", "1.2.3", "--1", "+1"] {
            #expect(viaLeading(s) == nil, "\(s)")
        }
        // The number stops at the first other byte; the caller checks that byte ends the cell.
        let bytes = Array("12e5,xxxxxxxxxx".utf8)
        let stop = bytes.withUnsafeBufferPointer { FastFloat.parseLeading($0.baseAddress!)?.length }
        #expect(stop == 2)
    }

    /// Short decimals, the bulk of a churn export, against the C library's strtod.
    @Test func shortDecimalsAgreeWithStrtod() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<200_000 {
            var s = Int.random(in: 0..<4, using: &rng) == 0 ? "-" : ""
            let digits = Int.random(in: 1...8, using: &rng)
            let dotAt = Int.random(in: 0...digits + 1, using: &rng)   // digits + 1: no dot
            for k in 0..<digits {
                if k == dotAt { s += "." }
                s += String(Int.random(in: 0...9, using: &rng))
            }
            if dotAt == digits { s += "." }
            let expected = strtod(s, nil)
            if s.utf8.count - (s.hasPrefix("-") ? 1 : 0) <= 8 {
                #expect(viaLeading(s)?.bitPattern == expected.bitPattern, "\(s)")
            } else {
                #expect(viaLeading(s) == nil, "\(s)")
            }
            #expect(viaCell(s, padded: true)?.bitPattern == expected.bitPattern, "\(s)")
        }
    }

    @Test func edgeCasesAgreeWithTheStandardLibrary() {
        let cases = [
            "0", "-0", "0.0", "-0.0", "00012", "0.1", "0.2", "0.3", ".5", "5.", "-.5", "+.5", "1E5", "1e+5", "1e-5",
            "123.4567", "9007199254740992", "9007199254740993", "18446744073709551615", "123456789012345678901",
            "1234567890123456789", "12345678901234567890", "0.1234567890123456789", "1e22", "1e23", "12e25",
            "1e-22", "1e-23", "1e-320", "5e-324", "4e-324", "2e-324", "1e-400", "2.2250738585072014e-308",
            "2.2250738585072011e-308", "1.7976931348623157e308", "1.7976931348623158e308", "1e308", "1e309",
            "3.14159265358979323846264338327950288", "0.000000000000000000000000000001", "100000000000000000000000",
            "7.0e-10", "2.5e-5", "1e0", "1e-0", "-1e-0", "9.999999999999999e22", "0e999", "0.0e-999",
        ]
        for s in cases { check(s) }
    }

    @Test func rejectsNonNumbers() {
        for s in ["", " ", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1,5", "0x10", "nan", "inf", "1 2", "--1", "1e5.5", "١"] {
            #expect(viaFastFloat(s) == nil, "\(s)")
        }
        #expect(viaFastFloat("  12.5\t") == 12.5)
    }

    @Test func randomInputsAgreeWithTheStandardLibrary() {
        var rng = SeededRandom(seed: 42)
        for _ in 0..<40_000 {
            var s = Bool.random(using: &rng) ? "-" : ""
            let intDigits = Int.random(in: 0...22, using: &rng)
            let fracDigits = Int.random(in: 0...22, using: &rng)
            if intDigits + fracDigits == 0 { s += "0" }
            for _ in 0..<intDigits { s += String(Int.random(in: 0...9, using: &rng)) }
            if fracDigits > 0 || Bool.random(using: &rng) {
                s += "."
                for _ in 0..<fracDigits { s += String(Int.random(in: 0...9, using: &rng)) }
            }
            if s.hasSuffix(".") && intDigits == 0 { s += "0" }
            if Int.random(in: 0..<3, using: &rng) == 0 {
                s += ["e", "E"].randomElement(using: &rng)! + ["", "+", "-"].randomElement(using: &rng)!
                s += String(Int.random(in: 0...340, using: &rng))
            }
            check(s)
        }
        // Doubles printed in their shortest form must come back bit for bit.
        for _ in 0..<20_000 {
            let d = Double(bitPattern: rng.next())
            if d.isFinite { check("\(d)") }
        }
    }
}

// MARK: - Parallel parse and round trip

@Suite struct CSVParallelAndRoundTripTests {
    /// A table with quoted multi-line cells throughout, so guessed chunk
    /// boundaries regularly land inside quotes and must be repaired.
    private func awkwardCSV(rows: Int, seed: UInt64) -> String {
        var rng = SeededRandom(seed: seed)
        var csv = "id,amount,note,mixed,sparse\n"
        for i in 0..<rows {
            let amount = Double(Int.random(in: -100_000...100_000, using: &rng)) / 100
            let note: String
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: note = "\"line one\nline two\nline three\""
            case 1: note = "\"has, comma and \"\"quote\"\"\""
            case 2: note = ""
            default: note = "n\(i % 13)"
            }
            let mixed = i == rows * 3 / 4 ? "late text" : String(i % 17)
            let sparse = Int.random(in: 0..<4, using: &rng) == 0 ? "NA" : String(Int.random(in: 0...9, using: &rng))
            csv += "\(i),\(amount),\(note),\(mixed),\(sparse)"
            csv += i % 3 == 0 ? "\r\n" : "\n"
        }
        return csv
    }

    @Test func chunkedParseMatchesSingleThreaded() throws {
        let csv = Array(awkwardCSV(rows: 4000, seed: 7).utf8)
        let single = try CSVReader.read(data: csv, path: "p.csv", options: withOptions(threads: 1))
        #expect(single.rowCount == 4000)
        #expect(levels(single, "mixed")?.contains("late text") == true)
        for threads in [2, 3, 4, 7, 16] {
            let chunked = try CSVReader.read(data: csv, path: "p.csv", options: withOptions(threads: threads, minChunkBytes: 64))
            #expect(identical(single, chunked), "threads \(threads)")
        }
    }

    @Test func chunkedParseReportsTheSameFirstError() throws {
        // An early infinite value (found after parsing) must lose to a ragged
        // last row (found while parsing), whatever chunk each falls in.
        let body = awkwardCSV(rows: 3000, seed: 9).replacingOccurrences(of: "\n4,", with: "\nInf,")
        let bytes = Array((body + "1,2,3\n").utf8)
        let single = try #require(failure(bytes, withOptions(threads: 1)))
        #expect(single.problem.contains("found 3"))
        for threads in [2, 3, 5] {
            let chunked = try #require(failure(bytes, withOptions(threads: threads, minChunkBytes: 64)))
            #expect(chunked.description == single.description, "threads \(threads)")
        }
        // Errors in a middle chunk, and one found only after parsing.
        let middle = Array((awkwardCSV(rows: 2000, seed: 3) + "x,\"open\n" + awkwardCSV(rows: 10, seed: 4)).utf8)
        let late = Array((awkwardCSV(rows: 2000, seed: 3).replacingOccurrences(of: "\n1500,", with: "\n-Inf,")).utf8)
        for bytes in [middle, late] {
            let one = try #require(failure(bytes, withOptions(threads: 1)))
            for threads in [2, 4] {
                #expect(failure(bytes, withOptions(threads: threads, minChunkBytes: 64))?.description == one.description)
            }
        }
    }

    @Test func randomTablesRoundTrip() throws {
        var rng = SeededRandom(seed: 2024)
        let pieces = ["a", "Z", "é", "日本", "🙂", ",", "\"", "\n", "\r\n", " ", "  ", "NA", "1", "2.5", "-", "e", "'", "\t", ";"]
        let na = CSVOptions().naValues
        let spaces = CharacterSet(charactersIn: " \t")
        let normalisedNA = Set(na.map { $0.trimmingCharacters(in: spaces).lowercased() })
        func isNA(_ cell: String) -> Bool { normalisedNA.contains(cell.trimmingCharacters(in: spaces).lowercased()) }
        for trial in 0..<25 {
            let rows = Int.random(in: 1...300, using: &rng)
            let numericCount = Int.random(in: 1...4, using: &rng)
            let textCount = Int.random(in: 1...3, using: &rng)
            var numericColumns: [[Double?]] = []
            for _ in 0..<numericCount {
                numericColumns.append((0..<rows).map { r -> Double? in
                    if r > 0 && Int.random(in: 0..<8, using: &rng) == 0 { return nil }
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: return Double(Int.random(in: -1000...1000, using: &rng))
                    case 1: return Double(Int.random(in: -10_000_000...10_000_000, using: &rng)) / 10_000
                    default:
                        let d = Double(bitPattern: rng.next())
                        return d.isFinite ? d : 1.5
                    }
                })
            }
            var textColumns: [[String?]] = []
            for _ in 0..<textCount {
                textColumns.append((0..<rows).map { _ -> String? in
                    if Int.random(in: 0..<10, using: &rng) == 0 { return nil }
                    let n = Int.random(in: 1...5, using: &rng)
                    return (0..<n).map { _ in pieces.randomElement(using: &rng)! }.joined()
                })
            }
            let names = (0..<numericCount).map { "n\($0)" } + (0..<textCount).map { "t\($0)" }
            var csv = Bool.random(using: &rng) ? "\u{FEFF}" : ""
            csv += names.map { quoted($0, always: Bool.random(using: &rng)) }.joined(separator: ",") + "\n"
            for r in 0..<rows {
                var cells: [String] = []
                for col in numericColumns {
                    let cell = col[r].map { "\($0)" } ?? ""
                    cells.append(quoted(cell, always: Int.random(in: 0..<6, using: &rng) == 0))
                }
                for col in textColumns {
                    cells.append(quoted(col[r] ?? "", always: Int.random(in: 0..<4, using: &rng) == 0))
                }
                csv += cells.joined(separator: ",")
                if r < rows - 1 || Bool.random(using: &rng) { csv += Bool.random(using: &rng) ? "\r\n" : "\n" }
            }

            var options = withOptions(threads: Int.random(in: 1...3, using: &rng), minChunkBytes: 256)
            options.textColumns = Set((0..<textCount).map { "t\($0)" })
            let allMissing = textColumns.contains { col in col.allSatisfy { $0 == nil || isNA($0!) } }
            if allMissing { continue }
            let t = try CSVReader.read(data: Array(csv.utf8), path: "r.csv", options: options)
            #expect(t.rowCount == rows, "trial \(trial)")
            #expect(t.columns.map(\.name) == names, "trial \(trial)")
            for (i, col) in numericColumns.enumerated() {
                let expected = col.map { $0 ?? .nan }
                #expect(bits(numbers(t, "n\(i)")) == bits(expected), "trial \(trial) n\(i)")
                #expect(t.column(named: "n\(i)")?.missingCount == col.filter { $0 == nil }.count)
            }
            for (i, col) in textColumns.enumerated() {
                let expected = col.map { cell -> String? in cell.flatMap { isNA($0) ? nil : $0 } }
                #expect(texts(t, "t\(i)") == expected, "trial \(trial) t\(i)")
            }
        }
    }
}
