import Foundation

/// Locations shared by the test targets: the package root, the bundled data and R's references.
public enum Fixtures {
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    public static func dataset(_ name: String) -> String {
        packageRoot.appendingPathComponent("datasets").appendingPathComponent(name).path
    }

    /// R's results on mlc_churn (`Tests/Reference/`, copied from the project's shared references).
    public static func reference(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/Reference").appendingPathComponent(name).path
    }

    /// A fresh temporary directory for one test.
    public static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("healthscore-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// |a − b| / max(|b|, tiny)
public func relativeError(_ a: Double, _ b: Double) -> Double {
    abs(a - b) / max(abs(b), 1e-300)
}

/// Runs the built `healthscore` executable, as a user would.
public enum CLI {
    public struct Result { public var status: Int32; public var stdout: String; public var stderr: String }

    public static var executable: URL {
        let fm = FileManager.default
        var candidates: [URL] = []
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("healthscore"))
            dir.deleteLastPathComponent()
        }
        candidates.append(Fixtures.packageRoot.appendingPathComponent(".build/debug/healthscore"))
        return candidates.first { fm.isExecutableFile(atPath: $0.path) } ?? candidates.last!
    }

    /// Whether this process (and so the executable built beside it) carries ThreadSanitizer's runtime.
    public static let threadSanitized: Bool = dlsym(dlopen(nil, RTLD_LAZY), "__tsan_init") != nil

    /// The smallest `ulimit -f` (KiB) the executable runs under: ThreadSanitizer's runtime itself
    /// dies with SIGBUS under small limits (below 512 KiB before `main`; at 768 KiB, in a SQLite
    /// run started from the test process), so sanitized runs get a higher floor.
    public static var smallestFileSizeLimitKB: Int { threadSanitized ? 2048 : 64 }

    @discardableResult
    /// `fileSizeLimitKB` runs it under `ulimit -f` (as a full disk would stop it).
    public static func run(_ arguments: [String], currentDirectory: URL? = nil, fileSizeLimitKB: Int? = nil) throws -> Result {
        let process = Process()
        if let limit = fileSizeLimitKB {
            let quoted = ([executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -f \(limit) && exec " + quoted.joined(separator: " ")]
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain both pipes while the process runs so a large output cannot block it.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let outData = outBox.data
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

extension Fixtures {
    /// One numeric column of a reference CSV in Tests/Reference/, keyed by its first column (R's term
    /// name). Cells written as `np.float64(…)` by the script that made some files are read as numbers.
    public static func referenceColumn(_ file: String, _ column: String) throws -> [String: Double] {
        let text = try String(contentsOfFile: reference(file), encoding: .utf8)
        func fields(_ line: Substring) -> [String] {
            line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        let lines = text.split(separator: "\n")
        guard let header = lines.first.map(fields), let index = header.firstIndex(of: column) else {
            throw ReferenceError(description: "\(file) has no column '\(column)'")
        }
        var out: [String: Double] = [:]
        for line in lines.dropFirst() {
            let f = fields(line)
            var cell = f[index]
            if cell.hasPrefix("np.float64(") { cell = String(cell.dropFirst("np.float64(".count).dropLast()) }
            guard let value = Double(cell) else { throw ReferenceError(description: "\(file): unreadable cell '\(f[index])'") }
            out[f[0]] = value
        }
        return out
    }

    public struct ReferenceError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }
}

/// A JSON string literal (for handing data to the Python consumers in the export tests).
public func jsonStringLiteral(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
