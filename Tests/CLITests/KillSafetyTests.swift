import Foundation
import History
import ScoringCore
import Testing
import TestSupport

/// `fit --out`, `export`, `score --out` and `score --db` killed with SIGKILL at random moments: each
/// target is afterwards the old complete version or the new complete version, never a part. The
/// moments are drawn over the late part of a normal run's duration, where the writing happens.
/// HEALTHSCORE_KILLS sets the kills per command (default 12), HEALTHSCORE_KILL_SEED the seed of the
/// moments (each run prints it, so a failure replays with the same moments).
@Suite(.serialized, .tags(.slow), TagSelection.unlessSkipped(.slow)) struct KillSafetyTests {
    static let kills = Int(ProcessInfo.processInfo.environment["HEALTHSCORE_KILLS"] ?? "") ?? 12
    static let seed = UInt64(ProcessInfo.processInfo.environment["HEALTHSCORE_KILL_SEED"] ?? "") ?? 20_261_207

    /// The kill moments of one command: fractions of its normal duration in [0.3, 1.1].
    static func moments(_ command: String) -> [Double] {
        var generator = SeededRandom(seed: seed &+ UInt64(command.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        return (0..<kills).map { _ in 0.3 + 0.8 * generator.uniform() }
    }

    /// A simulated history, two different models of it (A: ridge, B: maximum likelihood) and the
    /// current customers (one row each, the last snapshot) to score.
    final class Workspace: @unchecked Sendable {
        let dir = Fixtures.temporaryDirectory()
        var history: String { dir.appendingPathComponent("history.csv").path }
        var current: String { dir.appendingPathComponent("current.csv").path }
        var modelA: String { dir.appendingPathComponent("modelA.json").path }
        var modelB: String { dir.appendingPathComponent("modelB.json").path }

        init() throws {
            try run(["simulate", "--customers", "12000", "--months", "3", "--seed", "7", "--out", history])
            for (path, extra) in [(modelA, ["--penalty", "l2", "--lambda", "0.01"]), (modelB, [])] {
                try run(["fit", history, "--target", "churned_next_month", "--id", "customer_id", "--time", "snapshot_date",
                         "--missing", "impute", "--out", path] + extra)
            }
            let lines = try String(contentsOfFile: history, encoding: .utf8).split(separator: "\n")
            let last = lines.dropFirst().map { $0.split(separator: ",")[1] }.max()!
            let kept = [lines[0]] + lines.dropFirst().filter { $0.split(separator: ",")[1] == last }
            try Data((kept.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("current.csv"))
        }

        func run(_ arguments: [String]) throws {
            let r = try CLI.run(arguments)
            guard r.status == 0 else { throw TestFailure(description: "\(arguments.first!) failed: \(r.stderr)") }
        }

        func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

        /// Leftover hidden temporaries of killed writers (harmless, reported).
        func temporaries(of path: String) -> [String] {
            let name = (path as NSString).lastPathComponent
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(".\(name).tmp-") }
        }
    }

    struct TestFailure: Error, CustomStringConvertible { var description: String }

    static let shared = Result { try Workspace() }

    /// Starts the command, kills it after `delay` seconds (if still running); whether it was killed.
    static func runAndKill(_ arguments: [String], after delay: Double) throws -> Bool {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(delay)
        while process.isRunning && Date() < deadline { usleep(500) }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return killed && process.terminationReason == .uncaughtSignal
    }

    /// Seconds an undisturbed run takes.
    static func duration(_ arguments: [String]) throws -> Double {
        let started = Date()
        let r = try CLI.run(arguments)
        guard r.status == 0 else { throw TestFailure(description: r.stderr) }
        return Date().timeIntervalSince(started)
    }

    /// Kills `arguments` `kills` times at moments in [0.3, 1.1] × its duration and checks `target`
    /// after each: it must equal `old` or satisfy `isNew`. `reset` restores the old version first.
    func killRepeatedly(_ arguments: [String], target: String, old: Data, reset: () throws -> Void,
                        isNew: (Data) -> Bool) throws -> (killed: Int, completed: Int) {
        let moments = Self.moments(arguments.joined(separator: " "))
        try reset()
        let t = try Self.duration(arguments)
        #expect(isNew(FileManager.default.contents(atPath: target) ?? Data()), "an undisturbed run did not write the new version")
        var killed = 0, completed = 0
        for k in 0..<Self.kills {
            try reset()
            let wasKilled = try Self.runAndKill(arguments, after: t * moments[k])
            if wasKilled { killed += 1 } else { completed += 1 }
            let now = FileManager.default.contents(atPath: target) ?? Data()
            #expect(now == old || isNew(now), "\(arguments[0]) killed: \(target) is neither the old nor a complete new version (\(now.count) bytes)")
        }
        print("kill-safety: \(arguments[0]) → \((target as NSString).lastPathComponent): \(killed) killed, \(completed) completed, run \(String(format: "%.2f", t)) s, HEALTHSCORE_KILL_SEED=\(Self.seed)")
        return (killed, completed)
    }

    @Test func fitOutIsOldOrNewAfterKills() throws {
        let w = try Self.shared.get()
        let target = w.dir.appendingPathComponent("fit-target.json").path
        let old = w.bytes(w.modelA)!
        let newCoefficients = try ModelArtifact.load(path: w.modelB).coefficients
        let (killed, _) = try killRepeatedly(
            ["fit", w.history, "--target", "churned_next_month", "--id", "customer_id", "--time", "snapshot_date",
             "--missing", "impute", "--out", target],
            target: target, old: old, reset: { try old.write(to: URL(fileURLWithPath: target)) },
            isNew: { data in (try? ModelArtifact.decode(data, path: target))?.coefficients == newCoefficients })
        #expect(killed > 0, "no run was killed: the kill moments missed every run")
    }

    @Test func exportIsOldOrNewAfterKills() throws {
        let w = try Self.shared.get()
        let oldPath = w.dir.appendingPathComponent("old.pmml").path, newPath = w.dir.appendingPathComponent("new.pmml").path
        try w.run(["export", w.modelA, "--format", "pmml", "--out", oldPath])
        try w.run(["export", w.modelB, "--format", "pmml", "--out", newPath])
        let old = w.bytes(oldPath)!, new = w.bytes(newPath)!
        #expect(old != new)
        let target = w.dir.appendingPathComponent("export-target.pmml").path
        _ = try killRepeatedly(["export", w.modelB, "--format", "pmml", "--out", target], target: target, old: old,
                               reset: { try old.write(to: URL(fileURLWithPath: target)) }, isNew: { $0 == new })
    }

    @Test func scoreOutIsOldOrNewAfterKills() throws {
        let w = try Self.shared.get()
        let oldPath = w.dir.appendingPathComponent("old-scores.csv").path, newPath = w.dir.appendingPathComponent("new-scores.csv").path
        try w.run(["score", w.modelA, w.current, "--out", oldPath])
        try w.run(["score", w.modelB, w.current, "--out", newPath])
        let old = w.bytes(oldPath)!, new = w.bytes(newPath)!
        let target = w.dir.appendingPathComponent("score-target.csv").path
        let (killed, _) = try killRepeatedly(["score", w.modelB, w.current, "--out", target], target: target, old: old,
                                             reset: { try old.write(to: URL(fileURLWithPath: target)) }, isNew: { $0 == new })
        #expect(killed > 0)
    }

    /// The history database after each kill: it opens, passes SQLite's integrity check, and holds
    /// either the old run or the complete new one for the as-of date (every customer scored).
    @Test func scoreDatabaseHoldsWholeRunsAfterKills() throws {
        let w = try Self.shared.get()
        let customers = try String(contentsOfFile: w.current, encoding: .utf8).split(separator: "\n").count - 1
        let db = w.dir.appendingPathComponent("history.db").path
        let template = w.dir.appendingPathComponent("history-template.db").path
        try w.run(["score", w.modelA, w.current, "--db", template, "--as-of", "2024-01-01", "--out", "/dev/null"])
        let arguments = ["score", w.modelB, w.current, "--db", db, "--as-of", "2024-02-01", "--out", "/dev/null"]
        func reset() throws {
            for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
            try FileManager.default.copyItem(atPath: template, toPath: db)
        }
        try reset()
        let t = try Self.duration(arguments)
        var killed = 0, sawNew = 0
        let moments = Self.moments(arguments.joined(separator: " ") + " --db")
        for k in 0..<Self.kills {
            try reset()
            if try Self.runAndKill(arguments, after: t * moments[k]) { killed += 1 }
            let history = try HistoryDatabase(path: db)
            let runs = try history.runs().map(\.asOf)
            #expect(runs == ["2024-01-01"] || runs == ["2024-01-01", "2024-02-01"], "runs after a kill: \(runs)")
            #expect(try history.scoreCount(asOf: "2024-01-01") == customers)
            if runs.count == 2 {
                sawNew += 1
                #expect(try history.scoreCount(asOf: "2024-02-01") == customers, "a partial run was recorded")
            }
        }
        print("kill-safety: score --db: \(killed) killed, \(sawNew) ended with the new run, run \(String(format: "%.2f", t)) s, HEALTHSCORE_KILL_SEED=\(Self.seed)")
        #expect(killed > 0)
    }

    /// `score --db --out` killed at random moments: the history holds the new run only if the CSV
    /// beside it is the new one (the run is committed after the CSV is in place), and a later
    /// undisturbed run sweeps the temporaries the kills left.
    @Test func scoreDatabaseAndCSVStayOneUnitAfterKills() throws {
        let w = try Self.shared.get()
        let db = w.dir.appendingPathComponent("unit.db").path
        let csv = w.dir.appendingPathComponent("unit.csv").path
        let template = w.dir.appendingPathComponent("unit-template.db").path
        try w.run(["score", w.modelA, w.current, "--db", template, "--as-of", "2024-01-01", "--out", csv])
        let old = try #require(w.bytes(csv))
        let arguments = ["score", w.modelB, w.current, "--db", db, "--as-of", "2024-02-01", "--out", csv]
        func reset() throws {
            for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
            try FileManager.default.copyItem(atPath: template, toPath: db)
            try old.write(to: URL(fileURLWithPath: csv))
        }
        try reset()
        let t = try Self.duration(arguments)
        let new = try #require(w.bytes(csv))
        #expect(new != old)
        var killed = 0, both = 0
        let moments = Self.moments(arguments.joined(separator: " ") + " --db")
        for k in 0..<Self.kills {
            try reset()
            if try Self.runAndKill(arguments, after: t * moments[k]) { killed += 1 }
            let runs = try HistoryDatabase(path: db, readOnly: true).runs().map(\.asOf)
            let now = w.bytes(csv)
            #expect(now == old || now == new, "the CSV is neither version")
            if runs.contains("2024-02-01") {
                both += 1
                #expect(now == new, "the history holds the new run but the CSV is the old one")
            }
        }
        try w.run(arguments)
        #expect(w.temporaries(of: csv).isEmpty, "a completed run left these: \(w.temporaries(of: csv))")
        print("kill-safety: score --db --out: \(killed) killed, \(both) ended with the new run, HEALTHSCORE_KILL_SEED=\(Self.seed)")
        #expect(killed > 0)
    }

    /// A file-size limit (as on a full disk) fails the write with a clear error: non-zero exit, the
    /// path and the fix named, the old file intact and no temporary left behind.
    @Test func aFileSizeLimitFailsCleanly() throws {
        let w = try Self.shared.get()
        let target = w.dir.appendingPathComponent("limited.csv").path
        let old = Data("the old version\n".utf8)
        try old.write(to: URL(fileURLWithPath: target))
        let limit = CLI.smallestFileSizeLimitKB
        // The unlimited output must be larger than the limit, or the test would prove nothing.
        let full = w.dir.appendingPathComponent("unlimited.csv").path
        try w.run(["score", w.modelB, w.history, "--out", full])
        try #require((w.bytes(full)?.count ?? 0) > limit * 1024, "the scores fit under \(limit) KiB: use a larger workspace")
        let r = try CLI.run(["score", w.modelB, w.history, "--out", target], fileSizeLimitKB: limit)
        #expect(r.status != 0)
        #expect(r.stderr.contains(target) && r.stderr.contains("ulimit -f"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(w.bytes(target) == old)
        #expect(w.temporaries(of: target).isEmpty, "left behind: \(w.temporaries(of: target))")

        let fullDB = w.dir.appendingPathComponent("unlimited.db").path
        try w.run(["score", w.modelB, w.current, "--db", fullDB, "--as-of", "2024-02-01", "--out", "/dev/null"])
        try #require((w.bytes(fullDB)?.count ?? 0) > limit * 1024, "the run fits under \(limit) KiB: use a larger workspace")
        let db = w.dir.appendingPathComponent("limited.db").path
        let d = try CLI.run(["score", w.modelB, w.current, "--db", db, "--as-of", "2024-02-01", "--out", "/dev/null"], fileSizeLimitKB: limit)
        #expect(d.status != 0)
        #expect(d.stderr.contains(db), "\(d.stderr)")
        if FileManager.default.fileExists(atPath: db) {
            let history = try HistoryDatabase(path: db)
            #expect(try history.runs().isEmpty, "a partial run was recorded under the limit")
        }
    }
}
