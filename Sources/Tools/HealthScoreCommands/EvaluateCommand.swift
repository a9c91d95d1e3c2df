import ArgumentParser
import CommandSupport
import Evaluation
import Foundation
import ScoringCore
import Accuracy

/// Options shared by the commands that print accuracy measures.
struct ReportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Health-band cut-offs on 0–100: for scores without frozen bands (scorecards): below the first is unhealthy (red), below the second at_risk (yellow), else healthy (green). Fitted models use their own bands.", valueName: "poor,good"))
    var bands: String = "50,75"

    @Option(help: "Calibration bins (deciles of predicted risk by default).")
    var bins: Int = 10

    @Option(help: "Calibration binning: quantile (equal counts) or uniform (equal widths).")
    var binning: CalibrationBinning = .quantile

    @Flag(help: "Print JSON instead of the text report.")
    var json = false

    func healthBands() throws -> HealthBands {
        let parts = bands.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let poor = parts[0], let good = parts[1], 0 < poor, poor < good, good < 100 else {
            throw ValidationError("--bands must be two cut-offs 0 < poor < good < 100, e.g. 50,75")
        }
        return HealthBands(poor: poor, good: good)
    }

    var evaluationOptions: EvaluationOptions {
        EvaluationOptions(calibrationBins: bins, calibrationBinning: binning)
    }

    func validate() throws {
        _ = try healthBands()
        guard bins >= 1 else { throw ValidationError("--bins must be at least 1") }
    }
}

extension CalibrationBinning: ExpressibleByArgument {}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge a fitted model (or a scorecard) on a labelled file: AUC with DeLong interval, log loss, Brier, calibration, lift, band churn rates.")

    @Argument(help: "Model artifact (.json from 'healthscore fit') or scorecard (.yaml).")
    var model: String

    @Argument(help: "CSV with the model's metrics and the outcome column.")
    var data: String

    @Option(help: "The label column (scorecards only; a model knows its target).")
    var target: String?

    @Option(help: "The label value that means churned (scorecards only).")
    var positive: String?

    @Option(help: "Category levels not seen in training: error, reference (score as the reference level) or other (as the pooled rare levels). Default: the policy stored in the model, else error.")
    var unknownLevel: UnknownLevelPolicy?

    @OptionGroup var report: ReportOptions

    @OptionGroup var trust: ModelTrustOptions

    func run() throws {
        returnFreedMemoryPromptly()
        if !model.lowercased().hasSuffix(".yaml") && !model.lowercased().hasSuffix(".yml") {
            try trust.check(ModelArtifact.load(path: model, allowUnsigned: trust.allowUnsigned), path: model, command: "evaluate")
        }
        let result = try ModelEvaluation.run(modelPath: model, dataPath: data, target: target, positive: positive,
                                             bands: try report.healthBands(), options: report.evaluationOptions,
                                             allowUnsigned: trust.allowUnsigned, unknownLevels: unknownLevel)
        if report.json {
            try printJSON(result)
        } else {
            var title = "healthscore evaluate: \(result.model) on \((data as NSString).lastPathComponent)"
            if !result.excludedRows.isEmpty {
                title += "\nLeft out: " + result.excludedRows.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: "; ")
            }
            print(ReportText.evaluation(result.evaluation, title: title, note: result.note, paint: Terminal.band), terminator: "")
        }
    }
}

/// Pretty, key-sorted JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    StandardOutput.write(try encoder.encode(value))
    print()
}
