import Foundation
import Accuracy
import Scorecards
import ScoringCore
import Tabular
import Training
import Support

/// `healthscore evaluate`: a fitted model (or a scorecard) judged on a labelled file.
public struct ModelEvaluationResult: Codable, Sendable {
    public var model: String
    public var data: String
    public var rows: Int
    public var excludedRows: [String: Int]
    /// Set when the probabilities come from a calibration on these same rows (a scorecard).
    public var note: String?
    public var bands: HealthBands
    public var evaluation: ScoreEvaluation
}

public enum ModelEvaluation {
    public static func run(modelPath: String, dataPath: String, target: String?, positive: String?,
                           bands: HealthBands = HealthBands(), options: EvaluationOptions = EvaluationOptions(),
                           naValues: [String] = FitPipeline.defaultNAValues, allowUnsigned: Bool = false,
                           unknownLevels: UnknownLevelPolicy? = nil) throws -> ModelEvaluationResult {
        let lower = modelPath.lowercased()
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
            let card = try Scorecard.load(path: modelPath)
            guard let target else {
                throw Diagnostic(.candidate, problem: "a scorecard does not name the label: pass --target COL (and --positive VALUE if needed)")
            }
            var csv = CSVOptions()
            csv.naValues = Set(naValues)
            csv.textColumns = Set(card.categoricalColumns + [target])
            let table = try CSVReader.read(path: dataPath, options: csv)
            let y = try DesignBuilder.label(table, target: target, positive: positive).values
            let rows = y.indices.filter { !y[$0].isNaN }
            let part = table.subset(rows: rows)
            let health = try card.score(rowCount: part.rowCount, columns: ScoringInput.columns(part, names: card.requiredColumns))
            let labels = rows.map { y[$0] }
            let calibration = try ScoreCalibration.fit(score: health, labels: labels)
            var e = try Accuracy.evaluate(labels: labels, scores: health.map(calibration.probability),
                                              bands: health.map(bands.band), options: options)
            try e.rank(by: health.map { -$0 }, labels: labels)
            return ModelEvaluationResult(
                model: card.name, data: dataPath, rows: rows.count, excludedRows: excluded(table.rowCount - rows.count),
                note: "Scorecard: ranking measures use its 0–100 score; probabilities come from a logistic calibration on these same rows (in-sample), so log loss, Brier and calibration flatter it — use 'healthscore compare' for an out-of-sample judgement.",
                bands: bands, evaluation: e)
        }
        let model = try ModelArtifact.load(path: modelPath, allowUnsigned: allowUnsigned)
        let scored = try ScoredSample.load(model: model, dataPath: dataPath, unknownLevels: unknownLevels)
        let e = try Accuracy.evaluate(labels: scored.labels, scores: scored.probabilities,
                                          bands: scored.bandNames(fallback: bands.band), options: options)
        // Hashing is a second read of the file: only when the row counts already agree.
        let sameData = scored.rowsRead == model.training.rows && (try? FileDigest.sha256Hex(path: dataPath)) == model.training.sha256
        return ModelEvaluationResult(
            model: (modelPath as NSString).lastPathComponent, data: dataPath, rows: scored.count, excludedRows: scored.excluded,
            note: sameData ? "This is the model's own training file: in-sample measures flatter it; use 'healthscore compare' (cross-validation or a time backtest) for an honest estimate." : nil,
            bands: bands, evaluation: e)
    }

    static func excluded(_ n: Int) -> [String: Int] { n > 0 ? ["missing label": n] : [:] }
}

