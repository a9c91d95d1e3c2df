import Foundation
import ScoringCore
import Tabular
import Testing
import TestSupport
@testable import Training

/// The in-memory design is the recipe learned from the whole table applied to it; the streamed
/// design is the recipe learned chunk by chunk applied to each chunk. Both must give the same rows.
@Suite struct DesignRecipeTests {
    @Test(arguments: [1 << 10, 7_000, 1 << 20])
    func recipeAppliedChunkByChunkGivesTheInMemoryDesign(chunkBytes: Int) throws {
        let path = try SimulatedFile.write(rows: 1_500, seed: 21)
        var roles = ColumnRoles(target: "churned", id: "customer", weights: "w")
        roles.missing = .impute
        roles.rareLevelShare = 0.02
        roles.autoTransform = true
        roles.classWeight = .balanced
        let csv = FitPipeline.csvOptions(roles: roles, naValues: FitPipeline.defaultNAValues)
        let design = try DesignBuilder.build(try CSVReader.read(path: path, options: csv), roles: roles, naValues: FitPipeline.defaultNAValues)

        var statistics = DesignStatistics(roles: roles, naValues: FitPipeline.defaultNAValues, path: path, collectIds: true)
        var pieces = 0
        try CSVReader.readChunks(path: path, options: csv, chunkBytes: chunkBytes) { piece, first in
            try statistics.observe(piece, recordOffset: first)
            pieces += 1
        }
        let recipe = try statistics.recipe()
        #expect(chunkBytes > 100_000 ? pieces == 1 : pieces > 5)
        #expect(recipe.termNames == design.termNames)
        #expect(recipe.rows == design.rows && recipe.dropped == design.nDropped && recipe.dropReasons == design.dropReasons)
        #expect(statistics.distinctIds == design.distinctIds)

        let p = recipe.termNames.count
        var x: [Double] = [], y: [Double] = [], w: [Double] = []
        try CSVReader.readChunks(path: path, options: csv, chunkBytes: chunkBytes) { piece, first in
            var bx = [Double](repeating: .nan, count: piece.rowCount * p)
            var by = [Double](repeating: .nan, count: piece.rowCount), bw = by
            let rows = try bx.withUnsafeMutableBufferPointer { xb in
                try by.withUnsafeMutableBufferPointer { yb in
                    try bw.withUnsafeMutableBufferPointer { wb in
                        try recipe.apply(piece, recordOffset: first, x: xb.baseAddress!, stride: piece.rowCount,
                                         response: yb.baseAddress!, weights: wb.baseAddress!)
                    }
                }
            }
            for r in 0..<rows { for j in 0..<p { x.append(bx[j * piece.rowCount + r]) } }
            y += by.prefix(rows)
            w += bw.prefix(rows)
        }
        #expect(y == design.response)
        let weights = try #require(design.weights)
        #expect(zip(w, weights).allSatisfy { abs($0 - $1) <= 1e-14 * $1 })
        var worst = 0.0
        for r in 0..<design.rows { for j in 0..<p { worst = max(worst, abs(x[r * p + j] - design.storage[j * design.rows + r])) } }
        // Fills and moments merged over pieces differ from the whole's by rounding only.
        #expect(worst <= 1e-12, "largest difference \(worst)")
    }

    @Test func distinctCountMatchesASet() {
        var random = SeededRandom(seed: 5)
        for n in [0, 1, 2, 1_000, 70_000] {
            let values = (0..<n).map { _ in random.next() % UInt64(max(n / 3, 1)) << 40 | random.next() % 3 }
            #expect(DesignBuilder.distinctCount(values) == Set(values).count)
        }
    }
}
