/// Why a distributed fit cannot start or had to stop; every message says what to do.
public enum DistributedError: Error, CustomStringConvertible, Sendable {
    /// This binary was compiled without the MPI trait.
    case notBuilt
    /// An MPI call returned an error code.
    case mpi(call: String, code: Int32)
    /// Another rank failed (it printed its own error); this rank stops too.
    case peerFailed(rank: Int)
    /// A fit option the distributed solvers do not cover, and what to do instead (default: one process).
    case unsupported(String, fix: String? = nil)
    /// A message between ranks did not have the expected shape (a bug, or ranks running different binaries).
    case mismatch(String)

    public var description: String {
        switch self {
        case .notBuilt:
            return "--distributed needs a healthscore built with MPI: install Open MPI (apt-get install libopenmpi-dev openmpi-bin), build with `swift build -c release --traits MPI`, and run under mpirun, e.g. `mpirun -np 4 .build/release/healthscore fit --distributed DATA.csv --target churned --out model.json`"
        case let .mpi(call, code):
            return "\(call) failed with MPI error code \(code); check that every rank runs the same healthscore under one mpirun"
        case let .peerFailed(rank):
            return "rank \(rank) stopped with an error (see its message above); fix that input and rerun"
        case let .unsupported(flag, fix):
            return "\(flag) is not available with --distributed; \(fix ?? "fit without --distributed (one process), or leave \(flag) out")"
        case let .mismatch(what):
            return "ranks disagree: \(what); make sure every rank runs the same healthscore build with the same arguments"
        }
    }
}
