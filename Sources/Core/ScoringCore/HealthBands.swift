import Foundation

/// One band of the health score, e.g. healthy / green for the top quarter of training customers.
public struct HealthBand: Codable, Sendable, Equatable {
    public var label: String
    public var colour: String
    /// A customer is in the first band (best first) whose `minScore` they reach; nil for the last band.
    public var minScore: Double?
    public init(label: String, colour: String, minScore: Double?) { self.label = label; self.colour = colour; self.minScore = minScore }
}

/// The scale and the bands, frozen with the model so production banding does not move with each batch.
public struct ScoringSpec: Codable, Sendable, Equatable {
    public var scale: ScoreScale
    /// Best band first; at most 12.
    public var bands: [HealthBand]
    /// How the cut points were set, e.g. "training quantiles 0.75, 0.25" or "explicit".
    public var bandMethod: String
    public init(scale: ScoreScale, bands: [HealthBand], bandMethod: String) {
        self.scale = scale; self.bands = bands; self.bandMethod = bandMethod
    }

    public static let maximumBands = 12
    public static let defaultLabels = ["healthy", "at_risk", "unhealthy"]
    public static let defaultColours = ["green", "yellow", "red"]

    /// The band of a score.
    public func band(_ score: Double) -> HealthBand? {
        bands.first { b in b.minScore.map { score >= $0 } ?? true }
    }

    /// Bands from quantiles of the training scores: `shares` of customers per band, best first
    /// (default 25% healthy, 50% at risk, 25% unhealthy). A cut sits midway between the two
    /// neighbouring training scores, so each band holds its share to within ties.
    public static func fromQuantiles(_ scores: [Double], shares: [Double] = [0.25, 0.5, 0.25],
                                     labels: [String] = defaultLabels, colours: [String] = defaultColours,
                                     scale: ScoreScale) -> ScoringSpec {
        precondition(shares.count == labels.count && labels.count == colours.count && !shares.isEmpty, "one share, label and colour per band")
        // Only the order statistics next to each cut are needed: selection, not a full sort.
        var ranked = OrderStatistics(scores)
        let n = scores.count
        var bands: [HealthBand] = []
        var cumulative = 0.0
        for (i, share) in shares.enumerated() {
            cumulative += share
            var cut: Double? = nil
            if i < shares.count - 1, n > 0 {
                let k = min(max(Int((cumulative * Double(n)).rounded()), 1), n - 1)  // rows above the cut
                cut = (ranked.largest(k - 1) + ranked.largest(k)) / 2
            }
            bands.append(HealthBand(label: labels[i], colour: colours[i], minScore: cut))
        }
        let method = "training quantiles: " + shares.map { "\(100 * $0)%" }.joined(separator: " / ")
        return ScoringSpec(scale: scale, bands: bands, bandMethod: method)
    }

    /// Bands at explicit cut points (any order), best first.
    public static func explicit(cuts: [Double], labels: [String]? = nil, colours: [String]? = nil, scale: ScoreScale) -> ScoringSpec {
        let c = cuts.sorted(by: >)
        let count = c.count + 1
        let l = labels ?? (count == 3 ? defaultLabels : (0..<count).map { "band_\($0 + 1)" })
        let k = colours ?? (count == 3 ? defaultColours : (0..<count).map { _ in "grey" })
        let bands = (0..<count).map { i in HealthBand(label: l[i], colour: k[i], minScore: i < c.count ? c[i] : nil) }
        return ScoringSpec(scale: scale, bands: bands, bandMethod: "explicit")
    }

    /// The same cut points expressed on another scale (monotone in η, so a band holds the same customers).
    public func rescaled(to newScale: ScoreScale) -> ScoringSpec {
        var out = self
        out.scale = newScale
        out.bands = bands.map { b in
            var c = b
            c.minScore = b.minScore.map { newScale.score(eta: scale.eta(score: $0)) }
            return c
        }
        return out
    }
}

/// The analyst's choice of scale and bands, turned into a `ScoringSpec` once the training scores exist.
public struct ScoringChoice: Codable, Sendable, Equatable {
    public var scale: ScoreScale = .probability
    /// Explicit cut points on the scale; nil: quantiles of the training scores.
    public var cuts: [Double]?
    /// Band shares, best first, for quantile bands.
    public var shares: [Double] = [0.25, 0.5, 0.25]
    public var labels: [String]?
    public var colours: [String]?
    public init() {}

    public var bandCount: Int { cuts.map { $0.count + 1 } ?? shares.count }

