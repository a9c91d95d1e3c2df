import Foundation
import ScoringCore

/// The model artifact decoder on arbitrary bytes. A model it accepts must also be usable: re-encoding
/// and decoding gives the same model (the checksum seals what was read), and scoring a row does not trap.
enum ModelFuzz {
    static func run(_ input: [UInt8]) throws {
        guard let model = try? ModelArtifact.decode(Data(input), path: "fuzz-model.json") else { return }
        let sealed: Data
        do { sealed = try model.encoded() } catch {
            throw PropertyViolation("an accepted model cannot be encoded again: \(error)")
        }
        let again: ModelArtifact
        do { again = try ModelArtifact.decode(sealed, path: "fuzz-model.json") } catch {
            throw PropertyViolation("an accepted model, re-encoded, is refused: \(error)")
        }
        var expected = model
        expected.checksum = again.checksum
        try expect(again == expected, "an accepted model changes when encoded and decoded again")
        try scoreOneRow(model)
    }

    /// Scores one row of plausible values (1 for numbers, the reference level for categories) and one
    /// row of missing values; errors are fine, traps are not.
    static func scoreOneRow(_ model: ModelArtifact) throws {
        let scorer = Scorer(model: model, unknownLevels: .reference)
        var present: [String: ScoringColumn] = [:]
        var absent: [String: ScoringColumn] = [:]
        for f in model.schema.features {
            switch f.kind {
            case .numeric:
                present[f.column] = .numbers([1])
                absent[f.column] = .numbers([.nan])
            case .categorical:
                present[f.column] = .strings([f.reference ?? f.levels?.first ?? "x"])
                absent[f.column] = .strings([nil])
            case .group:
                for m in f.members ?? [] {
                    present[m.column] = .numbers([1])
                    absent[m.column] = .numbers([.nan])
                }
            }
        }
        for columns in [present, absent] {
            if let scores = try? scorer.score(rowCount: 1, columns: columns) {
                try expect(scores.count == 1, "one row scored into \(scores.count) scores")
                let p = scores[0].churnProbability
                try expect(p.isNaN || (0...1).contains(p), "churn probability \(p) outside 0…1")
            }
            _ = try? scorer.explain(rowCount: 1, columns: columns, reasons: 3)
        }
    }
}
