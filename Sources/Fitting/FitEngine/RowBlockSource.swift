/// A block of design rows as the solver reads it: column-major `rows × cols` with leading
/// dimension `stride`, its 0/1 outcomes and optional prior weights.
public struct DesignBlock {
    public var x: UnsafePointer<Double>
    public var stride: Int
    public var rows: Int
    public var y: UnsafePointer<Double>
    public var weights: UnsafePointer<Double>?

    public init(x: UnsafePointer<Double>, stride: Int, rows: Int, y: UnsafePointer<Double>, weights: UnsafePointer<Double>?) {
        self.x = x
        self.stride = stride
        self.rows = rows
        self.y = y
        self.weights = weights
    }
}

/// Rows the Newton solver visits pass by pass instead of holding them: chunks of a file read again
/// for every pass (`--streaming`), or this process's shard of a distributed fit (`--distributed`).
///
/// The solver keeps no per-row state between passes, so memory is bounded by one block per worker.
public protocol RowBlockSource {
    /// Design columns, the intercept (all ones) first.
    var columnCount: Int { get }
    /// How many workers may call the body of `forEachBlock` at once.
    var concurrency: Int { get }
    /// Calls `body(worker, block)` once for every block of this process's rows, `worker` in
    /// `0..<concurrency` (one worker never runs two blocks at once). Every pass visits the same rows.
    func forEachBlock(_ body: (_ worker: Int, _ block: DesignBlock) throws -> Void) throws
    /// Element-wise sum over all processes of a distributed fit; nothing to do in one process.
    func sumAcrossProcesses(_ values: inout [Double]) throws
}
