import ArgumentParser
import Exports
import Foundation
import ScoringCore
import Training

extension ExportFormat: ExpressibleByArgument {}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a model to the formats production consumes: json, sql (SQLite/PostgreSQL), pmml, onnx.")

    @Argument(help: "Model artifact written by 'healthscore fit --out'.")
    var model: String

    @Option(help: "json, sql, pmml or onnx.")
    var format: ExportFormat

    @Option(help: "Write the export here (atomically).")
    var out: String

    @Option(help: "SQL: the source table or view the SELECT reads.")
    var table: String = "customers"

    @Flag(help: "PMML: a Scorecard model with points and reason codes instead of a RegressionModel.")
    var scorecard = false

    @Option(help: "PMML: embed the first rows of this CSV (with the core's outputs) as ModelVerification records.")
    var verify: String?

    @Option(name: .customLong("verify-rows"), help: "PMML: how many rows of --verify to embed.")
    var verifyRows: Int = 20

    func run() throws {
        do {
            let artifact = try ModelArtifact.load(path: model)
            var options = ExportOptions()
            options.sourceTable = table
            options.scorecard = scorecard
            if let verify {
                let (table, _) = try ScoringInput.read(path: verify, model: artifact)
                let part = table.subset(rows: Array(0..<min(verifyRows, table.rowCount)))
                options.verification = (part.rowCount, ScoringInput.columns(part, names: Scorer(model: artifact).requiredColumns))
            }
            let data = try Exporter.export(artifact, format: format, options: options)
            try AtomicFile.write(data, to: out)
            print("\(format.rawValue) export of \(model) written to \(out) (\(data.count) bytes)")
        } catch { fail(error) }
    }
}
