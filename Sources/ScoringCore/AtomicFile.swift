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
        guard fd >= 0 else { throw AtomicFileError(path: path, reason: String(cString: strerror(errno))) }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        let written = writeAll(data, to: fd)
        let writeErrno = errno
        guard written, fsync(fd) == 0 else {
            close(fd)
            throw AtomicFileError(path: path, reason: String(cString: strerror(writeErrno)))
        }
        close(fd)
        guard rename(temp, path) == 0 else { throw AtomicFileError(path: path, reason: String(cString: strerror(errno))) }
        ok = true
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
        guard fd >= 0 else { throw AtomicFileError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard writeAll(data, to: fd) else { throw AtomicFileError(path: path, reason: String(cString: strerror(errno))) }
    }
}

public struct AtomicFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String {
        "\(path): cannot write (\(reason)). Fix: check the directory exists, is writable and has free space"
    }
}
