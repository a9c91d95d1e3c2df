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

/// Applies a model artifact to new rows, all or nothing: the first row that cannot be scored fails
/// the call (`ScoringPlan.score` instead marks such rows and goes on). Pure Swift: this is what
/// production embeds.
public struct Scorer: Sendable {
    public let model: ModelArtifact
    public var unknownLevels: UnknownLevelPolicy { plan.unknownLevels }
    public let plan: ScoringPlan

    /// `unknownLevels`: nil follows the policy stored in the model (error when it stores none).
    public init(model: ModelArtifact, unknownLevels: UnknownLevelPolicy? = nil) {
        self.model = model
        plan = ScoringPlan(model: model, unknownLevels: unknownLevels)
    }

    var intercept: Double { plan.intercept }
    var features: [ScoringPlan.Feature] { plan.features }

    /// Input columns the model needs, in schema order (a group needs each of its members).
    public var requiredColumns: [String] { plan.inputs }

    /// The plan's inputs in its order, from columns by name (nil where the input has none).
    public func planColumns(_ columns: [String: ScoringColumn]) -> [PlanColumn?] {
        plan.inputs.map { name in
            switch columns[name] {
            case .numbers(let x)?: return .numbers(x)
            case .strings(let s)?: return .strings(s)
            case nil: return nil
            }
        }
    }

    private func run(rowCount: Int, columns: [String: ScoringColumn], reasons: Int = 0, contributions: Bool = false) throws -> ScoredRows {
        let scored = try plan.score(planColumns(columns), rowCount: rowCount, reasons: reasons, contributions: contributions)
        if let first = scored.problems.first { throw first.error(knownLevels: plan.levels(ofColumn: first.column)) }
        return scored
    }

    /// The linear predictor per row; throws on the first row that cannot be scored.
    public func linearPredictor(rowCount: Int, columns: [String: ScoringColumn]) throws -> [Double] {
        try run(rowCount: rowCount, columns: columns).eta
    }

    /// One feature's part of the linear predictor per row (its slopes times its transformed values,
    /// missing indicator included).
    func featureTerm(_ index: Int, rowCount: Int, columns: [String: ScoringColumn]) throws -> [Double] {
        _ = try run(rowCount: rowCount, columns: columns)
        return plan.terms(ofFeature: index, planColumns(columns), rowCount: rowCount)
    }

    /// Probability, score on the model's scale and band per row.
    public func score(rowCount: Int, columns: [String: ScoringColumn]) throws -> [Score] {
        let s = try run(rowCount: rowCount, columns: columns)
        return (0..<rowCount).map { score(s, $0) }
    }

    func score(_ s: ScoredRows, _ i: Int) -> Score {
        Score(churnProbability: s.probability[i], healthScore: s.score[i],
              band: s.band[i] >= 0 ? plan.bandLabels[Int(s.band[i])] : nil)
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

    /// Scores with per-metric contributions and the top `reasons` negative ones per row.
    public func explain(rowCount: Int, columns: [String: ScoringColumn], reasons k: Int = 3) throws -> [Explanation] {
        let s = try run(rowCount: rowCount, columns: columns, reasons: k, contributions: true)
        let inputs = planColumns(columns)
        let p = plan.featureCount
        return (0..<rowCount).map { i in
            let values = (0..<p).map { plan.valueText(feature: $0, row: i, columns: inputs) }
            let contributions = (0..<p).map { j in
                Contribution(metric: plan.metrics[j], displayName: plan.displayNames[j], value: values[j], points: s.contributions[i * p + j])
            }
            let reasons = (0..<k).compactMap { r -> Contribution? in
                let j = Int(s.reasonFeature[i * k + r])
                return j >= 0 ? contributions[j] : nil
            }
            return Explanation(score: score(s, i), contributions: contributions, reasons: reasons, basePoints: plan.basePoints)
        }
    }

    static func numberText(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }

    /// "a, b, c, … (51 levels)": a level list short enough for a message.
    public static func preview(_ levels: [String]) -> String {
        levels.count <= 6 ? levels.joined(separator: ", ") : levels.prefix(6).joined(separator: ", ") + ", … (\(levels.count) levels)"
    }
}
