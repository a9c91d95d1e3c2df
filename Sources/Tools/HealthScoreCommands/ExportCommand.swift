import ArgumentParser
import CommandSupport
import Exports
import Foundation
import Support
import ScoringCore
import Tabular
import Training

extension ExportFormat: ExpressibleByArgument {}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a model to the formats production consumes: json, sql (SQLite/PostgreSQL), pmml, onnx.")

    @Argument(help: "Model artifact written by 'healthscore fit --out'.")
    var model: String

    @Option(help: "json, sql, pmml or onnx.")
    var format: ExportFormat

    @OptionGroup var trust: ModelTrustOptions

    @Option(help: "Write the export here (atomically).")
    var out: String

    @Option(help: "SQL: the source table or view the SELECT reads.")
    var table: String = "customers"

    @Flag(help: "PMML: a Scorecard model with points and reason codes instead of a RegressionModel.")
    var scorecard = false

    @Flag(help: "SQL, for a model fitted with --number-format: the table's metric columns already hold numbers.")
    var plainNumbers = false

    @Flag(name: .customLong("text-numbers"), help: "SQL: the metric columns may be TEXT in PostgreSQL or DuckDB (a staging table, a CSV read as text); slower.")
    var textNumbers = false

    @Option(help: ArgumentHelp("SQL: columns copied through to the SELECT list beside the id (e.g. owner,region).", valueName: "a,b,…"))
    var keep: String?

    @Option(help: "PMML: embed the first rows of this CSV (with the core's outputs) as ModelVerification records.")
    var verify: String?

    @Option(name: .customLong("verify-rows"), help: "PMML: how many rows of --verify to embed.")
    var verifyRows: Int = 20

    @Option(help: "Change the score scale at export (probability or points); the frozen band cut points move with it, so every customer keeps their band. With --format json this writes the rescaled model.")
    var scale: ScoreScale.Kind?

    @Option(help: "With --scale points: points that double the odds of staying.")
    var pdo: Double = 20

    @Option(name: .customLong("reference-score"), help: "With --scale points: the score at the reference odds.")
    var referenceScore: Double = 600

    @Option(name: .customLong("reference-odds"), help: "With --scale points: odds of staying at the reference score.")
    var referenceOdds: Double = 50

    @Flag(name: .customLong("round-points"), help: "With --scale points: integer points per metric.")
    var roundPoints = false

    func validate() throws {
        guard verifyRows >= 1 else { throw ValidationError("--verify-rows must be at least 1") }
        guard pdo > 0, referenceOdds > 0, referenceScore.isFinite else { throw ValidationError("--pdo and --reference-odds must be positive") }
    }

    func run() throws {
        try AtomicFile.checkOutputs([("--out", out)], inputs: [("the model", model), ("--verify", verify)])
        var artifact = try ModelArtifact.load(path: model, allowUnsigned: trust.allowUnsigned)
        try trust.check(artifact, path: model, command: "export")
        if let scale {
            let target: ScoreScale = scale == .points
                ? .points(pdo: pdo, reference: referenceScore, odds: referenceOdds, round: roundPoints) : .probability
            let current = artifact.scoring ?? ScoringSpec(scale: .probability, bands: [], bandMethod: "none")
            artifact.scoring = current.rescaled(to: target)
            artifact.checksum = nil  // a new model: sealed again when written
        }
        var options = ExportOptions()
        options.sourceTable = table
        options.scorecard = scorecard
        options.plainNumbers = plainNumbers
        options.textNumbers = textNumbers
        options.keep = columnList(keep)
        if let verify {
            let (table, _) = try ScoringInput.read(path: verify, model: artifact)
            let part = table.subset(rows: Array(0..<min(verifyRows, table.rowCount)))
            options.verification = (part.rowCount, ScoringInput.columns(part, names: Scorer(model: artifact).requiredColumns,
                                                                                  numberFormat: artifact.schema.numberFormat ?? .plain))
        }
        let data = try Exporter.export(artifact, format: format, options: options)
        try AtomicFile.write(data, to: out)
        print("\(format.rawValue) export of \(model) written to \(out) (\(data.count) bytes)")
    }
}
