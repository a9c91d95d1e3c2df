import Foundation
import Testing
import TestSupport

/// The walkthroughs in notebooks-md/ are executable: every `sh` block is run and its output must
/// equal the recorded `text` block beneath it (after normalising checksums and timestamps). Run with
/// HEALTHSCORE_RECORD_NOTEBOOKS=1 to re-record after an intended change, then review the diff.
@Suite(.serialized, .tags(.slow), TagSelection.unlessSkipped(.slow)) struct NotebookTests {
    struct Block { var commands: String; var expected: String; var range: Range<String.Index> }

    static let directory = Fixtures.packageRoot.appendingPathComponent("notebooks-md")
    static var notebooks: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".md") }.sorted()
    }

    /// ```sh blocks of `$ command` lines, each followed by a ```text block.
    static func blocks(_ text: String) -> [Block] {
        var out: [Block] = []
        var search = text.startIndex
        while let sh = text.range(of: "```sh\n", range: search..<text.endIndex),
              let shEnd = text.range(of: "\n```\n", range: sh.upperBound..<text.endIndex) {
            let commands = text[sh.upperBound..<shEnd.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("$ ") ? String($0.dropFirst(2)) : String($0) }.joined(separator: "\n")
            guard text[shEnd.upperBound...].hasPrefix("```text\n") else {
                search = shEnd.upperBound
                continue
            }
            // The output block's body, including its last newline (empty when nothing is recorded yet).
            let outStart = text.index(shEnd.upperBound, offsetBy: 8)
            let bodyEnd: String.Index
            if text[outStart...].hasPrefix("```\n") {
                bodyEnd = outStart
            } else if let close = text.range(of: "\n```\n", range: outStart..<text.endIndex) {
                bodyEnd = text.index(after: close.lowerBound)
            } else { break }
            out.append(Block(commands: commands, expected: String(text[outStart..<bodyEnd]), range: outStart..<bodyEnd))
            let outEnd = text.range(of: "```\n", range: bodyEnd..<text.endIndex)!
            search = outEnd.upperBound
        }
        return out
    }

    /// Checksums, timestamps and byte counts change on every run; nothing else may.
    static func normalised(_ s: String) -> String {
        var t = s
        for (pattern, replacement) in [(#"sha256:[0-9a-f]{12,64}…?"#, "sha256:<checksum>"),
                                       (#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#, "<time>"),
                                       (#"\(\d+ bytes\)"#, "(<bytes>)"), (#"\(\d+ KiB\)"#, "(<size>)")] {
            t = t.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return t.split(separator: "\n", omittingEmptySubsequences: false).map { $0.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) }
            .joined(separator: "\n").trimmingCharacters(in: .newlines)
    }

    /// Runs a block as the notebook shows it, with the notebook's `/tmp/` files in `scratch` (one
    /// directory per notebook run, so two test runs never share them); the output names `/tmp/` again.
    static func run(_ commands: String, scratch: URL) throws -> String {
        let here = scratch.path + "/"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-o", "pipefail", "-c", commands.replacingOccurrences(of: "/tmp/", with: here)]
        p.currentDirectoryURL = Fixtures.packageRoot
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = CLI.executable.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["NO_COLOR"] = "1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: here, with: "/tmp/")
    }

    @Test func thereAreFourWalkthroughs() {
        #expect(Self.notebooks.count >= 4, "\(Self.notebooks)")
    }

    @Test(arguments: notebooks)
    func everyBlockReproducesItsRecordedOutput(_ name: String) throws {
        let url = Self.directory.appendingPathComponent(name)
        var text = try String(contentsOf: url, encoding: .utf8)
        let record = ProcessInfo.processInfo.environment["HEALTHSCORE_RECORD_NOTEBOOKS"] == "1"
        let blocks = Self.blocks(text)
        #expect(!blocks.isEmpty, "\(name) has no executable blocks")
        var replacements: [(Range<String.Index>, String)] = []
        let scratch = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        for b in blocks {
            let actual = try Self.run(b.commands, scratch: scratch)
            if record {
                let value = actual.trimmingCharacters(in: .newlines)
                replacements.append((b.range, value.isEmpty ? "" : value + "\n"))
            } else {
                #expect(Self.normalised(actual) == Self.normalised(b.expected), "\(name): output of `\(b.commands)` changed:\n\(actual)")
            }
        }
        if record {
            for (range, value) in replacements.reversed() { text.replaceSubrange(range, with: value) }
            try Data(text.utf8).write(to: url)
        }
    }
}
