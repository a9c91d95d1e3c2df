import Foundation

/// One input column for scoring; numbers use `.nan` for missing, strings `nil`.
public enum ScoringColumn: Sendable {
    case numbers([Double])
    case strings([String?])
}

/// What to do with a category level the model never saw.
public enum UnknownLevelPolicy: String, Codable, Sendable, CaseIterable {
    /// Refuse the batch, naming row and column.
    case error
    /// Score the row as if it had the reference level (all of the column's dummies zero).
    case reference
    /// Score it as the pooled rare levels, `(other)`; as the reference level when the column has no pool.
    case other
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
    /// On the model's scale: 100 × retention probability by default, or scorecard points.
    public var healthScore: Double
    /// The frozen band the score falls in (nil when the model has none).
    public var band: String?
    public init(churnProbability: Double, healthScore: Double, band: String? = nil) {
        self.churnProbability = churnProbability; self.healthScore = healthScore; self.band = band
    }
}

/// Applies a model artifact to new rows. Pure Swift: this is what production embeds.
public struct Scorer: Sendable {
    public let model: ModelArtifact
    public var unknownLevels: UnknownLevelPolicy

    struct CompiledFeature: Sendable {
        var spec: FeatureSpec
        var slope: Double
        var indicatorSlope: Double
        var levelSlopes: [String: Double]
        var pooled: Set<String>
    }
    let intercept: Double
    let features: [CompiledFeature]
    /// Each feature's term for the average training customer (mean values, level shares).
    let averages: [Double]

