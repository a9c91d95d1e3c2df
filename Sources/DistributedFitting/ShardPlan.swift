import Foundation

/// Which bytes of the training file each rank reads: `ranks` contiguous ranges that tile the file.
/// A rank parses the records that *start* in its range (`CSVReader.readChunks(range:)`), so every
/// record is read by exactly one rank wherever the cut falls; the header is read by all.
public struct ShardPlan: Sendable, Equatable {
    public var ranges: [Range<Int>]

    public init(fileSize: Int, ranks: Int) {
        precondition(ranks >= 1 && fileSize >= 0)
        // Multiply before dividing so the ranges differ in length by at most one byte.
        ranges = (0..<ranks).map { r in (r * fileSize / ranks)..<((r + 1) * fileSize / ranks) }
    }

    public init(path: String, ranks: Int) throws {
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        self.init(fileSize: size, ranks: ranks)
    }
}
