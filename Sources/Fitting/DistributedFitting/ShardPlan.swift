import Foundation
import Tabular
import Training
import Support

/// Which bytes of the training files each rank reads: `ranks` contiguous ranges that tile the
/// files' concatenation (file after file, each whole, headers included), cut where the byte count
/// says — a range may end inside one file and the next range go on in it, or span several files.
/// A rank parses the records that *start* in its part of each file (`CSVReader.readChunks(range:)`),
/// so every record is read by exactly one rank wherever the cuts fall; each file's header is read
/// by every rank that reads from that file.
public struct ShardPlan: Sendable, Equatable {
    /// Offsets into the concatenation, one range per rank, in rank order.
    public var ranges: [Range<Int>]
    /// Byte sizes of the files, in the order given.
    public var sizes: [Int]

    public init(fileSize: Int, ranks: Int) { self.init(sizes: [fileSize], ranks: ranks) }

    public init(sizes: [Int], ranks: Int) {
        precondition(ranks >= 1 && !sizes.isEmpty && sizes.allSatisfy { $0 >= 0 })
        let total = sizes.reduce(0, +)
        self.sizes = sizes
        // Multiply before dividing so the ranges differ in length by at most one byte.
        ranges = (0..<ranks).map { r in (r * total / ranks)..<((r + 1) * total / ranks) }
    }

    public init(paths: [String], ranks: Int) throws {
        let sizes = try paths.map { path -> Int in
            do { return try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0 } catch {
                throw Diagnostic(.data, file: path, problem: "cannot read the file (\((error as NSError).localizedDescription))",
                                fix: "check the path; every rank needs the same path to every file")
            }
        }
        self.init(sizes: sizes, ranks: ranks)
    }

    /// Rank `rank`'s range as (file index, byte range within that file) pieces, in file order;
    /// files it does not reach are left out.
    public func pieces(rank: Int) -> [(file: Int, bytes: Range<Int>)] {
        let mine = ranges[rank]
        var out: [(file: Int, bytes: Range<Int>)] = []
        var start = 0
        for (file, size) in sizes.enumerated() {
            let lower = Swift.max(mine.lowerBound, start), upper = Swift.min(mine.upperBound, start + size)
            if lower < upper { out.append((file, (lower - start)..<(upper - start))) }
            start += size
        }
        return out
    }

    /// The pieces as the streaming reader takes them.
    public func shards(rank: Int, paths: [String]) -> [FileShard] {
        pieces(rank: rank).map { FileShard(file: $0.file, path: paths[$0.file], range: $0.bytes) }
    }
}
