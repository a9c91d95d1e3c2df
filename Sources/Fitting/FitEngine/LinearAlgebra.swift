import Foundation
import CLapack

// The one file that speaks to BLAS/LAPACK: Int32 sizes, column-major, uplo as CChar.
// Everything above it works with Int, Matrix and SymmetricMatrix.

enum BLAS {
    /// y[r0..<r1] = A[r0..<r1, 0..<k] · x   (rows of a column-major matrix with leading dimension lda)
    static func gemvRows(_ a: UnsafePointer<Double>, lda: Int, rowStart: Int, rowCount: Int, cols: Int,
                         x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        guard rowCount > 0 else { return }
        guard cols > 0 else { y.update(repeating: 0, count: rowCount); return }
        cblas_dgemv(CblasColMajor, CblasNoTrans, Int32(rowCount), Int32(cols), 1.0,
                    a + rowStart, Int32(lda), x, 1, 0.0, y, 1)
    }

    /// out[0..<k] = A[r0..<r1, 0..<k]ᵀ · v[r0..<r1]
    static func gemvTransposedRows(_ a: UnsafePointer<Double>, lda: Int, rowStart: Int, rowCount: Int, cols: Int,
                                   v: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>) {
        guard cols > 0 else { return }
        guard rowCount > 0 else { out.update(repeating: 0, count: cols); return }
        cblas_dgemv(CblasColMajor, CblasTrans, Int32(rowCount), Int32(cols), 1.0,
                    a + rowStart, Int32(lda), v + rowStart, 1, 0.0, out, 1)
    }

    /// C(lower) += Bᵀ B for a rows×k column-major block B.
    static func syrkAccumulate(_ b: UnsafePointer<Double>, rows: Int, cols: Int, ldb: Int, alpha: Double = 1,
                               into c: UnsafeMutablePointer<Double>) {
        guard rows > 0, cols > 0 else { return }
        cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, Int32(cols), Int32(rows), alpha,
                    b, Int32(ldb), 1.0, c, Int32(cols))
    }

    static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    static var threads: Int { Int(openblas_get_num_threads()) }
    static var coreName: String { String(cString: openblas_get_corename()) }
}

/// Facts about the linked OpenBLAS, for benchmark and `--timings` output.
public enum BLASInfo {
    public static var coreName: String { BLAS.coreName }
    public static var threads: Int { BLAS.threads }

    /// OpenBLAS picks its kernels from the CPU's model number; a virtual CPU that reports a generic
    /// one ("Intel(R) Xeon(R) Processor") is taken for a Prescott and gets SSE3 kernels — several
    /// times slower, and rounding sums differently from the kernel its instructions allow. That
    /// kernel (for `OPENBLAS_CORETYPE`, read when the library loads), when OpenBLAS chose a generic one.
    public static var betterCoreType: String? {
        guard ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom"].contains(coreName),
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }
}

enum LAPACK {
    static let lower = CChar(UInt8(ascii: "L"))

    /// In-place Cholesky A = L Lᵀ (lower). Returns 0 on success or the 1-based order of the failing minor.
    static func potrf(_ a: inout SymmetricMatrix) -> Int {
        let n = a.order
        guard n > 0 else { return 0 }
        return Int(a.storage.withUnsafeMutableBufferPointer {
            LAPACKE_dpotrf(LAPACK_COL_MAJOR, lower, Int32(n), $0.baseAddress, Int32(n))
        })
    }

    /// Solves (L Lᵀ) x = b in place given the factor from `potrf`.
    static func potrs(_ factor: SymmetricMatrix, _ b: inout [Double]) {
        let n = factor.order
        guard n > 0 else { return }
        factor.storage.withUnsafeBufferPointer { f in
            b.withUnsafeMutableBufferPointer { x in
                _ = LAPACKE_dpotrs(LAPACK_COL_MAJOR, lower, Int32(n), 1, f.baseAddress, Int32(n),
                                   x.baseAddress, Int32(n))
            }
        }
    }

    /// Inverse of A from its Cholesky factor; returns the full symmetric inverse.
    static func potri(_ factor: SymmetricMatrix) -> SymmetricMatrix? {
        var inv = factor
        let n = inv.order
        guard n > 0 else { return inv }
        let info = inv.storage.withUnsafeMutableBufferPointer {
            LAPACKE_dpotri(LAPACK_COL_MAJOR, lower, Int32(n), $0.baseAddress, Int32(n))
        }
        guard info == 0 else { return nil }
        inv.symmetrizeFromLower()
        return inv
    }

    /// Eigen-decomposition of a symmetric matrix: ascending eigenvalues, eigenvectors as columns.
    static func syevd(_ a: SymmetricMatrix) -> (values: [Double], vectors: SymmetricMatrix)? {
        var v = a
        let n = v.order
        var w = [Double](repeating: 0, count: n)
        guard n > 0 else { return (w, v) }
        let info = v.storage.withUnsafeMutableBufferPointer { s in
            w.withUnsafeMutableBufferPointer { wp in
                LAPACKE_dsyevd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), lower, Int32(n),
                               s.baseAddress, Int32(n), wp.baseAddress)
            }
        }
        return info == 0 ? (w, v) : nil
    }
}

extension BLAS {
    /// B ← B·L⁻ᵀ for an m×k column-major block B and the lower Cholesky factor L (k×k).
    static func solveRightLowerTransposed(_ factor: UnsafePointer<Double>, order k: Int,
                                          _ b: UnsafeMutablePointer<Double>, rows m: Int) {
        guard m > 0, k > 0 else { return }
        cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, Int32(m), Int32(k), 1.0,
                    factor, Int32(k), b, Int32(m))
    }
}

extension BLAS {
    /// out[0..<k] += A[0..<m, 0..<k]ᵀ · v
    static func gemvTransposedAccumulate(_ a: UnsafePointer<Double>, lda: Int, rows m: Int, cols k: Int,
                                         v: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>) {
        guard m > 0, k > 0 else { return }
        cblas_dgemv(CblasColMajor, CblasTrans, Int32(m), Int32(k), 1.0, a, Int32(lda), v, 1, 1.0, out, 1)
    }
}
