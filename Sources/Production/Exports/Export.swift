import Foundation
import ScoringCore
import Support

/// The formats a model leaves the toolkit in; each carries the model's version and checksum, and each
/// is proved equal to the scoring core on real rows by the tests.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// The model artifact itself (canonical JSON with its checksum).
    case json
    /// A standard-SQL SELECT computing probability, score and band per row (SQLite and PostgreSQL).
    case sql
    /// PMML 4.4: a RegressionModel (logit), or with `scorecard` a Scorecard with reason codes.
    case pmml
    /// An ONNX graph (ai.onnx.ml LinearClassifier with a logistic post-transform), float32.
    case onnx
}

public struct ExportOptions: Sendable {
    /// SQL: the table (or view) the SELECT reads.
    public var sourceTable = "customers"
    /// PMML: a Scorecard model (points per metric, reason codes) instead of a RegressionModel.
    public var scorecard = false
    /// PMML: rows embedded as ModelVerification records (inputs and the core's outputs).
    public var verification: (rowCount: Int, columns: [String: ScoringColumn])?
    /// SQL, for a model fitted with a business number format: the table's columns already hold
    /// numbers (SQL has no portable way to read `$1,234` or `12%`).
    public var plainNumbers = false
    /// SQL: numeric inputs may be TEXT columns in PostgreSQL and DuckDB (a staging table, a CSV read
    /// as text): NA markers are compared as text before the cast. Slower, most of all in SQLite.
    public var textNumbers = false
    /// SQL: columns copied through to the SELECT list, after the id and time columns.
    public var keep: [String] = []
    public init() {}
}


public enum Exporter {
    /// The exported bytes; the caller writes them atomically.
    public static func export(_ model: ModelArtifact, format: ExportFormat, options: ExportOptions = ExportOptions()) throws -> Data {
        switch format {
        case .json: return try model.encoded()
        case .sql:
            if let format = model.schema.numberFormat, format != .plain, !options.plainNumbers {
                throw Diagnostic(.export, problem: "the model reads numbers written in the \(format.rawValue) format (thousands separators, currency, %), which SQL cannot parse portably, so the SELECT would score such cells as 0 or fail. Fix: store the metric columns as numbers in the table (e.g. CAST(REPLACE(REPLACE(col, '$', ''), ',', '') AS DOUBLE PRECISION) in a view) and export with --plain-numbers")
            }
            return Data(try SQLExport.render(model, options: options).utf8)
        case .pmml: return Data(try PMMLExport.render(model, options: options).utf8)
        case .onnx: return try ONNXExport.render(model, options: options)
        }
    }

    /// A one-line provenance note every export carries: tool version and the model's checksum.
    public static func provenance(_ model: ModelArtifact) throws -> String {
        "healthscore \(model.toolVersion) model \(model.training.file) \(try model.computedChecksum()) created \(model.createdAt)"
    }
}
