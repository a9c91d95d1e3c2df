import FitEngine
import Foundation
import ScoringCore
import Tabular
import Training

/// `fit --distributed`: the rows of one CSV split across the ranks of a `ProcessGroup`, one
/// artifact equal to the single-process fit's.
public enum DistributedPipeline {
    public static func run(group: ProcessGroup, dataPath: String, roles: ColumnRoles, naValues: [String],
                           options: FitOptions, timings: inout Timings) throws -> TrainingResult {
        throw DistributedError.unsupported("fit --distributed (the solver over row sources is not merged yet)")
    }
}
