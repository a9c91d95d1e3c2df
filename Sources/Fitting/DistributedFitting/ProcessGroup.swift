import FitEngine
import Foundation
#if MPI
import CMPI
#endif

/// The processes of one job and the collective operations a distributed fit needs: element-wise
/// sums, maxima and minima of `[Double]`, an all-gather of byte strings (level sets, statistics)
/// and a broadcast.
///
/// Three kinds: `world()` (the ranks of an `mpirun` job), `single` (one process: every collective
/// returns its input) and `inProcess(ranks:)` (threads standing in for ranks, so the test suite
/// checks multi-rank results without MPI). Every rank must call the same collectives in the same
/// order with the same counts.
public final class ProcessGroup: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let backend: Backend

    enum Backend {
        case single, mpi
        case threads(Rendezvous)
    }

    private init(rank: Int, size: Int, backend: Backend) {
        self.rank = rank
        self.size = size
        self.backend = backend
    }

    /// One process.
    public static let single = ProcessGroup(rank: 0, size: 1, backend: .single)

    /// `ranks` groups that exchange through memory; run each on its own thread.
    public static func inProcess(ranks: Int) -> [ProcessGroup] {
        let meeting = Rendezvous(size: ranks)
        return (0..<ranks).map { ProcessGroup(rank: $0, size: ranks, backend: .threads(meeting)) }
    }

    /// True when this binary was built with the MPI trait.
    public static var isAvailable: Bool {
        #if MPI
        return true
        #else
        return false
        #endif
    }

    /// Joins the `mpirun` job (`MPI_Init_thread`); call once per process and `finish()` before exit.
    /// Without the MPI trait, throws `DistributedError.notBuilt`.
    public static func world() throws -> ProcessGroup {
        #if MPI
        var provided: Int32 = 0
        // SERIALIZED: the solver's reductions may come from a worker thread, never two at once.
        try check("MPI_Init_thread", MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided))
        var rank: Int32 = 0, size: Int32 = 0
        try check("MPI_Comm_rank", MPI_Comm_rank(cmpi_comm_world(), &rank))
        try check("MPI_Comm_size", MPI_Comm_size(cmpi_comm_world(), &size))
        return ProcessGroup(rank: Int(rank), size: Int(size), backend: .mpi)
        #else
        throw DistributedError.notBuilt
        #endif
    }

    /// Leaves the job (`MPI_Finalize`); the group must not be used afterwards.
    public func finish() {
        #if MPI
        if case .mpi = backend { MPI_Finalize() }
        #endif
    }

    /// Element-wise sum over all ranks, in place (`MPI_Allreduce` with `MPI_SUM`).
    public func sum(_ values: inout [Double]) throws { try reduce(&values, .sum) }
    /// Element-wise maximum over all ranks, in place.
    public func max(_ values: inout [Double]) throws { try reduce(&values, .max) }
    /// Element-wise minimum over all ranks, in place.
    public func min(_ values: inout [Double]) throws { try reduce(&values, .min) }

    enum Operation { case sum, max, min }

    private func reduce(_ values: inout [Double], _ operation: Operation) throws {
        switch backend {
        case .single:
            return
        case .threads(let meeting):
            let all = meeting.exchange(rank: rank, values.withUnsafeBytes { Array($0) })
            let parts = all.map { bytes in bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) } }
            guard parts.allSatisfy({ $0.count == values.count }) else {
                throw DistributedError.mismatch("ranks reduced vectors of different lengths \(parts.map(\.count))")
            }
            for i in values.indices {
                var v = parts[0][i]
                for part in parts.dropFirst() {
                    switch operation {
                    case .sum: v += part[i]
                    case .max: v = Swift.max(v, part[i])
                    case .min: v = Swift.min(v, part[i])
                    }
                }
                values[i] = v
            }
        case .mpi:
            #if MPI
            guard !values.isEmpty else { return }
            let op: MPI_Op
            switch operation {
            case .sum: op = cmpi_sum()
            case .max: op = cmpi_max()
            case .min: op = cmpi_min()
            }
            let count = try Self.count(values.count)
            try values.withUnsafeMutableBufferPointer { buffer in
                try Self.check("MPI_Allreduce", MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, count, cmpi_double(), op, cmpi_comm_world()))
            }
            #endif
        }
    }

    /// Every rank's bytes, indexed by rank (lengths may differ between ranks).
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        switch backend {
        case .single:
            return [bytes]
        case .threads(let meeting):
            return meeting.exchange(rank: rank, bytes)
        case .mpi:
            #if MPI
            var lengths = [Int32](repeating: 0, count: size)
            var mine = try Self.count(bytes.count)
            try Self.check("MPI_Allgather", MPI_Allgather(&mine, 1, cmpi_int(), &lengths, 1, cmpi_int(), cmpi_comm_world()))
            var offsets = [Int32](repeating: 0, count: size)
            var total = 0
            for r in 0..<size {
                offsets[r] = try Self.count(total)
                total += Int(lengths[r])
            }
            _ = try Self.count(total)
            var all = [UInt8](repeating: 0, count: total)
            try bytes.withUnsafeBufferPointer { send in
                try all.withUnsafeMutableBufferPointer { receive in
                    try Self.check("MPI_Allgatherv", MPI_Allgatherv(send.baseAddress, mine, cmpi_byte(), receive.baseAddress,
                                                                   lengths, offsets, cmpi_byte(), cmpi_comm_world()))
                }
            }
            return (0..<size).map { r in Array(all[Int(offsets[r])..<Int(offsets[r]) + Int(lengths[r])]) }
            #else
            return [bytes]
            #endif
        }
    }

    /// `root`'s bytes on every rank.
    public func broadcast(_ bytes: [UInt8], from root: Int = 0) throws -> [UInt8] {
        switch backend {
        case .single:
            return bytes
        case .threads(let meeting):
            return meeting.exchange(rank: rank, bytes)[root]
        case .mpi:
            #if MPI
            var length = try Self.count(bytes.count)
            try Self.check("MPI_Bcast", MPI_Bcast(&length, 1, cmpi_int(), Int32(root), cmpi_comm_world()))
            var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length))
            try buffer.withUnsafeMutableBufferPointer { b in
                try Self.check("MPI_Bcast", MPI_Bcast(b.baseAddress, length, cmpi_byte(), Int32(root), cmpi_comm_world()))
            }
            return buffer
            #else
            return bytes
            #endif
        }
    }

    /// Agrees on failure: every rank passes its own error (or nil); if any rank failed, all throw —
    /// the lowest failing rank its own error (it alone reports, so an error every rank hits prints
    /// once), the others `peerFailed` naming it — and no rank is left waiting in a collective.
    /// A `peerFailed` passed in (from an earlier agreement), or a `PeerPassFailure` (a solver pass
    /// that another rank failed to read), is not a rank's own error: agreeing again leaves the
    /// report to the rank whose error it was.
    public func agree(_ error: Error?) throws {
        var own = false
        if let error {
            if case DistributedError.peerFailed = error {} else if error is PeerPassFailure {} else { own = true }
        }
        var failed = [own ? Double(rank) : Double(size), error == nil ? Double(size) : Double(rank)]
        try min(&failed)
        let reporter = Int(failed[0]), first = Int(failed[1])
        if reporter == rank, let error { throw error }
        if reporter < size { throw DistributedError.peerFailed(rank: reporter) }
        if first < size { throw error ?? DistributedError.peerFailed(rank: first) }
    }

    /// Ends every rank at once (`MPI_Abort`): for an error on one rank while the others may be
    /// waiting in a collective. In one process it just exits.
    public func abort(code: Int32) -> Never {
        #if MPI
        if case .mpi = backend { MPI_Abort(cmpi_comm_world(), code) }
        #endif
        exit(code)
    }

    private static func count(_ n: Int) throws -> Int32 {
        guard let c = Int32(exactly: n) else {
            throw DistributedError.mismatch("a message of \(n) elements is more than MPI's Int32 count")
        }
        return c
    }

    private static func check(_ call: String, _ code: Int32) throws {
        #if MPI
        guard code == cmpi_success() else { throw DistributedError.mpi(call: call, code: code) }
        #endif
    }
}
