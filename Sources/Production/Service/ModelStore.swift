import Foundation
import ScoringCore

/// One fully loaded, validated model with everything a request needs precomputed. Immutable: a
/// request takes a reference to one of these at its start and uses only it, so a reload that
/// happens mid-request can never mix two models in one answer.
public final class LoadedModel: Sendable {
    public let artifact: ModelArtifact
    public let scorer: Scorer
    /// "sha256:…" of the model file's canonical JSON (computed when the file had none stored).
    public let checksum: String
    /// For each input column the scorer needs: read it as numbers (numeric features, group members)
    /// or as text (categorical features).
    let columnKinds: [(name: String, numeric: Bool)]
    /// Where each of `columnKinds` goes among the plan's inputs.
    let inputSlots: [Int]
    /// Strings that mean "missing" (the model's NA values, as when scoring a CSV).
    let naValues: Set<String>
    let longestNAValue: Int
    /// Per feature, the start of a reason as JSON: `{"metric":…,"display_name":…,"value":`.
    let reasonHeads: [[UInt8]]
    /// How the training export wrote numbers: a numeric cell sent as "$1,200" reads as 1200.
    let numberFormat: NumberFormat
    /// The `GET /v1/model` body, encoded once.
    let metadataJSON: String

    public init(artifact: ModelArtifact, unknownLevels: UnknownLevelPolicy? = nil) throws {
        self.artifact = artifact
        self.scorer = Scorer(model: artifact, unknownLevels: unknownLevels)
        self.checksum = try artifact.checksum ?? artifact.computedChecksum()
        var kinds: [(String, Bool)] = []
        var seen: [String: Int] = [:]
        func add(_ name: String, numeric: Bool) {
            if let i = seen[name] {
                // Needed both ways (unusual): text serves both, since the core parses numbers from text.
                if kinds[i].1 != numeric { kinds[i].1 = false }
                return
            }
            seen[name] = kinds.count
            kinds.append((name, numeric))
        }
        for f in artifact.schema.features {
            switch f.kind {
            case .numeric: add(f.column, numeric: true)
            case .categorical: add(f.column, numeric: false)
            case .group: for m in f.members ?? [] { add(m.column, numeric: true) }
            }
        }
        self.columnKinds = kinds
        let plan = scorer.plan
        self.inputSlots = kinds.map { name, _ in plan.inputs.firstIndex(of: name)! }
        self.reasonHeads = plan.metrics.indices.map { j in
            var w = JSONWriter(capacity: 64)
            w.raw("{\"metric\":")
            w.string(plan.metrics[j])
            w.raw(",\"display_name\":")
            w.string(plan.displayNames[j])
            w.raw(",\"value\":")
            return w.bytes
        }
        // Compared trimmed and in lower case, as the CSV reader compares them ('null', 'NA ').
        self.naValues = Set(artifact.schema.naValues.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        self.longestNAValue = naValues.map(\.utf8.count).max() ?? 0
        self.numberFormat = artifact.schema.numberFormat ?? .plain
        self.metadataJSON = try ModelMetadata(artifact, checksum: checksum, scorer: scorer).json()
    }

    /// Loads and validates a model file (format version, checksum, consistency), then compiles it.
    public static func load(path: String, unknownLevels: UnknownLevelPolicy? = nil, allowUnsigned: Bool = false) throws -> LoadedModel {
        try LoadedModel(artifact: ModelArtifact.load(path: path, allowUnsigned: allowUnsigned), unknownLevels: unknownLevels)
    }
}

/// What identifies one version of the model file on disk: a replaced file (rename) changes the
/// inode, an edit in place changes the modification time or size.
struct FileSignature: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64

    static func of(path: String) -> FileSignature? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileSignature(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                             modifiedSeconds: Int64(st.st_mtim.tv_sec), modifiedNanoseconds: Int64(st.st_mtim.tv_nsec))
    }
}

/// The result of one reload attempt.
public enum ReloadOutcome: Equatable, Sendable {
    /// The file has not changed since the last attempt (polling only).
    case unchanged
    /// A new model is now being served.
    case reloaded(from: String, to: String)
    /// The file was read and is valid, but it is the model already served.
    case sameModel(String)
    /// The file is missing or invalid; the old model keeps serving.
    case failed(String)
}

/// Holds the model being served and swaps it atomically.
///
/// Readers (`current`) take a lock only long enough to copy one reference. A reload reads, decodes,
/// validates and compiles the new file completely *outside* that lock, and only then swaps the
/// reference, so a request sees either the old model or the new one, never a part. Reloads are
/// serialised by a second lock, so a SIGHUP and a poll tick arriving together load the file once
/// each, one after the other.
public final class ModelStore: @unchecked Sendable {
    public let path: String
    public let unknownLevels: UnknownLevelPolicy?
    private let log: @Sendable (String) -> Void

