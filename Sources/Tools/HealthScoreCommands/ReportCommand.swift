import ArgumentParser
import CommandSupport
import Foundation
import Support
import Report
import ScoringCore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML report (inline SVG, no network): data, weights, ROC/PR, calibration, lift, bands, comparison, customers at risk.")

    @Argument(help: "Model artifact written by 'healthscore fit --out'.")
    var model: String

    @Argument(help: "Labelled CSV to report on (the training file, or a later period).")
    var data: String

    @Option(help: "Write the HTML here.")
    var out: String

    @Option(help: "Include a comparison or backtest: the JSON written by 'healthscore compare|backtest … --json'.")
    var comparison: String?

    @OptionGroup var trust: ModelTrustOptions

    @Option(name: .customLong("at-risk"), help: "How many of the customers most at risk to list.")
    var atRisk: Int = 25

    func run() throws {
        try AtomicFile.checkOutputs([("--out", out)], inputs: [("the model", model), ("the data file", data), ("--comparison", comparison)])
        try trust.check(ModelArtifact.load(path: model, allowUnsigned: trust.allowUnsigned), path: model, command: "report")
        let html = try HTMLReport.build(modelPath: model, dataPath: data, comparisonPath: comparison, atRisk: atRisk,
                                        allowUnsigned: trust.allowUnsigned)
        try AtomicFile.write(Data(html.utf8), to: out)
        print("Report written to \(out) (\(html.utf8.count / 1024) KiB)")
    }
}
