import ArgumentParser
import CommandSupport
import Foundation
import Support
import ScoringCore
import Training

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a starter metric configuration (YAML) for a churn history: types, summary statistics, proposed transforms and groups.",
        discussion: "Edit the file (directions above all: healthier_when: higher | lower), then fit with 'healthscore fit DATA.csv --config FILE'.")

    @Argument(help: "Churn history CSV with a header row.")
    var data: String

    @Option(help: "The label column: 1 = churned.")
    var target: String

    @Option(help: "The label value that means churned, when it is not 1/true/yes.")
    var positive: String?

    @Option(help: ArgumentHelp("With --positive: comma-separated label values that mean stayed (needed when the label has more than two values).", valueName: "values"),
            transform: { $0.split(separator: ",").map(String.init) })
    var negative: [String] = []

    @Option(help: "Customer id column.")
    var id: String?

    @Option(help: "Snapshot date column.")
    var time: String?

    @Option(help: "Write the configuration here.")
    var out: String = "healthscore.yaml"

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    func run() throws {
        try AtomicFile.checkOutputs([("--out", out == "-" ? nil : out)], inputs: [("the data file", data)])
        if !force && FileManager.default.fileExists(atPath: out) {
            throw Diagnostic(.output, file: out, problem: "the file exists", fix: "pass --force to replace it, or --out another path")
        }
        let text = try DataProfile.starter(dataPath: data, target: target, positive: positive, negatives: negative, id: id, time: time)
        if out == "-" {
            print(text, terminator: "")
        } else {
            try AtomicFile.write(Data(text.utf8), to: out)
            print("Metric configuration written to \(out): set healthier_when for the metrics you know, then run\n  healthscore fit \(data) --config \(out)")
        }
    }
}