    private let currentLock = NSLock()
    private var _current: LoadedModel

    /// Models without a checksum are loaded (`serve --allow-unsigned`).
    let allowUnsigned: Bool
    private let reloadLock = NSLock()
    /// The file version last looked at (loaded, or found invalid): polling acts on changes only, and
    /// logs an invalid file once, not every tick.
    private var lastSeen: FileSignature?
    /// When the last successful load happened.
    private var _loadedAt: Date

    /// Loads the model at `path`; throws (a `Diagnostic`) if it is missing or invalid, since a service
    /// must not start without a model.
    public init(path: String, unknownLevels: UnknownLevelPolicy? = nil, allowUnsigned: Bool = false,
                log: @escaping @Sendable (String) -> Void = ModelStore.standardErrorLog) throws {
        self.path = path
        self.unknownLevels = unknownLevels
        self.allowUnsigned = allowUnsigned
        self.log = log
        let signature = FileSignature.of(path: path)
        self._current = try LoadedModel.load(path: path, unknownLevels: unknownLevels, allowUnsigned: allowUnsigned)
        self.lastSeen = signature
        self._loadedAt = Date()
    }

    /// The model to use for one request.
    public var current: LoadedModel {
        currentLock.lock()
        defer { currentLock.unlock() }
        return _current
    }

    public var loadedAt: Date {
        currentLock.lock()
        defer { currentLock.unlock() }
        return _loadedAt
    }

    /// Reloads when the file's identity, size or modification time changed since the last look.
    @discardableResult
    public func reloadIfChanged() -> ReloadOutcome {
        reload(force: false)
    }

    /// Loads the file whether or not it looks changed (SIGHUP).
    @discardableResult
    public func reloadNow() -> ReloadOutcome {
        reload(force: true)
    }

    private func reload(force: Bool) -> ReloadOutcome {
        reloadLock.lock()
        defer { reloadLock.unlock() }
        let before = FileSignature.of(path: path)
        if !force && before == lastSeen { return .unchanged }
        let old = current
        let outcome: ReloadOutcome
        do {
            let fresh = try LoadedModel.load(path: path, unknownLevels: unknownLevels, allowUnsigned: allowUnsigned)
            if fresh.checksum == old.checksum {
                outcome = .sameModel(old.checksum)
                if force { log("healthscore serve: reloaded \(path): same model \(old.checksum), nothing to swap") }
            } else {
                currentLock.lock()
                _current = fresh
                _loadedAt = Date()
                currentLock.unlock()
                outcome = .reloaded(from: old.checksum, to: fresh.checksum)
                log("healthscore serve: reloaded \(path): now serving \(fresh.checksum) (created \(fresh.artifact.createdAt)), was \(old.checksum)")
            }
        } catch {
            let message = "\(error)".replacingOccurrences(of: "\n", with: " ")
            outcome = .failed(message)
            log("healthscore serve: reload of \(path) failed, still serving \(old.checksum): \(message)")
        }
        // Remember this version only if it did not change while we read it (a writer that is not
        // atomic may still be writing): otherwise the next poll looks again.
        if FileSignature.of(path: path) == before {
            lastSeen = before
        } else {
            lastSeen = nil
        }
        return outcome
    }

    public static let standardErrorLog: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Watches the model file: a poll timer and, optionally, SIGHUP. Both run on one serial queue, so
/// reloads never overlap and request threads never do file I/O.
public final class ModelReloader: @unchecked Sendable {
    private let store: ModelStore
    private let queue = DispatchQueue(label: "healthscore.serve.reload")
    private var timer: DispatchSourceTimer?
    private var signalSource: DispatchSourceSignal?

    public init(store: ModelStore) { self.store = store }

    /// `pollInterval`: seconds between looks at the file (nil or ≤ 0: no polling). `onSIGHUP`:
    /// reload on SIGHUP (and stop SIGHUP from ending the process).
    public func start(pollInterval: Double?, onSIGHUP: Bool) {
        queue.sync {
            if let interval = pollInterval, interval > 0, timer == nil {
                let t = DispatchSource.makeTimerSource(queue: queue)
                let nanos = Int(min(interval, 86_400) * 1e9)
                t.schedule(deadline: .now() + .nanoseconds(nanos), repeating: .nanoseconds(nanos), leeway: .milliseconds(50))
                t.setEventHandler { [store] in store.reloadIfChanged() }
                t.resume()
                timer = t
            }
            if onSIGHUP, signalSource == nil {
                signal(SIGHUP, SIG_IGN)
                let s = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
                s.setEventHandler { [store] in store.reloadNow() }
                s.resume()
                signalSource = s
            }
        }
    }

    public func stop() {
        queue.sync {
            timer?.cancel()
            timer = nil
            signalSource?.cancel()
            signalSource = nil
        }
    }
}
