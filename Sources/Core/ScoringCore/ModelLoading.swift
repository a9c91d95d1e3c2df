import Foundation
import Support


extension ModelArtifact {
    /// Loads and validates a model file; anything that is not a healthscore model of a known
    /// version is refused with a message, never half-used.
    /// `allowUnsigned`: load a file without its checksum (a model edited by hand on purpose).
    public static func load(path: String, allowUnsigned: Bool = false) throws -> ModelArtifact {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostic(.model, file: path, problem: "cannot read the model file",
                             fix: "pass the path of a model written by 'healthscore fit --out'")
        }
        return try decode(data, path: path, allowUnsigned: allowUnsigned)
    }

    public static func decode(_ data: Data, path: String, allowUnsigned: Bool = false) throws -> ModelArtifact {
        let notAModel = Diagnostic(.model, file: path, problem: "not a healthscore model (no \"format\": \"\(formatName)\")",
                                   fix: "pass the JSON written by 'healthscore fit --out model.json'")
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw Diagnostic(.model, file: path, problem: "not valid JSON (a truncated copy, or not a model file)",
                             fix: "pass the complete JSON written by 'healthscore fit --out model.json'")
        }
        // Readers disagree on a repeated key (Python and jq keep the last, Foundation the first),
        // so a file that has one means different models to different tools.
        if let repeated = JSONKeyScan.firstRepeatedKey(in: data) {
            throw Diagnostic(.model, file: path, problem: "the key '\(repeated)' appears twice in one object (an edit or a merge gone wrong); tools disagree on which value counts",
                             fix: "restore the file healthscore wrote, or refit the model")
        }
        guard let header = object as? [String: Any], header["format"] as? String == formatName else { throw notAModel }
        let versionValue = header["formatVersion"]
        guard let versionNumber = versionValue as? NSNumber,
              let version = Int(exactly: versionNumber.doubleValue) else {
            let found = versionValue.map { v -> String in v is String ? "the text \"\(v)\" (it must be a number)" : "\(v)" } ?? "missing"
            throw Diagnostic(.model, file: path, problem: "formatVersion is \(found)",
                             fix: "restore the file healthscore wrote (formatVersion is a number such as \(currentFormatVersion)), or refit the model")
        }
        guard version <= currentFormatVersion, version >= 1 else {
            throw Diagnostic(.model, file: path, problem: "model format version \(version) is not supported (this build reads 1...\(currentFormatVersion))",
                             fix: "upgrade healthscore or refit the model with this version")
        }
        do {
            let model = try JSONDecoder().decode(ModelArtifact.self, from: data)
            if model.checksum == nil && !allowUnsigned {
                throw Diagnostic(.model, file: path, problem: "the model has no checksum: it was edited by hand, or not written by 'healthscore fit'",
                                 fix: "refit the model (or restore the file healthscore wrote); to use a hand-edited model on purpose, pass --allow-unsigned")
            }
            if let stored = model.checksum, !allowUnsigned, stored != (try model.computedChecksum()) {
                throw Diagnostic(.model, file: path, problem: "checksum mismatch: the file was changed after 'healthscore fit' wrote it (edited by hand, or damaged)",
                                 fix: "refit the model, or restore the file healthscore wrote; to use a hand-edited model on purpose, pass --allow-unsigned")
            }
            try model.validate(path: path)
            return model
        } catch let error as Diagnostic {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw Diagnostic(.model, file: path, problem: "model is missing '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'",
                             fix: "refit the model; do not edit model files by hand")
        } catch {
            throw Diagnostic(.model, file: path, problem: "model file is damaged (\(error))", fix: "refit the model; do not edit model files by hand")
        }
    }

    /// Consistency checks the decoder cannot express.
    func validate(path: String) throws {
        func fail(_ problem: String) -> Diagnostic {
            Diagnostic(.model, file: path, problem: problem, fix: "refit the model; do not edit model files by hand")
        }
        guard coefficients.first?.term == Coefficient.interceptTerm else { throw fail("the first coefficient is not the intercept") }
        let columns = Set(schema.features.map(\.column))
        for c in coefficients.dropFirst() {
            guard let col = c.column, columns.contains(col) else { throw fail("coefficient '\(c.term)' names no input column") }
            guard c.estimate.isFinite else { throw fail("coefficient '\(c.term)' is not finite") }
        }
        for f in schema.features {
            switch f.kind {
            case .categorical:
                guard let levels = f.levels, let ref = f.reference, levels.contains(ref) else {
                    throw fail("categorical column '\(f.column)' has no reference level")
                }
            case .group:
                guard let members = f.members, !members.isEmpty else { throw fail("group '\(f.column)' has no members") }
                for m in members where !(m.standardDeviation > 0 && m.standardDeviation.isFinite && m.mean.isFinite && abs(m.sign) == 1) {
                    throw fail("group '\(f.column)' member '\(m.column)' has no usable mean, standard deviation or sign")
                }
            case .numeric: break
            }
        }
    }

    /// Pretty, key-sorted JSON with its checksum: stable diffs between model versions.
    public func encoded() throws -> Data {
        var sealed = self
        sealed.checksum = try computedChecksum()
        return try Self.canonical(sealed)
    }

    /// SHA-256 of the canonical JSON with no checksum field. Doubles print in their shortest exact
    /// form, so decoding and re-encoding reproduces the bytes.
    public func computedChecksum() throws -> String {
        var bare = self
        bare.checksum = nil
        return "sha256:" + SHA256.hex(of: try Self.canonical(bare))
    }

    static func canonical(_ model: ModelArtifact) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(model)
    }
}
