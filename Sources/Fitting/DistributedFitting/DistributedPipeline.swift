import FitEngine
import Foundation
import ScoringCore
import Tabular
import Training

/// `fit --distributed`: the streamed fit with each rank's reading restricted to its share of the
/// files' bytes and every sum taken across the ranks, so all ranks take identical Newton steps and
/// return the single-process artifact.
///
/// Per rank: one pass over its own share learns the design statistics (levels, counts, moments,
/// label values); the statistics of all ranks are gathered in flat form and merged in rank order
/// (= file order), so every rank freezes the recipe one process reading everything would. Each
/// solver pass then reads the rank's share again and ends in one all-reduce (XᵀWX, gradient,
/// deviance); the training scores are gathered once for the health bands.
public enum DistributedPipeline {
    public static func run(group: ProcessGroup, dataPath: String, roles: ColumnRoles, naValues: [String],
                           options: FitOptions, bounds: [TermBound] = [], chunkBytes: Int = 64 << 20,
                           timings: inout Timings) throws -> TrainingResult {
        try run(group: group, dataPaths: [dataPath], roles: roles, naValues: naValues, options: options, bounds: bounds,
                chunkBytes: chunkBytes, timings: &timings)
    }

    /// Several files with one header, fitted as their concatenation: the ranks split the bytes of
    /// the concatenation (`ShardPlan`), so a rank may read the end of one file and the start of the next.
    public static func run(group: ProcessGroup, dataPaths: [String], roles: ColumnRoles, naValues: [String],
                           options: FitOptions, bounds: [TermBound] = [], chunkBytes: Int = 64 << 20,
                           timings: inout Timings) throws -> TrainingResult {
        var streaming = StreamingOptions()
        streaming.chunkBytes = chunkBytes
        // A missing file fails every rank alike here, before any collective.
        streaming.shards = try ShardPlan(paths: dataPaths, ranks: group.size).shards(rank: group.rank, paths: dataPaths)
        streaming.processIndex = group.rank
        streaming.processCount = group.size
        streaming.sumAcrossProcesses = { try group.sum(&$0) }
        streaming.gatherAcrossProcesses = { try gather($0, group) }
        streaming.allGatherAcrossProcesses = { try group.allGather($0) }
        streaming.agreeAcrossProcesses = { try group.agree($0) }
        return try FitPipeline.runStreaming(dataPaths: dataPaths, roles: roles, naValues: naValues, options: options,
                                            bounds: bounds, streaming: streaming, timings: &timings)
    }

    /// `--lambda auto` with the folds spread over the ranks: every rank reads the whole file into
    /// memory and builds the same design and folds, fits fold f when f mod K is its rank, and one
    /// all-reduce of the folds' deviance curves (K·(λ count + 1) doubles) gives every rank all of
    /// them, so λmin and λ1se are those of one process. The final fit at the chosen λ runs on every
    /// rank (identical inputs, identical result).
    public static func runCrossValidated(group: ProcessGroup, dataPath: String, roles: ColumnRoles, naValues: [String],
                                         alpha: Double, folds: Int, seed: UInt64, select: LambdaSelection,
                                         options: ElasticNetOptions = .init(), bounds: [TermBound] = [],
                                         progress: (Int, Int) -> Void = { _, _ in },
                                         timings: inout Timings) throws -> (model: ModelArtifact, cv: CVResult) {
        let sharing = FoldSharing(computes: { $0 % group.size == group.rank }, sum: { try group.sum(&$0) },
                                  agree: { try group.agree($0) })
        return try FitPipeline.runCrossValidated(dataPath: dataPath, roles: roles, naValues: naValues, alpha: alpha, folds: folds,
                                                 seed: seed, select: select, options: options, bounds: bounds,
                                                 progress: progress, sharing: sharing, timings: &timings)
    }

    /// Every rank's values, concatenated in rank order.
    static func gather(_ values: [Double], _ group: ProcessGroup) throws -> [Double] {
        let parts = try group.allGather(values.withUnsafeBytes { Array($0) })
        var all: [Double] = []
        all.reserveCapacity(parts.reduce(0) { $0 + $1.count } / MemoryLayout<Double>.stride)
        for bytes in parts {
            guard bytes.count % MemoryLayout<Double>.stride == 0 else {
                throw DistributedError.mismatch("a rank sent \(bytes.count) bytes, not a whole number of doubles")
            }
            bytes.withUnsafeBytes { all.append(contentsOf: $0.bindMemory(to: Double.self)) }
        }
        return all
    }
}
