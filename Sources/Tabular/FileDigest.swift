import CCrypto
import Foundation

/// SHA-256 of a data file through OpenSSL, which uses the CPU's SHA instructions: the training file is
/// fingerprinted on every fit, and at hundreds of megabytes a portable implementation costs seconds.
/// (The scoring core keeps its own pure-Swift SHA-256 for small artifacts.)
public enum FileDigest {
    public static func sha256Hex(path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw DataError(file: path, problem: "cannot open the file (\(String(cString: strerror(errno))))",
                            fix: "check the path and permissions")
        }
        defer { close(fd) }
        guard let ctx = EVP_MD_CTX_new() else { throw failure(path) }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else { throw failure(path) }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError(file: path, problem: "read failed (\(String(cString: strerror(errno))))", fix: "check the file")
            }
            if n == 0 { break }
            guard EVP_DigestUpdate(ctx, buffer, n) == 1 else { throw failure(path) }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(ctx, &digest, &length) == 1, length == 32 else { throw failure(path) }
        return digest.prefix(32).map { String(format: "%02x", $0) }.joined()
    }

    private static func failure(_ path: String) -> DataError {
        DataError(file: path, problem: "SHA-256 could not be computed (OpenSSL error)", fix: "check the OpenSSL installation")
    }
}
