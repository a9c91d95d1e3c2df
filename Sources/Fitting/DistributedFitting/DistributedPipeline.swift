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
    /// `spec` fitted by the ranks of `group`, every rank returning the single-process model.
    ///
    /// Maximum likelihood: the files (with one header, fitted as their concatenation) are split by
    /// bytes (`ShardPlan`), so a rank may read the end of one file and the start of the next.
    ///
    /// `Estimator.crossValidation`: the folds are spread over the ranks instead. Every rank reads the
    /// whole file into memory and builds the same design and folds, fits fold f when f mod K is its
    /// rank, and one all-reduce of the folds' deviance curves (K·(λ count + 1) doubles) gives every
    /// rank all of them, so λmin and λ1se are those of one process. The final fit at the chosen λ
    /// runs on every rank (identical inputs, identical result).
    public static func fit(_ spec: FitSpec, group: ProcessGroup, dataPaths: [String], chunkBytes: Int = 64 << 20,
                           progress: @escaping (Int, Int) -> Void = { _, _ in }, timings: inout Timings) throws -> FitOutcome {
        var run = FitRun()
        if spec.estimator.crossValidation != nil {
            guard dataPaths.count == 1 else {
                throw DistributedError.unsupported("--lambda auto with several files", fix: "every rank holds the whole design for cross-validation: concatenate the files into one CSV")
            }
            run.foldSharing = FoldSharing(computes: { $0 % group.size == group.rank }, sum: { try group.sum(&$0) },
                                          agree: { try group.agree($0) })
            run.progress = progress
            return try FitPipeline.fit(spec, .file(dataPaths[0]), run: run, timings: &timings)
        }
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
        run.streaming = streaming
        return try FitPipeline.fit(spec, .files(dataPaths), run: run, timings: &timings)
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
