import Foundation
import Support
import Testing
import ScoringCore

/// Scales, frozen bands, contributions and the tamper check: the scoring core alone.
@Suite struct BandsAndReasonsTests {
    /// A two-metric model by hand: η = −2 + 0.5·logins_z… with known means.
    static func model(scale: ScoreScale = .probability, bands: [HealthBand]? = nil) -> ModelArtifact {
        var schema = InputSchema(target: TargetSpec(column: "y", positive: "1", negative: ["0"]), id: nil, time: nil, excluded: [],
                                 missingPolicy: .drop, naValues: [], features: [
                                    FeatureSpec(column: "tickets", kind: .numeric, mean: 2, standardDeviation: 1),
                                    FeatureSpec(column: "plan", kind: .categorical, levels: ["basic", "pro"], reference: "basic"),
                                 ])
        schema.features[0].displayName = "Support tickets"
        schema.features[1].levelShares = [0.75, 0.25]
        let c = { (t: String, col: String?, l: String?, b: Double) in
            Coefficient(term: t, column: col, level: l, estimate: b, standardError: nil, z: nil, pValue: nil, ciLower: nil, ciUpper: nil, oddsRatio: nil)
        }
        let fit = FitSummary(method: "test", nObservations: 4, nDropped: 0, nImputedCells: 0, nEvents: 2, logLikelihood: 0,
                             nullLogLikelihood: 0, deviance: 0, nullDeviance: 0, aic: 0, bic: 0, pseudoR2: 0, lrStatistic: 0,
                             lrDegreesOfFreedom: 0, lrPValue: 1, rank: 3, iterations: 1, converged: true, convergenceRule: "", history: [])
        var m = ModelArtifact(toolVersion: "t", createdAt: "now", training: TrainingSource(file: "f", sha256: "", rows: 4), schema: schema,
                              coefficients: [c("(Intercept)", nil, nil, -2), c("tickets", "tickets", nil, 0.5), c("plan[pro]", "plan", "pro", -1)],
                              aliased: [], fit: fit, warnings: [], impacts: [])
        m.scoring = ScoringSpec(scale: scale, bands: bands ?? [HealthBand(label: "healthy", colour: "green", minScore: 90),
                                                               HealthBand(label: "at_risk", colour: "yellow", minScore: 80),
                                                               HealthBand(label: "unhealthy", colour: "red", minScore: nil)], bandMethod: "explicit")
        return m
    }

    @Test func pointsAddUpAndMatchTheCreditFormula() throws {
        let scale = ScoreScale.points(pdo: 20, reference: 600, odds: 50)
        let scorer = Scorer(model: Self.model(scale: scale, bands: [HealthBand(label: "a", colour: "green", minScore: 560),
                                                                     HealthBand(label: "b", colour: "red", minScore: nil)]))
        let columns: [String: ScoringColumn] = ["tickets": .numbers([5, 0]), "plan": .strings(["basic", "pro"])]
        let e = try scorer.explain(rowCount: 2, columns: columns)
        let factor = 20 / log(2.0), offset = 600 - factor * log(50.0)
        for (i, eta) in [-2 + 0.5 * 5, -2 + 0.5 * 0 - 1].enumerated() {
            #expect(abs(e[i].score.healthScore - (offset - factor * eta)) < 1e-9)
            let sum = e[i].basePoints! + e[i].contributions.reduce(0) { $0 + $1.points }
            #expect(abs(sum - e[i].score.healthScore) < 1e-9)
        }
        // Row 1: 5 tickets against an average of 2 cost 0.5·3·factor points.
        #expect(abs(e[0].reasons[0].points + 1.5 * factor) < 1e-9)
        #expect(e[0].reasons[0].displayName == "Support tickets" && e[0].reasons[0].value == "5")
        #expect(e[0].score.band == "b" && e[1].score.band == "a")
        // Rounded points: every part an integer, and the score their sum.
        let rounded = Scorer(model: Self.model(scale: .points(round: true)))
        let r = try rounded.explain(rowCount: 2, columns: columns)
        for x in r {
            #expect(x.contributions.allSatisfy { $0.points == $0.points.rounded() } && x.basePoints! == x.basePoints!.rounded())
            #expect(x.score.healthScore == x.basePoints! + x.contributions.reduce(0) { $0 + $1.points })
        }
        #expect(try rounded.score(rowCount: 2, columns: columns).map(\.healthScore) == r.map(\.score.healthScore))
    }

