import Foundation
// The parallel split only happens above `minChunkBytes` (4 MiB); lowering it needs internal access,
// which the debug build and the fuzz build (-enable-testing) have and a plain release build lacks.
#if DEBUG || FUZZING
@testable import Tabular
#else
import Tabular
#endif

/// The CSV reader on arbitrary bytes. Besides not crashing it must give one answer however it is asked:
/// in memory or from a file, on one thread or split across several, and whole or in `readChunks` pieces.
enum CSVFuzz {
    /// One file per process, rewritten for each input (the file-based readers need a real path).
    static let path: String = {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        return "\(dir)/healthscore-fuzz-\(getpid()).csv"
    }()

    static func run(_ input: [UInt8]) throws {
        var single = CSVOptions()
        single.threads = 1
        let whole = Outcome { try CSVReader.read(data: input, path: path, options: single) }

        #if DEBUG || FUZZING
        var split = CSVOptions()
        split.threads = 3
        split.minChunkBytes = 1
        let parallel = Outcome { try CSVReader.read(data: input, path: path, options: split) }
        try same(whole, parallel, "read on 1 thread", "read split across 3 threads")
        #endif

        try write(input)
        let fromFile = Outcome { try CSVReader.read(path: path, options: single) }
        try same(whole, fromFile, "read(data:)", "read(path:)")

        // A chunk size from the input itself, so the fuzzer explores where the pieces break.
        let chunkBytes = 1 + input.count % 37
        var pieces: [(table: RawTable, first: Int)] = []
        let chunked = Outcome { try CSVReader.readChunks(path: path, options: single, chunkBytes: chunkBytes) { pieces.append(($0, $1)) } }
        try compareChunks(whole, chunked, pieces, chunkBytes: chunkBytes)
    }

    static func write(_ input: [UInt8]) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(input)) else {
            throw PropertyViolation("cannot write the scratch file \(path)")
        }
    }

    /// A cell as the reader delivered it, comparable across the typed representations.
    enum Cell: Equatable {
        case missing
        case number(UInt64)   // bit pattern, so -0.0 and 0.0 differ
        case text(String)
    }

    static func cells(_ column: RawColumn) -> [Cell] {
        switch column.values {
        case .numeric(let xs): return xs.map { $0.isNaN ? .missing : .number($0.bitPattern) }
        case .text(let codes, let levels): return codes.map { $0 < 0 ? .missing : .text(levels[Int($0)]) }
        }
    }

    static func describe(_ t: RawTable) -> String {
        "\(t.rowCount) rows, columns \(t.columns.map(\.name)), skipped \(t.skippedColumns)"
    }

    /// Two reads of the same bytes with the same options: identical tables or identical errors.
    static func same(_ a: Outcome<RawTable>, _ b: Outcome<RawTable>, _ nameA: String, _ nameB: String) throws {
        switch (a, b) {
        case (.failure(let x), .failure(let y)):
            try expect(x == y, "\(nameA) fails with «\(x)» but \(nameB) with «\(y)»")
        case (.value(let x), .value(let y)):
            try expect(x.rowCount == y.rowCount && x.recordLines == y.recordLines && x.skippedColumns == y.skippedColumns,
                       "\(nameA) gives \(describe(x)), \(nameB) gives \(describe(y))")
            try expect(x.columns.map(\.name) == y.columns.map(\.name), "\(nameA) and \(nameB) disagree on the columns")
            for (cx, cy) in zip(x.columns, y.columns) {
                try expect(cx.missingCount == cy.missingCount, "column '\(cx.name)': \(nameA) counts \(cx.missingCount) missing, \(nameB) \(cy.missingCount)")
                switch (cx.values, cy.values) {
                case (.numeric, .numeric), (.text, .text): break
                default: throw PropertyViolation("column '\(cx.name)' is typed differently by \(nameA) and \(nameB)")
                }
                try expect(cells(cx) == cells(cy), "column '\(cx.name)': \(nameA) and \(nameB) read different cells")
            }
        case (.failure(let x), .value(let y)):
            throw PropertyViolation("\(nameA) fails with «\(x)» but \(nameB) reads \(describe(y))")
        case (.value(let x), .failure(let y)):
            throw PropertyViolation("\(nameA) reads \(describe(x)) but \(nameB) fails with «\(y)»")
        }
    }

    /// Errors only a typed column can raise: `readChunks` types each piece on its own cells, so an
    /// infinite value in a piece where its column is all numbers fails there and not in `read` (where a
    /// word elsewhere makes the column text).
    static func isInfinity(_ message: String) -> Bool {
        message.contains("infinite value") || message.contains("overflows to infinity")
    }

    static func isEntirelyMissing(_ message: String) -> Bool {
        message.contains("the column is entirely missing")
    }

    /// `readChunks`' documented contract against `read`: the pieces concatenated hold exactly the cells
    /// `read` gives, with the same absolute record lines; it skips only the whole-file "entirely missing"
    /// check, and it may additionally refuse an infinite value in a piece where the column is numeric.
    static func compareChunks(_ whole: Outcome<RawTable>, _ chunked: Outcome<Void>,
                              _ pieces: [(table: RawTable, first: Int)], chunkBytes: Int) throws {
        let label = "readChunks(chunkBytes: \(chunkBytes))"
        switch (whole, chunked) {
        case (.failure(let x), .failure(let y)):
            if !isInfinity(y) && !isInfinity(x) {
                try expect(x == y, "read fails with «\(x)» but \(label) with «\(y)»")
            }
        case (.failure(let x), .value):
            try expect(isEntirelyMissing(x) || isInfinity(x), "read fails with «\(x)» but \(label) reads it")
        case (.value, .failure(let y)):
            try expect(isInfinity(y), "read succeeds but \(label) fails with «\(y)»")
        case (.value(let t), .value):
            var rows = 0
            var lines: [Int32] = []
            for (k, piece) in pieces.enumerated() {
                try expect(piece.first == rows, "piece \(k) says it starts after record \(piece.first), but \(rows) came before")
                try expect(piece.table.columns.map(\.name) == t.columns.map(\.name), "piece \(k) has other columns than read")
                rows += piece.table.rowCount
                lines += piece.table.recordLines
            }
            try expect(rows == t.rowCount, "\(label) gives \(rows) records, read \(t.rowCount)")
            try expect(lines == t.recordLines, "\(label) and read disagree on the record lines")
            for (c, column) in t.columns.enumerated() {
                let expected = cells(column)
                var got: [Cell] = []
                for piece in pieces { got += cells(piece.table.columns[c]) }
                for (i, (e, g)) in zip(expected, got).enumerated() where e != g {
                    // A piece of all-number cells types them as numbers where read (seeing a word
                    // elsewhere) keeps the text; the two must still be the same cell.
                    if case .text(let s) = e, case .number(let bits) = g {
                        if let x = Double(s), x.bitPattern != bits, !(x.isNaN) {
                            throw PropertyViolation("column '\(column.name)' record \(i + 1): read has text '\(s)', \(label) the number \(Double(bitPattern: bits))")
                        }
                        continue
                    }
                    throw PropertyViolation("column '\(column.name)' record \(i + 1): read gives \(e), \(label) \(g)")
                }
            }
        }
    }
}
