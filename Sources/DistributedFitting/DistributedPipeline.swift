import FitEngine
import Foundation
import ScoringCore
import Tabular
import Training

/// `fit --distributed`: the streamed fit with each rank's solver passes restricted to its byte range
/// of the file and every sum taken across the ranks, so all ranks take identical Newton steps and
/// return the single-process artifact.
///
/// Per rank: one pass over the whole file learns the design (every rank freezes the same recipe
/// without exchanging statistics), then each solver pass reads only the rank's range, ending in one
/// all-reduce (XᵀWX, gradient, deviance); the training scores are gathered for the health bands.
public enum DistributedPipeline {
    public static func run(group: ProcessGroup, dataPath: String, roles: ColumnRoles, naValues: [String],
                           options: FitOptions, bounds: [TermBound] = [], chunkBytes: Int = 64 << 20,
                           timings: inout Timings) throws -> TrainingResult {
        var streaming = StreamingOptions()
        streaming.chunkBytes = chunkBytes
        streaming.range = try ShardPlan(path: dataPath, ranks: group.size).ranges[group.rank]
        streaming.learnFromWholeFile = true
        streaming.sumAcrossProcesses = { try group.sum(&$0) }
        streaming.gatherAcrossProcesses = { try gather($0, group) }
        return try FitPipeline.runStreaming(dataPath: dataPath, roles: roles, naValues: naValues, options: options,
                                            bounds: bounds, streaming: streaming, timings: &timings)
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
