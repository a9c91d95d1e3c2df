import ArgumentParser
import Foundation
import Support

/// Every write to standard output goes through stdio's buffer (`print` and `write` here), and the
/// command ends with `finish`: a full disk (`> /dev/full`), a closed descriptor or a failed pipe is
/// then one line on standard error and exit 1, never a trap or a silently short file. A reader that
/// stopped early (`| head`) ends the command quietly, as `head` users expect.
public enum StandardOutput {
    /// SIGPIPE would kill the process mid-write; ignored, the write fails with EPIPE instead.
    public static func install() { signal(SIGPIPE, SIG_IGN) }

    public static func write(_ data: Data) {
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            if fwrite(base, 1, raw.count, stdout) < raw.count { failed(errno) }
        }
    }

    public static func write(_ text: String) { write(Data(text.utf8)) }

    /// Flushes standard output and exits 1 with a message if anything written to it was lost.
    public static func finish() {
        if fflush(stdout) != 0 || ferror(stdout) != 0 { failed(errno) }
    }

    /// Writes and flushes, throwing instead of exiting: for output that must be out before a
    /// transaction commits, so a lost write rolls the transaction back.
    public static func writeOrThrow(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            if fwrite(base, 1, raw.count, stdout) < raw.count { throw failure(errno, committing: true) }
        }
        if fflush(stdout) != 0 || ferror(stdout) != 0 { throw failure(errno, committing: true) }
    }

    private static func failed(_ code: Int32) -> Never {
        if code == EPIPE { Foundation.exit(1) }
        printError("healthscore: error: \(failure(code, committing: false))")
        Foundation.exit(1)
    }

    private static func failure(_ code: Int32, committing: Bool) -> Diagnostic {
        let fix: String
        switch code {
        case EPIPE: fix = "the program reading standard output stopped early; let it read everything, or write to a file with --out"
        case ENOSPC, EDQUOT: fix = "free disk space where standard output goes, or write to a file with --out"
        case EBADF: fix = "standard output is closed; redirect it to a file (> FILE) or use --out"
        default: fix = "check where standard output is redirected, or use --out"
        }
        let outcome = committing ? "nothing was recorded" : "the output is incomplete"
        return Diagnostic(.output, problem: "writing standard output failed (\(String(cString: strerror(code)))); \(outcome)", fix: fix)
    }
}

/// Prints a one-line error to stderr and exits non-zero; the message already names file, row,
/// column and the fix.
func fail(_ error: Error) -> Never {
    var message = "\(error)"
    if let e = error as? LocalizedError, let d = e.errorDescription { message = d }
    printError("healthscore: error: " + message.replacingOccurrences(of: "\n", with: " "))
    Foundation.exit(1)
}

/// Standard error through stdio: a closed stderr loses the line instead of trapping.
public func printError(_ s: String) {
    fputs(s + "\n", stderr)
}

extension ParsableCommand {
    /// Parses and runs like ArgumentParser's own main, but usage errors are one line with the fix,
    /// like every other error of the tool; standard output is checked and the deferred warnings
    /// printed once the command has succeeded.
    public static func runAsTool(helpHint: String) {
        // Past a file-size limit (ulimit -f) the kernel would kill us with SIGXFSZ, leaving a partial
        // temporary file; ignored, the write fails with EFBIG and the error path removes it.
        signal(SIGXFSZ, SIG_IGN)
        StandardOutput.install()
        do {
            var command = try parseAsRoot()
            do {
                try command.run()
            } catch let code as ExitCode {
                // A command that has said what it had to (or, on an MPI rank, leaves another rank's
                // error to that rank).
                if code == .success { StandardOutput.finish() }
                Foundation.exit(code.rawValue)
            } catch let error where !(error is ValidationError) && exitCode(for: error) != .success {
                // The command's own failure (help and version requests end in success, and a
                // ValidationError is a usage error): one line naming the input and the fix.
                fail(error)
            }
            StandardOutput.finish()
            AfterSuccess.flush()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                StandardOutput.finish()
                Foundation.exit(0)
            }
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            printError("healthscore: error: \(message). Fix: see \(helpHint)")
            Foundation.exit(code.rawValue)
        }
    }
}

/// How glibc keeps freed memory, for the commands that read a file piece by piece (`score`,
/// `evaluate`): each piece allocates and frees the same large column and score arrays on two threads.
/// - Trim: glibc keeps up to a dynamic, growing threshold of freed memory for reuse, so resident
///   memory crept up with the file's length (+14% from 1M to 10M rows). A fixed 4 MB trim threshold
///   hands the rest back: measured 91 MB for 1M rows and 96 MB for 10M.
/// - Mapping: fixing the trim threshold also fixes glibc's mmap threshold at 128 KB, so every larger
///   block came from a fresh mapping and faulted its pages in again, piece after piece — a third of
///   `score`'s time was in the kernel. Blocks up to 32 MB (glibc's largest allowed threshold) now
///   come from the heap and are reused: 1M × 50 scored in 1.0–1.1 s instead of 1.25 s.
/// Not for `fit`, whose phases free large arrays for good (kept in the heap, its peak grew 150 MB).
public func returnFreedMemoryPromptly() {
    #if os(Linux)
    _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD in <malloc.h> */, 4 << 20)
    _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 32 << 20)
    #endif
}

#if os(Linux)
/// glibc's `int mallopt(int, int)`; <malloc.h> is not part of the Glibc module.
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
