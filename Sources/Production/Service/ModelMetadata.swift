import Foundation
import ScoringCore

/// The `GET /v1/model` document: what is being served and how it scores. Keys are snake_case, like
/// the score responses; nested model parts (features, coefficients, scale, bands) keep every field
/// the model file has, renamed the same way.
struct ModelMetadata: Encodable {
    var format: String
    var formatVersion: Int
    var toolVersion: String
    var createdAt: String
    var checksum: String
    var training: TrainingSource
    var target: TargetSpec
    var idColumn: String?
    var timeColumn: String?
    var missingPolicy: MissingPolicy
    var naValues: [String]
    /// The policy this service applies to unseen category levels (the model's, unless overridden).
    var unseenLevels: UnknownLevelPolicy
    /// The keys each row of a score request must have.
    var requiredColumns: [String]
    var features: [FeatureSpec]
    var coefficients: [Coefficient]
    var aliased: [String]
    /// nil: probability scale (100 × retention probability), no bands.
    var scoring: ScoringSpec?
    var warnings: [ModelWarning]

    init(_ m: ModelArtifact, checksum: String, scorer: Scorer) {
        format = m.format
        formatVersion = m.formatVersion
        toolVersion = m.toolVersion
        createdAt = m.createdAt
        self.checksum = checksum
        training = m.training
        target = m.schema.target
        idColumn = m.schema.id
        timeColumn = m.schema.time
        missingPolicy = m.schema.missingPolicy
        naValues = m.schema.naValues
        unseenLevels = scorer.unknownLevels
        var seen = Set<String>()
        requiredColumns = scorer.requiredColumns.filter { seen.insert($0).inserted }
        features = m.schema.features
        coefficients = m.coefficients
        aliased = m.aliased
        scoring = m.scoring
        warnings = m.warnings
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // A model file never holds non-finite numbers (fit refuses to write them), but the metadata
        // must encode whatever it is given.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
