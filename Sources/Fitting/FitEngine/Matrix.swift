/// A dense column-major matrix of doubles, the layout BLAS and LAPACK expect.
///
/// Column-major storage lets a design matrix be built once, column by column, and handed to
/// `dgemv`/`dsyrk` without copies.
public struct Matrix: Sendable {
    public let rows: Int
    public private(set) var cols: Int
    public var storage: [Double]

    public init(rows: Int, cols: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && cols >= 0)
        self.rows = rows
        self.cols = cols
        self.storage = Array(repeating: value, count: rows * cols)
    }

    /// Wraps existing column-major storage.
    public init(rows: Int, cols: Int, columnMajor storage: [Double]) {
        precondition(storage.count == rows * cols, "storage size does not match \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    @inlinable
    public subscript(row: Int, col: Int) -> Double {
        get { storage[col * rows + row] }
        set { storage[col * rows + row] = newValue }
    }

    public func column(_ j: Int) -> ArraySlice<Double> {
        storage[(j * rows)..<((j + 1) * rows)]
    }

    /// Swaps two columns in place (used to move aliased columns behind the active ones).
    public mutating func swapColumns(_ a: Int, _ b: Int) {
        guard a != b else { return }
        let n = rows
        storage.withUnsafeMutableBufferPointer { s in
            for i in 0..<n { s.swapAt(a * n + i, b * n + i) }
        }
    }

    /// Drops the trailing columns from `count` on, keeping storage contiguous.
    public mutating func truncateColumns(to count: Int) {
        precondition(count <= cols)
        storage.removeLast((cols - count) * rows)
        cols = count
    }
}

/// A symmetric p×p matrix stored full (both triangles valid after `symmetrize`).
public struct SymmetricMatrix: Sendable {
    public let order: Int
    public var storage: [Double]

    public init(order: Int) {
        self.order = order
        self.storage = Array(repeating: 0, count: order * order)
    }

    @inlinable
    public subscript(i: Int, j: Int) -> Double {
        get { storage[j * order + i] }
        set { storage[j * order + i] = newValue }
    }

    /// Copies the lower triangle into the upper one (BLAS `dsyrk` fills only one).
    public mutating func symmetrizeFromLower() {
        let p = order
        storage.withUnsafeMutableBufferPointer { s in
            for j in 0..<p { for i in (j + 1)..<p { s[i * p + j] = s[j * p + i] } }
        }
    }

    /// The principal submatrix on `indices` (in the order given).
    public func submatrix(_ indices: [Int]) -> SymmetricMatrix {
        var out = SymmetricMatrix(order: indices.count)
        for (b, j) in indices.enumerated() {
            for (a, i) in indices.enumerated() { out[a, b] = self[i, j] }
        }
        return out
    }
}
