import Foundation

/// How a churn probability becomes the number the customer-success team sees.
public struct ScoreScale: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// 0–100: 100 × retention probability.
        case probability
        /// Credit-scorecard points: base points plus points per metric, `pointsToDoubleOdds` more
        /// points for each doubling of the odds of staying, `referenceScore` at `referenceOdds`.
        case points
    }
    public var kind: Kind
    public var pointsToDoubleOdds: Double?
    public var referenceScore: Double?
    /// Odds of staying (retained : churned) at the reference score.
    public var referenceOdds: Double?
    /// Round each metric's points (and the base) to integers, as printed scorecards do.
    public var roundPoints: Bool?

    public init(kind: Kind, pointsToDoubleOdds: Double? = nil, referenceScore: Double? = nil, referenceOdds: Double? = nil,
                roundPoints: Bool? = nil) {
        self.kind = kind; self.pointsToDoubleOdds = pointsToDoubleOdds; self.referenceScore = referenceScore
        self.referenceOdds = referenceOdds; self.roundPoints = roundPoints
    }

    public static let probability = ScoreScale(kind: .probability)
    /// The credit convention: 20 points double the odds, 600 points at odds 50:1.
    public static func points(pdo: Double = 20, reference: Double = 600, odds: Double = 50, round: Bool = false) -> ScoreScale {
        ScoreScale(kind: .points, pointsToDoubleOdds: pdo, referenceScore: reference, referenceOdds: odds, roundPoints: round)
    }

    /// Points per unit of log-odds of staying.
    public var factor: Double { (pointsToDoubleOdds ?? 20) / log(2) }
    /// Points at log-odds 0 (odds 1:1).
    public var offset: Double { (referenceScore ?? 600) - factor * log(referenceOdds ?? 50) }
    public var rounds: Bool { kind == .points && (roundPoints ?? false) }

    /// The score of a linear predictor η (log-odds of churn), unrounded.
    public func score(eta: Double) -> Double {
        switch kind {
        case .probability: return Scorer.score(eta: eta).healthScore
        case .points: return offset - factor * eta
        }
    }

    /// The η at which the score equals `score` (the inverse of `score(eta:)`), for moving band cut
    /// points between scales.
    public func eta(score: Double) -> Double {
        switch kind {
        case .probability:
            let q = min(max(score / 100, 0), 1)  // retention probability
            return log((1 - q) / q)
        case .points: return (offset - score) / factor
        }
    }
}