    @Test func probabilityScaleReasonsAreWhatIfAverage() throws {
        let scorer = Scorer(model: Self.model())
        let e = try scorer.explain(rowCount: 1, columns: ["tickets": .numbers([6]), "plan": .strings(["basic"])])[0]
        let eta = -2 + 0.5 * 6.0
        let h = { (x: Double) in 100 / (1 + exp(x)) }  // 100 × retention
        #expect(abs(e.score.healthScore - h(eta)) < 1e-12)
        #expect(abs(e.contributions[0].points - (h(eta) - h(eta - 0.5 * 4))) < 1e-12)
        // plan = basic against an average plan term of −0.25.
        #expect(abs(e.contributions[1].points - (h(eta) - h(eta - 0.25))) < 1e-12)
        #expect(e.reasons.map(\.metric) == ["tickets", "plan"])
    }

    @Test func quantileBandsHoldTheirSharesAndStayFrozen() {
        let scores = (0..<1001).map { Double($0) * 0.1 }
        let spec = ScoringSpec.fromQuantiles(scores, scale: .probability)
        let counts = Dictionary(grouping: scores, by: { spec.band($0)!.label }).mapValues(\.count)
        #expect(abs(counts["healthy"]! - 250) <= 1 && abs(counts["unhealthy"]! - 250) <= 1 && abs(counts["at_risk"]! - 500) <= 1)
        // The same cut points on the points scale keep every customer in their band.
        let points = spec.rescaled(to: .points())
        for s in scores.dropFirst().dropLast() {
            let eta = ScoreScale.probability.eta(score: s)
            #expect(points.band(ScoreScale.points().score(eta: eta))?.label == spec.band(s)?.label)
        }
        var choice = ScoringChoice()
        choice.shares = [0.5, 0.5]
        #expect(choice.problem == nil)
        choice.shares = [0.5, 0.6]
        #expect(choice.problem != nil)
        choice.shares = [0.5, 0.5]
        choice.labels = ["a", "b", "c"]
        #expect(choice.problem != nil)
    }

    @Test func quantileCutsBySelectionEqualTheSortedOnes() {
        // Shuffled scores with long runs of ties (rounded scores) and distinct ones, several share
        // vectors: every cut must be the midpoint of the sorted neighbours, as a full sort gives.
        var state: UInt64 = 0x2545F4914F6CDD1D
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        for n in [2, 3, 17, 1_000, 20_001] {
            for tied in [false, true] {
                let scores = (0..<n).map { _ in tied ? (next() * 20).rounded() : next() * 100 }
                let sorted = scores.sorted(by: >)
                for shares in [[0.25, 0.5, 0.25], [0.1, 0.2, 0.3, 0.4], [0.5, 0.5], [0.05, 0.9, 0.05]] {
                    let spec = ScoringSpec.fromQuantiles(scores, shares: shares, labels: shares.indices.map { "b\($0)" },
                                                         colours: shares.map { _ in "grey" }, scale: .probability)
                    var cumulative = 0.0
                    for (i, share) in shares.enumerated().dropLast() {
                        cumulative += share
                        let k = min(max(Int((cumulative * Double(n)).rounded()), 1), n - 1)
                        #expect(spec.bands[i].minScore == (sorted[k - 1] + sorted[k]) / 2, "n \(n) tied \(tied) shares \(shares) cut \(i)")
                    }
                }
            }
        }
    }

    @Test func editedModelFilesAreRefused() throws {
        let data = try Self.model().encoded()
        #expect(throws: Never.self) { _ = try ModelArtifact.decode(data, path: "m.json") }
        let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"estimate\" : 0.5", with: "\"estimate\" : 5")
        #expect(text != String(decoding: data, as: UTF8.self))
        #expect { _ = try ModelArtifact.decode(Data(text.utf8), path: "m.json") } throws: { "\($0)".contains("checksum mismatch") }
    }
}

/// Writing to a device must not replace it with a plain file (the atomic rename would).
@Suite struct AtomicFileTests {
    @Test func devNullStaysADevice() throws {
        try AtomicFile.write(Data("x".utf8), to: "/dev/null")
        var info = stat()
        #expect(stat("/dev/null", &info) == 0)
        #expect((info.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test func regularFilesAreReplacedWhole() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)").path
        try AtomicFile.write(Data("old".utf8), to: path)
        try AtomicFile.write(Data("new".utf8), to: path)
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self) == "new")
    }
}
