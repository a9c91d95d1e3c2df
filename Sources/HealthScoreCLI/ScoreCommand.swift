import ArgumentParser
import Evaluation
import Foundation
import ScoringCore
import Training

extension UnknownLevelPolicy: ExpressibleByArgument {}

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score customers with a fitted model: churn probability and a 0–100 health score.")

    @Argument(help: "Model artifact written by 'healthscore fit --out'.")
    var model: String

    @Argument(help: "CSV with the model's metric columns (extra columns are ignored).")
    var data: String

    @Option(help: "Write the scores CSV here (default: standard output).")
    var out: String?

    @Option(help: "Category levels not seen in training: error, reference (score as the reference level) or other (as the pooled rare levels). Default: the policy stored in the model, else error.")
    var unknownLevel: UnknownLevelPolicy?

    func run() throws {
        do {
            let artifact = try ModelArtifact.load(path: model)
            let (table, columns) = try ScoringInput.read(path: data, model: artifact)
            let scorer = Scorer(model: artifact, unknownLevels: unknownLevel)
            let scores: [ScoringCore.Score]
            do {
                scores = try scorer.score(rowCount: table.rowCount, columns: columns)
            } catch let e as ScoringError {
                var located = e
                if let row = e.row { located.problem = "line \(table.line(ofRecord: row)): " + e.problem }
                throw DataFileError(path: data, inner: located)
            }
            // Key columns, when the model names them and the input has them: id and snapshot time.
            let keys = [artifact.schema.id, artifact.schema.time].compactMap { $0.flatMap { table.column(named: $0) } }
            var csv = (keys.isEmpty ? "row" : keys.map { CSVField.quote($0.name) }.joined(separator: ",")) + ",churn_probability,health_score\n"
            csv.reserveCapacity(scores.count * 48)
            for (i, s) in scores.enumerated() {
                let key = keys.isEmpty ? String(i + 1) : keys.map { CSVField.quote($0.text(at: i) ?? "") }.joined(separator: ",")
                csv += "\(key),\(s.churnProbability),\(ModelSummary.fixed(s.healthScore, 2))\n"
            }
            if let out {
                try AtomicFile.write(Data(csv.utf8), to: out)
            } else {
                FileHandle.standardOutput.write(Data(csv.utf8))
            }
        } catch { fail(error) }
    }
}


enum CSVField {
    /// RFC 4180 quoting, only when the field needs it.
    static func quote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
