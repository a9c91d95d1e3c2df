import ArgumentParser
import CommandSupport
import ScoringCore

/// The score scale and health bands frozen into the model at fit time.
struct ScoringOptions: ParsableArguments {
    @Option(help: "Score scale: probability (0–100 = 100 × retention probability) or points (a credit-style scorecard).")
    var scale: ScoreScale.Kind = .probability

    @Option(help: "Points scale: points that double the odds of staying (default: 20).")
    var pdo: Double?

    @Option(name: .customLong("reference-score"), help: "Points scale: the score at the reference odds (default: 600).")
    var referenceScore: Double?

    @Option(name: .customLong("reference-odds"), help: "Points scale: odds of staying (retained:churned) at the reference score (default: 50).")
    var referenceOdds: Double?

    @Flag(name: .customLong("round-points"), help: "Points scale: round each metric's points to integers.")
    var roundPoints = false

    @Option(name: .customLong("band-cuts"), help: ArgumentHelp("Explicit band cut points on the scale (e.g. 60,80); default: quantiles of the training scores.", valueName: "a,b,…"))
    var bandCuts: String?

    @Option(name: .customLong("band-shares"), help: ArgumentHelp("Shares of training customers per band, best first.", valueName: "s1,s2,…"))
    var bandShares: String = "0.25,0.5,0.25"

    @Option(name: .customLong("band-labels"), help: ArgumentHelp("Band labels, best first (default healthy,at_risk,unhealthy).", valueName: "l1,l2,…"))
    var bandLabels: String?

    @Option(name: .customLong("band-colours"), help: ArgumentHelp("Band colours, best first (default green,yellow,red).", valueName: "c1,c2,…"))
    var bandColours: String?

    func choice() throws -> ScoringChoice {
        var c = ScoringChoice()
        c.scale = scale == .points
            ? .points(pdo: pdo ?? 20, reference: referenceScore ?? 600, odds: referenceOdds ?? 50, round: roundPoints) : .probability
        func numbers(_ s: String, _ flag: String) throws -> [Double] {
            let v = s.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !v.isEmpty, v.allSatisfy({ $0 != nil }) else { throw ValidationError("\(flag) must be comma-separated numbers") }
            return v.compactMap { $0 }
        }
        if let bandCuts { c.cuts = try numbers(bandCuts, "--band-cuts") }
        c.shares = try numbers(bandShares, "--band-shares")
        c.labels = bandLabels.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        c.colours = bandColours.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        if let problem = c.problem { throw ValidationError(problem) }
        return c
    }

    func validate() throws {
        let pointsFlags = [("--pdo", pdo != nil), ("--reference-score", referenceScore != nil), ("--reference-odds", referenceOdds != nil),
                           ("--round-points", roundPoints)].filter(\.1).map(\.0)
        if scale != .points && !pointsFlags.isEmpty {
            throw ValidationError("\(pointsFlags.joined(separator: " and ")) \(pointsFlags.count == 1 ? "goes" : "go") with --scale points (the probability scale has no points): add --scale points, or drop \(pointsFlags.count == 1 ? "it" : "them")")
        }
        _ = try choice()
        guard (pdo ?? 20) > 0, (referenceOdds ?? 50) > 0, (referenceScore ?? 600).isFinite else {
            throw ValidationError("--pdo and --reference-odds must be positive")
        }
    }
}

extension ScoreScale.Kind: ExpressibleByArgument {}
