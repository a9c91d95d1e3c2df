import Foundation

/// One input column for scoring; numbers use `.nan` for missing, strings `nil`.
public enum ScoringColumn: Sendable {
    case numbers([Double])
    case strings([String?])
}

/// What to do with a category level the model never saw.
public enum UnknownLevelPolicy: String, Sendable, CaseIterable {
    /// Refuse the batch, naming row and column.
    case error
    /// Score the row as if it had the reference level (all of the column's dummies zero).
    case reference
}

public struct ScoringError: Error, CustomStringConvertible, Sendable {
    public var row: Int?
    public var column: String?
    public var problem: String
    public var fix: String
    public var description: String {
        var where_ = ""
        if let row { where_ += "row \(row)" }
        if let column { where_ += (where_.isEmpty ? "" : ", ") + "column '\(column)'" }
        return (where_.isEmpty ? "" : where_ + ": ") + problem + ". Fix: " + fix
    }
}

public struct Score: Sendable, Equatable {
    public var churnProbability: Double
    /// 100 × retention probability.
    public var healthScore: Double
}

/// Applies a model artifact to new rows. Pure Swift: this is what production embeds.
public struct Scorer: Sendable {
    public let model: ModelArtifact
    public var unknownLevels: UnknownLevelPolicy

    private struct CompiledFeature: Sendable {
        var spec: FeatureSpec
        var slope: Double
        var indicatorSlope: Double
        var levelSlopes: [String: Double]
    }
    private let intercept: Double
    private let features: [CompiledFeature]

    public init(model: ModelArtifact, unknownLevels: UnknownLevelPolicy = .error) {
        self.model = model
        self.unknownLevels = unknownLevels
        var byTerm: [String: Double] = [:]
        for c in model.coefficients { byTerm[c.term] = c.estimate }
        intercept = byTerm[Coefficient.interceptTerm] ?? 0
        features = model.schema.features.map { f in
            var levelSlopes: [String: Double] = [:]
            if f.kind == .categorical {
                for level in f.levels ?? [] {
                    // Aliased or reference levels contribute zero.
                    levelSlopes[level] = byTerm[FeatureSpec.levelTerm(f.column, level)] ?? 0
                }
            }
            return CompiledFeature(spec: f, slope: byTerm[f.column] ?? 0,
                                   indicatorSlope: f.missingIndicator.flatMap { byTerm[$0] } ?? 0,
                                   levelSlopes: levelSlopes)
        }
    }

    /// Columns the model needs, in schema order.
    public var requiredColumns: [String] { model.schema.features.map(\.column) }

    /// The linear predictor per row; throws on the first row that cannot be scored.
    public func linearPredictor(rowCount: Int, columns: [String: ScoringColumn]) throws -> [Double] {
        var eta = [Double](repeating: intercept, count: rowCount)
        let impute = model.schema.missingPolicy == .impute
        for f in features {
            let name = f.spec.column
            guard let column = columns[name] else {
                throw ScoringError(row: nil, column: name, problem: "the model needs this column and the input has none",
                                   fix: "add the column '\(name)' to the input (same name as in training)")
            }
            switch (f.spec.kind, column) {
            case (.numeric, .numbers(let values)):
                for i in 0..<rowCount {
                    let v = values[i]
                    if v.isNaN {
                        guard impute else { throw missingError(row: i, column: name) }
                        eta[i] += f.slope * (f.spec.imputeValue ?? 0) + f.indicatorSlope
                    } else if !v.isFinite {
                        throw ScoringError(row: i + 1, column: name, problem: "infinite value",
                                           fix: "replace it with a finite number or an empty cell")
                    } else {
                        eta[i] += f.slope * (try transformed(v, f.spec, row: i))
                    }
                }
            case (.numeric, .strings(let values)):
                for i in 0..<rowCount {
                    guard let s = values[i] else {
                        guard impute else { throw missingError(row: i, column: name) }
                        eta[i] += f.slope * (f.spec.imputeValue ?? 0) + f.indicatorSlope
                        continue
                    }
                    guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                        throw ScoringError(row: i + 1, column: name, problem: "'\(s)' is not a number and the model treats this column as numeric",
                                           fix: "clean the value, or leave the cell empty for missing")
                    }
                    eta[i] += f.slope * (try transformed(v, f.spec, row: i))
                }
            case (.categorical, _):
                let text: (Int) -> String? = {
                    switch column {
                    case .strings(let s): return s[$0]
                    case .numbers(let x): return x[$0].isNaN ? nil : Self.numberText(x[$0])
                    }
                }
                for i in 0..<rowCount {
                    let level = text(i) ?? (impute ? FeatureSpec.missingLevel : nil)
                    guard let level else { throw missingError(row: i, column: name) }
                    if let slope = f.levelSlopes[level] {
                        eta[i] += slope
                    } else if unknownLevels == .error {
                        throw ScoringError(row: i + 1, column: name,
                                           problem: "level '\(level)' was not seen in training (known: \(Self.preview(f.spec.levels ?? [])))",
                                           fix: "map it to a known level, or score with --unknown-level reference")
                    }
                }
            }
        }
        return eta
    }

    public func score(rowCount: Int, columns: [String: ScoringColumn]) throws -> [Score] {
        try linearPredictor(rowCount: rowCount, columns: columns).map(Self.score(eta:))
    }

    public static func score(eta: Double) -> Score {
        // σ(η) and 1 − σ(η) each computed directly so both tails keep their digits.
        let e = exp(-abs(eta))
        let s = 1 / (1 + e)
        let p = eta >= 0 ? s : e * s
        let q = eta >= 0 ? e * s : s
        return Score(churnProbability: p, healthScore: 100 * q)
    }

    private func transformed(_ v: Double, _ spec: FeatureSpec, row: Int) throws -> Double {
        guard let chain = spec.transforms, !chain.isEmpty else { return v }
        guard let t = MetricTransform.apply(chain, to: v) else {
            throw ScoringError(row: row + 1, column: spec.column,
                               problem: "value \(v) is outside the domain of the model's \(chain.map(\.name).joined(separator: " then ")) transform",
                               fix: "check the value; log1p needs values above −1")
        }
        return t
    }

    private func missingError(row: Int, column: String) -> ScoringError {
        ScoringError(row: row + 1, column: column, problem: "missing value, and the model was fitted with --missing drop",
                     fix: "fill the value, or refit with --missing impute")
    }

    static func numberText(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }

    static func preview(_ levels: [String]) -> String {
        levels.count <= 6 ? levels.joined(separator: ", ") : levels.prefix(6).joined(separator: ", ") + ", … (\(levels.count) levels)"
    }
}
