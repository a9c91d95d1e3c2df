import FitEngine
import Foundation
import Tabular

/// Design rows read from CSV files again on every pass: each chunk is parsed, the frozen recipe
/// applied, and the chunk's rows handed to the solver as one block. Memory is one chunk of text,
/// its parsed columns and its design block, whatever the files' size.
///
/// Restricted to some shards (parts of files: records that start inside a byte range) and given a
/// cross-process sum, the same source is one process's share of a distributed fit.
public final class FileRowSource: RowBlockSource {
    /// The parts read, in file order.
    public let shards: [FileShard]
    public let csv: CSVOptions
    public let chunkBytes: Int
    public let recipe: DesignRecipe
    let sum: ((inout [Double]) throws -> Void)?
    /// Passes made over the file and how long each took, for `--timings`.
    public private(set) var passSeconds: [Double] = []
    private var x: [Double] = [], y: [Double] = [], w: [Double] = []

    /// `sumAcrossProcesses`: element-wise sum over the processes of a distributed fit (e.g.
    /// MPI_Allreduce); nil in one process.
    public init(shards: [FileShard], csv: CSVOptions, chunkBytes: Int, recipe: DesignRecipe,
                sumAcrossProcesses: ((inout [Double]) throws -> Void)? = nil) {
        self.shards = shards; self.csv = csv; self.chunkBytes = chunkBytes
        self.recipe = recipe; self.sum = sumAcrossProcesses
    }

    /// One file, or the records that start in `range` of it.
    public convenience init(path: String, csv: CSVOptions, chunkBytes: Int, range: Range<Int>? = nil, recipe: DesignRecipe,
                            sumAcrossProcesses: ((inout [Double]) throws -> Void)? = nil) {
        self.init(shards: [FileShard(file: 0, path: path, range: range)], csv: csv, chunkBytes: chunkBytes, recipe: recipe,
                  sumAcrossProcesses: sumAcrossProcesses)
    }

    public var columnCount: Int { recipe.termNames.count }
    public var concurrency: Int { 1 }

    public func forEachBlock(_ body: (_ worker: Int, _ block: DesignBlock) throws -> Void) throws {
        let started = Timings.now()
        let p = columnCount
        for shard in shards {
            try CSVReader.readChunks(path: shard.path, options: csv, chunkBytes: chunkBytes, range: shard.range) { piece, firstRecord in
                let capacity = piece.rowCount
                guard capacity > 0 else { return }
                if y.count < capacity {
                    // Grown, never shrunk: chunks of one size need one allocation for the whole fit.
                    x = [Double](repeating: 0, count: capacity * p)
                    y = [Double](repeating: 0, count: capacity)
                    w = recipe.hasWeights ? [Double](repeating: 0, count: capacity) : []
                }
                let stride = y.count
                try x.withUnsafeMutableBufferPointer { xb in
                    try y.withUnsafeMutableBufferPointer { yb in
                        try w.withUnsafeMutableBufferPointer { wb in
                            let rows = try recipe.apply(piece, recordOffset: firstRecord, x: xb.baseAddress!, stride: stride,
                                                        response: yb.baseAddress!, weights: recipe.hasWeights ? wb.baseAddress! : nil)
                            guard rows > 0 else { return }
                            try body(0, DesignBlock(x: xb.baseAddress!, stride: stride, rows: rows, y: yb.baseAddress!,
                                                    weights: recipe.hasWeights ? UnsafePointer(wb.baseAddress!) : nil))
                        }
                    }
                }
            }
        }
        passSeconds.append(Double(Timings.now() - started) / 1e9)
    }

    public func sumAcrossProcesses(_ values: inout [Double]) throws { try sum?(&values) }

    /// η = Xβ for every fitted row, in file order (one more pass; aliased terms count as 0).
    public func linearPredictors(_ beta: [Double]) throws -> [Double] {
        var eta: [Double] = []
        eta.reserveCapacity(recipe.rows)
        try forEachBlock { _, block in
            var part = [Double](repeating: beta[0], count: block.rows)
            for j in beta.indices.dropFirst() where beta[j] != 0 {
                let column = block.x + j * block.stride
                for i in 0..<block.rows { part[i] += beta[j] * column[i] }
            }
            eta.append(contentsOf: part)
        }
        return eta
    }
}