    /// `unknownLevels`: nil follows the policy stored in the model (error when it stores none).
    public init(model: ModelArtifact, unknownLevels: UnknownLevelPolicy? = nil) {
        self.model = model
        self.unknownLevels = unknownLevels ?? model.schema.unseenLevels ?? .error
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
                                   levelSlopes: levelSlopes, pooled: Set(f.pooledLevels ?? []))
        }
        averages = features.map { f in
            switch f.spec.kind {
            case .numeric: return f.slope * (f.spec.mean ?? 0) + f.indicatorSlope * f.spec.missingShare
            case .group: return f.slope * (f.spec.mean ?? 0)
            case .categorical:
                guard let levels = f.spec.levels, let shares = f.spec.levelShares, shares.count == levels.count else { return 0 }
                return zip(levels, shares).reduce(0) { $0 + (f.levelSlopes[$1.0] ?? 0) * $1.1 }
            }
        }
    }

    /// Input columns the model needs, in schema order (a group needs each of its members).
    public var requiredColumns: [String] {
        var out: [String] = []
        for f in model.schema.features {
            if f.kind == .group { out += (f.members ?? []).map(\.column) } else { out.append(f.column) }
        }
        return out
    }

    /// The linear predictor per row; throws on the first row that cannot be scored.
    public func linearPredictor(rowCount: Int, columns: [String: ScoringColumn]) throws -> [Double] {
        var eta = [Double](repeating: intercept, count: rowCount)
        for f in features.indices {
            let term = try featureTerm(f, rowCount: rowCount, columns: columns)
            for i in 0..<rowCount { eta[i] += term[i] }
        }
        return eta
    }

    /// One feature's part of the linear predictor per row (its slopes times its transformed values,
    /// missing indicator included).
    func featureTerm(_ index: Int, rowCount: Int, columns: [String: ScoringColumn]) throws -> [Double] {
        let f = features[index]
        var eta = [Double](repeating: 0, count: rowCount)
        let impute = model.schema.missingPolicy == .impute
        func column(_ name: String) throws -> ScoringColumn {
            guard let c = columns[name] else {
                throw ScoringError(row: nil, column: name, problem: "the model needs this column and the input has none",
                                   fix: "add the column '\(name)' to the input (same name as in training)")
            }
            return c
        }
        let name = f.spec.column
        switch f.spec.kind {
        case .numeric:
            let values = try column(name)
            for i in 0..<rowCount {
                if let v = try Self.number(values, row: i, column: name) {
                    eta[i] = f.slope * (try transformed(v, f.spec.transforms, column: name, row: i))
                } else {
                    guard impute else { throw missingError(row: i, column: name) }
                    eta[i] = f.slope * (f.spec.imputeValue ?? 0) + f.indicatorSlope
                }
            }
        case .group:
            let members = f.spec.members ?? []
            var sum = [Double](repeating: 0, count: rowCount)
            for m in members {
                let values = try column(m.column)
                for i in 0..<rowCount {
                    let t: Double
                    if let v = try Self.number(values, row: i, column: m.column) {
                        t = try transformed(v, m.transforms, column: m.column, row: i)
                    } else {
                        guard impute, let fill = m.imputeValue else { throw missingError(row: i, column: m.column) }
                        t = fill
                    }
                    sum[i] += m.standardScore(t)
                }
            }
            let k = Double(max(members.count, 1))
            for i in 0..<rowCount { eta[i] = f.slope * (sum[i] / k) }
        case .categorical:
            let values = try column(name)
            let text: (Int) -> String? = {
                switch values {
                case .strings(let s): return s[$0]
                case .numbers(let x): return x[$0].isNaN ? nil : Self.numberText(x[$0])
                }
            }
            for i in 0..<rowCount {
                guard var level = text(i) ?? (impute ? FeatureSpec.missingLevel : nil) else {
                    throw missingError(row: i, column: name)
                }
                if f.pooled.contains(level) { level = FeatureSpec.otherLevel }
                if let slope = f.levelSlopes[level] {
                    eta[i] = slope
                } else {
                    switch unknownLevels {
                    case .error:
                        throw ScoringError(row: i + 1, column: name,
                                           problem: "level '\(level)' was not seen in training (known: \(Self.preview(f.spec.levels ?? [])))",
                                           fix: "map it to a known level, or score with --unknown-level reference (or other)")
                    case .reference: break
                    case .other: eta[i] = f.levelSlopes[FeatureSpec.otherLevel] ?? 0
                    }
                }
            }
        }
        return eta
    }

    /// The cell as a number, nil when missing; text that is not a finite number is an error.
    private static func number(_ column: ScoringColumn, row i: Int, column name: String) throws -> Double? {
        switch column {
        case .numbers(let values):
            let v = values[i]
            if v.isNaN { return nil }
            guard v.isFinite else {
                throw ScoringError(row: i + 1, column: name, problem: "infinite value",
                                   fix: "replace it with a finite number or an empty cell")
            }
            return v
        case .strings(let values):
            guard let s = values[i] else { return nil }
            guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw ScoringError(row: i + 1, column: name, problem: "'\(s)' is not a number and the model treats this column as numeric",
                                   fix: "clean the value, or leave the cell empty for missing")
            }
            return v
        }
    }

    /// Probability, score on the model's scale and band per row.
    public func score(rowCount: Int, columns: [String: ScoringColumn]) throws -> [Score] {
        guard let spec = model.scoring, spec.scale.rounds else {
            return try linearPredictor(rowCount: rowCount, columns: columns).map(score(eta:))
        }
        // Rounded scorecard points: the score is the sum of the rounded parts.
        return try explain(rowCount: rowCount, columns: columns, reasons: 0).map(\.score)
    }

    /// Probability, score and band of one linear predictor (unrounded points).
    public func score(eta: Double) -> Score {
        var s = Self.score(eta: eta)
        if let spec = model.scoring {
            s.healthScore = spec.scale.score(eta: eta)
            s.band = spec.band(s.healthScore)?.label
        }
        return s
    }

    public static func score(eta: Double) -> Score {
        // σ(η) and 1 − σ(η) each computed directly so both tails keep their digits.
        let e = exp(-abs(eta))
        let s = 1 / (1 + e)
        let p = eta >= 0 ? s : e * s
        let q = eta >= 0 ? e * s : s
        return Score(churnProbability: p, healthScore: 100 * q)
    }

    func transformed(_ v: Double, _ chain: [MetricTransform]?, column: String, row: Int) throws -> Double {
        guard let chain, !chain.isEmpty else { return v }
        guard let t = MetricTransform.apply(chain, to: v) else {
            throw ScoringError(row: row + 1, column: column,
                               problem: "value \(v) is outside the domain of the model's \(chain.map(\.name).joined(separator: " then ")) transform",
                               fix: "check the value; log1p needs values above −1")
        }
        return t
    }

    func missingError(row: Int, column: String) -> ScoringError {
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
