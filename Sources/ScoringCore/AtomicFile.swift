import Foundation

/// Writes a file so that readers see either the old version or the complete new one, never a part:
/// a temporary file in the same directory, fsync, then rename over the target. A target that exists
/// and is not a regular file (/dev/null, /dev/stdout, a pipe) is written in place: renaming over a
/// device would replace it with a plain file.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG && (info.st_mode & S_IFMT) != S_IFDIR {
            return try writeInPlace(data, to: path)
        }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let temp = (dir as NSString).appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw AtomicFileError(path: path, code: errno) }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        var failure: Int32? = writeAll(data, to: fd) ? nil : errno
        if failure == nil && fsync(fd) != 0 { failure = errno }
        if let failure {
            close(fd)
            throw AtomicFileError(path: path, code: failure)
        }
        close(fd)
        guard rename(temp, path) == 0 else { throw AtomicFileError(path: path, code: errno) }
        ok = true
        syncDirectory(dir)
    }

    /// Makes a rename durable: after a power cut the directory entry could otherwise still name the
    /// old file. Best effort: some file systems refuse fsync on a directory.
    public static func syncDirectory(_ directory: String) {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func writeAll(_ data: Data, to fd: Int32) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    private static func writeInPlace(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { throw AtomicFileError(path: path, code: errno) }
        defer { close(fd) }
        guard writeAll(data, to: fd) else { throw AtomicFileError(path: path, code: errno) }
    }
}

public struct AtomicFileError: Error, CustomStringConvertible {
    public var path: String
    /// The errno of the failing call.
    public var code: Int32
    public var reason: String { String(cString: strerror(code)) }

    public var description: String {
        let fix: String
        switch code {
        case ENOSPC, EDQUOT: fix = "free disk space (or lift the quota) on that file system, or write elsewhere"
        case EFBIG: fix = "raise the file-size limit (ulimit -f) or write elsewhere"
        case EACCES, EPERM, EROFS: fix = "choose a directory you may write to"
        case ENOENT, ENOTDIR: fix = "create the directory first, or correct the path"
        default: fix = "check the directory exists, is writable and has free space"
        }
        return "\(path): cannot write (\(reason)); nothing was written. Fix: \(fix)"
    }
}