    /// Checks the choice before any work is done; nil when it is usable.
    public var problem: String? {
        let n = bandCount
        if n < 2 || n > ScoringSpec.maximumBands { return "between 2 and \(ScoringSpec.maximumBands) bands are allowed (got \(n))" }
        if let l = labels, l.count != n { return "\(l.count) band labels for \(n) bands" }
        if let c = colours, c.count != n { return "\(c.count) band colours for \(n) bands" }
        if cuts == nil && (shares.contains { !($0 > 0) } || abs(shares.reduce(0, +) - 1) > 1e-9) { return "band shares must be positive and add up to 1" }
        if let c = cuts, c.contains(where: { !$0.isFinite }) || Set(c).count != c.count { return "band cut points must be finite and distinct" }
        if let c = cuts, scale.kind == .probability, let outside = c.first(where: { !(0...100).contains($0) }) {
            let shown = outside == outside.rounded() ? String(Int(outside)) : String(outside)
            return "band cut \(shown) is off the probability scale, whose health score runs from 0 to 100 (every customer would land in one band): give cuts between 0 and 100, or add --scale points for cuts in points"
        }
        return nil
    }

    /// The frozen spec, from the training customers' scores on the chosen scale.
    public func spec(trainingScores: [Double]) -> ScoringSpec {
        let n = bandCount
        let l = labels ?? (n == 3 ? ScoringSpec.defaultLabels : (1...n).map { "band_\($0)" })
        let c = colours ?? (n == 3 ? ScoringSpec.defaultColours : (1...n).map { _ in "grey" })
        if let cuts { return ScoringSpec.explicit(cuts: cuts, labels: l, colours: c, scale: scale) }
        return ScoringSpec.fromQuantiles(trainingScores, shares: shares, labels: l, colours: c, scale: scale)
    }

    /// The choice that reproduces a stored spec on a refit (same scale; same cut points if explicit).
    public init(spec: ScoringSpec) {
        scale = spec.scale
        labels = spec.bands.map(\.label)
        colours = spec.bands.map(\.colour)
        if spec.bandMethod == "explicit" {
            cuts = spec.bands.compactMap(\.minScore)
        } else if let parsed = Self.shares(from: spec.bandMethod), parsed.count == spec.bands.count {
            shares = parsed
        }
    }

    static func shares(from method: String) -> [Double]? {
        guard let colon = method.firstIndex(of: ":") else { return nil }
        let parts = method[method.index(after: colon)...].split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "%", with: "") }
        let values = parts.compactMap(Double.init).map { $0 / 100 }
        return values.count == parts.count ? values : nil
    }
}

/// The r-th largest of some values (r = 0 the largest), as `values.sorted(by: >)[r]` would give,
/// by quickselect: O(n) per query instead of a sort. Queries may come in any order; each one
/// partitions only the unsorted stretch that holds its rank, so nearby ranks cost little more.
struct OrderStatistics {
    private var values: [Double]
    /// Ranks already in their sorted place; everything left of a fixed rank is ≥ it, right ≤.
    private var fixed: [Int] = []

    /// NaN has no rank, so selection cannot reproduce where a sort leaves it: such input is sorted.
    private let presorted: Bool

    init(_ values: [Double]) {
        presorted = values.contains(where: \.isNaN)
        self.values = presorted ? values.sorted(by: >) : values
    }

    mutating func largest(_ r: Int) -> Double {
        precondition(r >= 0 && r < values.count, "rank \(r) outside 0..<\(values.count)")
        if presorted { return values[r] }
        // The stretch between the nearest fixed ranks around r.
        var lo = 0, hi = values.count - 1
        for f in fixed {
            if f == r { return values[r] }
            if f < r { lo = max(lo, f + 1) } else { hi = min(hi, f - 1) }
        }
        values.withUnsafeMutableBufferPointer { a in
            var budget = 2 * (Int.bitWidth - a.count.leadingZeroBitCount) + 8
            while lo < hi {
                if budget == 0 {
                    // Adversarial pivots: finish the stretch with a sort (introselect's fallback).
                    a[lo...hi].sort(by: >)
                    return
                }
                budget -= 1
                // Median of three as the pivot, then a three-way partition: > pivot, == pivot, < pivot,
                // so runs of ties (common in rounded scores) end the search at once.
                let mid = lo + (hi - lo) / 2
                let x = a[lo], y = a[mid], z = a[hi]
                let pivot = max(min(x, y), min(max(x, y), z))
                var lt = lo, i = lo, gt = hi
                while i <= gt {
                    if a[i] > pivot { a.swapAt(lt, i); lt += 1; i += 1 } else if a[i] < pivot { a.swapAt(i, gt); gt -= 1 } else { i += 1 }
                }
                if r < lt { hi = lt - 1 } else if r > gt { lo = gt + 1 } else { return }
            }
        }
        fixed.append(r)
        return values[r]
    }
}
