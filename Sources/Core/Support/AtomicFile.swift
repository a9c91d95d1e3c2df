import Foundation

/// Writes a file so that readers see either the old version or the complete new one, never a part:
/// a temporary file in the same directory, fsync, then rename over the target. A target that exists
/// and is not a regular file (/dev/null, /dev/stdout, a pipe) is written in place: renaming over a
/// device would replace it with a plain file. A symbolic link is followed, so its target is
/// rewritten and the link stays; a rewritten file keeps its permission bits.
///
/// Temporary files are named `.NAME.tmp-PID-RANDOM`. One left behind by a killed run is removed by
/// the next write of the same target, once its process has ended (or the PID now belongs to a
/// process started after the file was written).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let prepared = try prepare(data, to: path)
        try prepared.install().keep()
    }

    /// The new content, written and synced beside the target but not yet in its place: a caller that
    /// must commit something else with it (a score history) installs it inside that transaction.
    public static func prepare(_ data: Data, to path: String) throws -> PreparedFile {
        let stream = try Stream(path: path)
        try data.withUnsafeBytes { try stream.write($0) }
        return try stream.finish()
    }

    /// A new version written piece by piece (a million scored rows need not sit in memory), then
    /// finished into a `PreparedFile` or abandoned, leaving the target untouched either way until
    /// `install`.
    public final class Stream {
        let path: String
        let target: String
        let temp: String?
        private var fd: Int32
        private let existingMode: mode_t?

        public init(path: String) throws {
            self.path = path
            var info = stat()
            if stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG && (info.st_mode & S_IFMT) != S_IFDIR {
                // Devices and pipes are written in place, as the bytes come.
                target = path; temp = nil; existingMode = nil
                fd = open(path, O_WRONLY)
                guard fd >= 0 else { throw Diagnostic.cannotWrite(path, errno: errno) }
                return
            }
            target = resolvedTarget(path)
            let url = URL(fileURLWithPath: target)
            let dir = url.deletingLastPathComponent().path
            sweepStaleTemporaries(of: url.lastPathComponent, in: dir)
            let temp = (dir as NSString).appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            self.temp = temp
            // An existing target's permission bits carry over (a 0600 model stays 0600); else 0644 under the umask.
            existingMode = stat(target, &info) == 0 ? info.st_mode & 0o7777 : nil
            fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, existingMode ?? 0o644)
            guard fd >= 0 else { throw Diagnostic.cannotWrite(path, errno: errno) }
        }

        deinit { if fd >= 0 { abandon() } }

        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard bytes.count > 0 else { return }
            guard AtomicFile.writeAll(bytes, to: fd) else { throw failed(errno) }
        }

        public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

        /// Synced and closed, ready to install.
        public func finish() throws -> PreparedFile {
            if temp == nil {
                close(fd); fd = -1
                return PreparedFile(target: target, temp: nil, inPlace: nil)
            }
            var failure: Int32? = nil
            if let existingMode, fchmod(fd, existingMode) != 0 { failure = errno }
            if failure == nil && fsync(fd) != 0 { failure = errno }
            if let failure { throw failed(failure) }
            close(fd); fd = -1
            return PreparedFile(target: target, temp: temp, inPlace: nil)
        }

        /// Drops what was written; the target is untouched (a device already got its bytes).
        public func abandon() {
            guard fd >= 0 else { return }
            close(fd); fd = -1
            if let temp { unlink(temp) }
        }

        private func failed(_ code: Int32) -> Diagnostic {
            abandon()
            return Diagnostic.cannotWrite(path, errno: code)
        }
    }

    /// Where a write to `path` lands: through symbolic links (a link to a missing file is resolved
    /// to that file's path), so the link itself is kept.
    static func resolvedTarget(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK,
                  let link = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return current }
            current = link.hasPrefix("/") ? link : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(link)
        }
        return current
    }

    /// Removes `.NAME.tmp-PID-*` files whose process is gone, or whose PID was reused by a process
    /// started after the file was last written. Only this target's temporaries are touched.
    static func sweepStaleTemporaries(of name: String, in dir: String) {
        let prefix = ".\(name).tmp-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count).split(separator: "-", maxSplits: 1)
            guard rest.count == 2, let pid = Int32(rest[0]), pid > 0, UInt32(rest[1]) != nil, pid != getpid() else { continue }
            let file = (dir as NSString).appendingPathComponent(entry)
            var fileInfo = stat(), processInfo = stat()
            guard lstat(file, &fileInfo) == 0, fileInfo.st_mode & S_IFMT == S_IFREG else { continue }
            let alive = kill(pid, 0) == 0 || errno == EPERM
            // /proc/PID's own times are set when the process starts.
            let startedAfter = stat("/proc/\(pid)", &processInfo) == 0 && processInfo.st_ctim.tv_sec > fileInfo.st_mtim.tv_sec
            if !alive || startedAfter { unlink(file) }
        }
    }

    /// Refuses, before any work, an output path that is one of the command's inputs or another of
    /// its outputs (after symbolic links and hard links): `fit d.csv --out d.csv` would replace the
    /// training data with the model.
    public static func checkOutputs(_ outputs: [(flag: String, path: String?)], inputs: [(what: String, path: String?)]) throws {
        func identity(_ path: String) -> (dev_t, ino_t)? {
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            return (info.st_dev, info.st_ino)
        }
        var seen: [(name: String, id: (dev_t, ino_t), path: String)] = []
        for input in inputs {
            guard let path = input.path, let id = identity(path) else { continue }
            seen.append((input.what, id, path))
        }
        for output in outputs {
            guard let path = output.path else { continue }
            let key = identity(path) ?? identity(resolvedTarget(path))
            let clash = seen.first { s in key.map { $0 == s.id } ?? false }
                ?? seen.first { standardised($0.path) == standardised(resolvedTarget(path)) }
            if let clash {
                throw Diagnostic.outputClash(flag: output.flag, path: path, other: clash.name, otherPath: clash.path)
            }
            seen.append((output.flag, key ?? (0, 0), resolvedTarget(path)))
        }
    }

    private static func standardised(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Makes a rename durable: after a power cut the directory entry could otherwise still name the
    /// old file. Best effort: some file systems refuse fsync on a directory.
    public static func syncDirectory(_ directory: String) {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func writeAll(_ data: Data, to fd: Int32) -> Bool {
        data.withUnsafeBytes { writeAll($0, to: fd) }
    }

    static func writeAll(_ raw: UnsafeRawBufferPointer, to fd: Int32) -> Bool {
        do {
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    static func writeInPlace(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { throw Diagnostic.cannotWrite(path, errno: errno) }
        defer { close(fd) }
        guard writeAll(data, to: fd) else { throw Diagnostic.cannotWrite(path, errno: errno) }
    }
}

/// New content synced beside its target, waiting for `install`.
public struct PreparedFile {
    public let target: String
    let temp: String?
    /// For devices and pipes, written at install time.
    let inPlace: Data?

    /// Puts the new content in place. The old file stays reachable (a hard link) until `keep` or
    /// `undo` on the result, so a transaction that fails after this can put it back.
    public func install() throws -> InstalledFile {
        guard let temp else {
            try AtomicFile.writeInPlace(inPlace ?? Data(), to: target)
            return InstalledFile(target: target, backup: nil, replaced: true)
        }
        // Named like a temporary, so a run killed before `keep` leaves nothing the next write keeps.
        let name = (target as NSString).lastPathComponent
        var backup: String? = ((target as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent(".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        if link(target, backup!) != 0 { backup = nil }
        var info = stat()
        let existed = stat(target, &info) == 0
        guard rename(temp, target) == 0 else {
            let code = errno
            unlink(temp)
            if let backup { unlink(backup) }
            throw Diagnostic.cannotWrite(target, errno: code)
        }
        AtomicFile.syncDirectory((target as NSString).deletingLastPathComponent)
        return InstalledFile(target: target, backup: backup, replaced: existed)
    }

    /// Drops the new content; the target is untouched.
    public func discard() { if let temp { unlink(temp) } }
}

/// New content in place, with the old one kept aside until the caller decides.
public struct InstalledFile {
    public let target: String
    let backup: String?
    let replaced: Bool

    /// The new content stays; the old one goes.
    public func keep() { if let backup { unlink(backup) } }

    /// Puts the old content back (or removes a file that did not exist before).
    public func undo() {
        if let backup {
            rename(backup, target)
        } else if !replaced {
            unlink(target)
        }
        AtomicFile.syncDirectory((target as NSString).deletingLastPathComponent)
    }
}

extension Diagnostic {
    /// A write that failed with `errno` `code`; the fix depends on why.
    public static func cannotWrite(_ path: String, errno code: Int32) -> Diagnostic {
        let fix: String
        switch code {
        case ENOSPC, EDQUOT: fix = "free disk space (or lift the quota) on that file system, or write elsewhere"
        case EFBIG: fix = "raise the file-size limit (ulimit -f) or write elsewhere"
        case EACCES, EPERM, EROFS: fix = "choose a directory you may write to"
        case ENOENT, ENOTDIR: fix = "create the directory first, or correct the path"
        default: fix = "check the directory exists, is writable and has free space"
        }
        return Diagnostic(.output, file: path, problem: "cannot write (\(String(cString: strerror(code)))); nothing was written", fix: fix)
    }

    /// An output that would overwrite an input (or another output) of the same command.
    static func outputClash(flag: String, path: String, other: String, otherPath: String) -> Diagnostic {
        let same = path == otherPath ? "" : " ('\(otherPath)')"
        return Diagnostic(.output, file: path, problem: "\(flag) names the same file as \(other)\(same); writing it would destroy that file, so nothing was done",
                          fix: "choose another path for \(flag)")
    }
}
