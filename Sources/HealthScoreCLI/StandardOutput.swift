import Foundation

/// Every write to standard output goes through stdio's buffer (`print` and `write` here), and the
/// command ends with `finish`: a full disk (`> /dev/full`), a closed descriptor or a failed pipe is
/// then one line on standard error and exit 1, never a trap or a silently short file. A reader that
/// stopped early (`| head`) ends the command quietly, as `head` users expect.
enum StandardOutput {
    /// SIGPIPE would kill the process mid-write; ignored, the write fails with EPIPE instead.
    static func install() { signal(SIGPIPE, SIG_IGN) }

    static func write(_ data: Data) {
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            if fwrite(base, 1, raw.count, stdout) < raw.count { failed(errno) }
        }
    }

    static func write(_ text: String) { write(Data(text.utf8)) }

    /// Flushes standard output and exits 1 with a message if anything written to it was lost.
    static func finish() {
        if fflush(stdout) != 0 || ferror(stdout) != 0 { failed(errno) }
    }

    private static func failed(_ code: Int32) -> Never {
        if code == EPIPE { Foundation.exit(1) }
        let fix: String
        switch code {
        case ENOSPC, EDQUOT: fix = "free disk space where standard output goes, or write to a file with --out"
        case EBADF: fix = "standard output is closed; redirect it to a file (> FILE) or use --out"
        default: fix = "check where standard output is redirected, or use --out"
        }
        printError("healthscore: error: writing standard output failed (\(String(cString: strerror(code)))); the output is incomplete. Fix: \(fix)")
        Foundation.exit(1)
    }
}
