import CCrypto
import Foundation
import Support

/// SHA-256 of a data file through OpenSSL, which uses the CPU's SHA instructions: the training file is
/// fingerprinted on every fit, and at hundreds of megabytes a portable implementation costs seconds.
/// (The scoring core keeps its own pure-Swift SHA-256 for small artifacts.)
public enum FileDigest {
    public static func sha256Hex(path: String) throws -> String {
        try sha256Hex(path: path, isCancelled: { false })
    }

    /// `isCancelled` is asked between blocks; when it says yes the digest stops with `CancellationError`.
    static func sha256Hex(path: String, isCancelled: () -> Bool) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw Diagnostic(.data, file: path, problem: "cannot open the file (\(String(cString: strerror(errno))))",
                            fix: "check the path and permissions")
        }
        defer { close(fd) }
        guard let ctx = EVP_MD_CTX_new() else { throw failure(path) }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else { throw failure(path) }
        // Small enough to stay in L2 between the kernel's copy and the digest.
        let chunk = 256 << 10
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            if isCancelled() { throw CancellationError() }
            let n = read(fd, buffer, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw Diagnostic(.data, file: path, problem: "read failed (\(String(cString: strerror(errno))))", fix: "check the file")
            }
            if n == 0 { break }
            guard EVP_DigestUpdate(ctx, buffer, n) == 1 else { throw failure(path) }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(ctx, &digest, &length) == 1, length == 32 else { throw failure(path) }
        return digest.prefix(32).map { String(format: "%02x", $0) }.joined()
    }

    /// Starts the digest on a thread of its own and returns at once: the fit reads the file through
    /// a mapping and needs the fingerprint only for the artifact, so hashing runs beside ingest,
    /// design and fit instead of after them. The thread runs at a lower priority (nice +10), so it
    /// takes the cores when parsing and the fit leave them idle rather than slowing those down.
    public static func start(path: String) -> PendingDigest {
        let pending = PendingDigest()
        let thread = Thread {
            // who = 0: on Linux the nice value is per thread, so this lowers only the digest thread.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            let result: Result<String, Error> = Result { try sha256Hex(path: path, isCancelled: { pending.isCancelled }) }
            pending.finish(result)
        }
        thread.name = "sha256"
        thread.start()
        return pending
    }

    private static func failure(_ path: String) -> Diagnostic {
        Diagnostic(.data, file: path, problem: "SHA-256 could not be computed (OpenSSL error)", fix: "check the OpenSSL installation")
    }
}

/// A digest being computed on another thread (`FileDigest.start`).
public final class PendingDigest: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: Result<String, Error>?
    private var cancelled = false

    fileprivate var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// Stops the digest and waits for its thread to leave OpenSSL: a process that exits on an
    /// error while the thread still hashes can crash in OpenSSL's exit-time cleanup.
    public func cancel() {
        lock.lock(); cancelled = true; lock.unlock()
        _ = try? wait()
    }

    fileprivate func finish(_ result: Result<String, Error>) {
        lock.lock(); self.result = result; lock.unlock()
        done.signal()
    }

    /// Waits for the digest (hex) and returns it, or throws what reading the file threw.
    public func wait() throws -> String {
        lock.lock()
        if let result { lock.unlock(); return try result.get() }
        lock.unlock()
        done.wait()
        lock.lock(); defer { lock.unlock() }
        // Signalled once; the value stays for any later call.
        return try result!.get()
    }
}
