import Foundation

/// What one metric did to one customer's score, against the average training customer.
public struct Contribution: Codable, Sendable, Equatable {
    /// The input column (or group) name.
    public var metric: String
    /// The analyst's name for it, or the column name.
    public var displayName: String
    /// The customer's value as given ("" when missing; "a=1, b=2" for a group's members).
    public var value: String
    /// Score points this metric adds (+) or costs (−) compared with an average value. On the points
    /// scale these add up (with the base points) to the score; on the probability scale each is the
    /// change in the score if only this metric were average, so they need not add up.
    public var points: Double

    public init(metric: String, displayName: String, value: String, points: Double) {
        self.metric = metric; self.displayName = displayName; self.value = value; self.points = points
    }
}

public struct Explanation: Sendable, Equatable {
    public var score: Score
    /// One per metric, in schema order.
    public var contributions: [Contribution]
    /// The metrics that cost the most points (negative contributions only), worst first.
    public var reasons: [Contribution]
    /// Points scale: the part of the score that belongs to no metric (the average customer's score
    /// less nothing); nil on the probability scale.
    public var basePoints: Double?
}

extension Scorer {
    /// Scores with per-metric contributions and the top `reasons` negative ones per row.
    public func explain(rowCount: Int, columns: [String: ScoringColumn], reasons k: Int = 3) throws -> [Explanation] {
        let terms = try features.indices.map { try featureTerm($0, rowCount: rowCount, columns: columns) }
        let scale = model.scoring?.scale ?? .probability
        let averageSum = averages.reduce(0, +)
        let rounding = scale.rounds
        var base: Double? = nil
        if scale.kind == .points {
            let b = scale.offset - scale.factor * (intercept + averageSum)
            base = rounding ? b.rounded() : b
        }
        var out: [Explanation] = []
        out.reserveCapacity(rowCount)
        let values = features.map { f in valueText(f, columns: columns) }
        // Hoisted out of the row loop: the per-feature structs hold dictionaries, and copying them per
        // row and metric costs more than the arithmetic.
        let metrics = features.map(\.spec.column)
        let displays = features.map { $0.spec.displayName ?? $0.spec.column }
        for i in 0..<rowCount {
            var eta = intercept
            for t in terms { eta += t[i] }
            var s = score(eta: eta)
            var contributions: [Contribution] = []
            contributions.reserveCapacity(features.count)
            var pointsSum = 0.0
            for j in terms.indices {
                let delta = terms[j][i] - averages[j]
                var points: Double
                switch scale.kind {
                case .points:
                    points = -scale.factor * delta
                    if rounding { points = points.rounded() }
                    pointsSum += points
                case .probability:
                    points = Self.score(eta: eta).healthScore - Self.score(eta: eta - delta).healthScore
                }
                contributions.append(Contribution(metric: metrics[j], displayName: displays[j], value: values[j](i), points: points))
            }
            if rounding, let base {
                s.healthScore = base + pointsSum
                s.band = model.scoring?.band(s.healthScore)?.label
            }
            let worst = contributions.filter { $0.points < 0 }.sorted { $0.points < $1.points }.prefix(k)
            out.append(Explanation(score: s, contributions: contributions, reasons: Array(worst), basePoints: base))
        }
        return out
    }

    /// The customer's value of a feature as text, per row.
    private func valueText(_ f: CompiledFeature, columns: [String: ScoringColumn]) -> (Int) -> String {
        func cell(_ name: String) -> (Int) -> String {
            switch columns[name] {
            case .numbers(let x)?: return { x[$0].isNaN ? "" : Self.numberText(x[$0]) }
            case .strings(let s)?: return { s[$0] ?? "" }
            case nil: return { _ in "" }
            }
        }
        if f.spec.kind == .group {
            let members = (f.spec.members ?? []).map { ($0.column, cell($0.column)) }
            return { i in members.map { "\($0.0)=\($0.1(i))" }.joined(separator: ", ") }
        }
        return cell(f.spec.column)
    }
}
