import Foundation
import Testing
import MetricConfig
import ScoringCore
import Tabular
import TestSupport
@testable import Training
import Support

/// The metric configuration drives the fit: directions become sign constraints, groups become
/// one averaged term, rare levels are pooled, missing numbers get a median fill — and the scoring
/// core reproduces every one of them from the model file alone.
@Suite struct MetricConfigFitTests {
    static let mlc = Fixtures.dataset("mlc_churn.csv")
    static let history = Fixtures.dataset("simulated_history.csv")

    func fit(_ yaml: String, data: String = mlc) throws -> FitOutcome {
        let config = try MetricConfiguration.parse(yaml, path: "test.yaml")
        var clock = Timings()
        return try FitPipeline.fit(FitSpec(roles: ColumnRoles(config: config, target: nil, path: "test.yaml")), .file(data), timings: &clock)
    }

    /// Scores the training file through the model's JSON and returns the largest probability gap.
    func roundTripGap(_ result: FitOutcome, data: String) throws -> Double {
        let model = try ModelArtifact.decode(try result.model.encoded(), path: "memory")
        let (table, columns) = try ScoringInput.read(path: data, model: model)
        let scores = try Scorer(model: model).score(rowCount: table.rowCount, columns: columns)
        #expect(scores.count == result.fit!.fittedProbabilities.count)
        return zip(scores, result.fit!.fittedProbabilities).map { abs($0.churnProbability - $1) }.max() ?? .nan
    }

    /// `init`'s starter, unedited, fits exactly what the plain command infers.
    @Test func starterConfigFitsLikeNoConfig() throws {
        let starter = try DataProfile.starter(dataPath: Self.mlc, target: "churn", positive: nil, id: nil, time: nil)
        let withConfig = try fit(starter)
        var clock = Timings()
        let plain = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(Self.mlc), timings: &clock)
        #expect(withConfig.model.coefficients.map(\.term) == plain.model.coefficients.map(\.term))
        #expect(withConfig.model.coefficients.map(\.estimate) == plain.model.coefficients.map(\.estimate))
        #expect(starter.contains("# group: total_day_minutes_group"))
    }

    /// healthier_when: higher on a metric whose free weight raises churn → held at 0 and reported.
    @Test func directionsBecomeSignConstraints() throws {
        var clock = Timings()
        let free = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(Self.mlc), timings: &clock).model
        let freeCalls = try #require(free.coefficients.first { $0.term == "number_customer_service_calls" }).estimate
        #expect(freeCalls > 0)
        let result = try fit("""
        target: churn
        metrics:
          number_customer_service_calls: {healthier_when: higher, display: Support calls}
          total_intl_calls: {healthier_when: higher}
        """)
        let calls = try #require(result.model.coefficients.first { $0.term == "number_customer_service_calls" })
        #expect(calls.estimate == 0)
        let warning = try #require(result.model.warnings.first { $0.code == "binding_constraint" })
        #expect(warning.terms == ["number_customer_service_calls"])
        // total_intl_calls already lowers churn: its bound does not bind, its weight stays negative.
        #expect(try #require(result.model.coefficients.first { $0.term == "total_intl_calls" }).estimate < 0)
        let spec = try #require(result.model.schema.features.first { $0.column == "number_customer_service_calls" })
        #expect(spec.displayName == "Support calls" && spec.healthierWhen == "higher")
    }

    /// A group's term is the mean of its members' oriented standard scores; the same fit results
    /// when that column is computed by hand and fitted as an ordinary metric.
    @Test func groupEqualsHandComputedAverage() throws {
        let result = try fit("""
        target: churn
        metrics:
          total_day_minutes: {group: day, healthier_when: higher}
          total_day_calls: {group: day, healthier_when: lower}
        """)
        // The direction (weight ≤ 0) does not bind here: the free weight is negative too.
        #expect(!result.model.warnings.contains { $0.code == "binding_constraint" })
        let spec = try #require(result.model.schema.features.first { $0.column == "day" })
        #expect(spec.kind == .group && spec.members?.map(\.sign) == [1, -1] && spec.healthierWhen == "higher")

        // By hand: z-scores with the 1/n standard deviation, the calls turned.
        let text = try String(contentsOfFile: Self.mlc, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = lines[0].split(separator: ",").map { $0.replacingOccurrences(of: "\"", with: "") }
        let im = header.firstIndex(of: "total_day_minutes")!, ic = header.firstIndex(of: "total_day_calls")!
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        func z(_ k: Int) -> [Double] {
            let x = rows.map { Double($0[k])! }
            let m = x.reduce(0, +) / Double(x.count)
            let sd = (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count)).squareRoot()
            return x.map { ($0 - m) / sd }
        }
        let day = zip(z(im), z(ic)).map { ($0 - $1) / 2 }
        lines[0] = header.enumerated().filter { $0.offset != im && $0.offset != ic }.map(\.element).joined(separator: ",") + ",day"
        for (r, row) in rows.enumerated() {
            lines[r + 1] = row.enumerated().filter { $0.offset != im && $0.offset != ic }.map(\.element).joined(separator: ",") + ",\(day[r])"
        }
        let byHand = try fitCSV(lines.joined(separator: "\n") + "\n", ColumnRoles(target: "churn")).model
        let a = try #require(result.model.coefficients.first { $0.term == "day" })
        let b = try #require(byHand.coefficients.first { $0.term == "day" })
        #expect(abs(a.estimate - b.estimate) <= 1e-9 * abs(b.estimate), "\(a.estimate) vs \(b.estimate)")
        #expect(relativeError(a.standardError!, b.standardError!) <= 1e-7)
        #expect(try roundTripGap(result, data: Self.mlc) <= 1e-12)
    }

    /// Median fill (with indicator), rare-level pooling and the stored unseen-level policy survive
    /// the trip to the scoring core.
    @Test func medianImputePoolingAndUnseenLevels() throws {
        let result = try fit("""
        target: churned_next_month
        id: customer_id
        time: snapshot_date
        missing: impute
        impute: median
        rare_level_share: 0.2
        unseen_levels: other
        correlation_threshold: 0.8
        metrics:
          logins: {group: usage, healthier_when: higher, transform: log1p}
          active_days: {group: usage, healthier_when: higher}
        """, data: Self.history)
        let csat = try #require(result.model.schema.features.first { $0.column == "csat" })
        // The median of the present csat values, computed here independently.
        let text = try String(contentsOfFile: Self.history, encoding: .utf8)
        let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = text.split(separator: "\n")[0].split(separator: ",").map(String.init)
        let k = header.firstIndex(of: "csat")!
        let present = rows.compactMap { Double($0[k]) }.sorted()
        let median = present.count % 2 == 1 ? present[present.count / 2] : (present[present.count / 2 - 1] + present[present.count / 2]) / 2
        #expect(csat.imputation == .median && csat.imputeValue == median && csat.missingIndicator == "missing(csat)")
        #expect(result.model.schema.unseenLevels == .other)
        #expect(try roundTripGap(result, data: Self.history) <= 1e-12)

        // Pooling: on mlc, states below 1.5% of rows share one (other) weight.
        let pooled = try fit("target: churn\nrare_level_share: 0.015\nunseen_levels: other\n")
        let state = try #require(pooled.model.schema.features.first { $0.column == "state" })
        #expect(state.pooledLevels == ["AK", "CA", "IA"])
        #expect(state.levels?.last == FeatureSpec.otherLevel)
        #expect(try roundTripGap(pooled, data: Self.mlc) <= 1e-12)
        let other = try #require(pooled.model.coefficients.first { $0.term == "state[(other)]" }).estimate
        let scorer = Scorer(model: pooled.model)
        let base = try Self.mlcRow(scorer, state: "AL")
        #expect(abs(try Self.mlcRow(scorer, state: "CA") - base - other) < 1e-12)
        #expect(abs(try Self.mlcRow(scorer, state: "Atlantis") - base - other) < 1e-12)  // unseen → (other), as stored
        #expect(throws: Diagnostic.self) { _ = try Self.mlcRow(Scorer(model: pooled.model, unknownLevels: .error), state: "Atlantis") }
        #expect(abs(try Self.mlcRow(Scorer(model: pooled.model, unknownLevels: .reference), state: "Atlantis") - base) < 1e-12)
    }

    /// The linear predictor of one typical mlc customer in the given state.
    static func mlcRow(_ scorer: Scorer, state: String) throws -> Double {
        var columns: [String: ScoringColumn] = [:]
        for f in scorer.model.schema.features {
            switch f.kind {
            case .categorical: columns[f.column] = .strings([f.column == "state" ? state : f.reference])
            default: columns[f.column] = .numbers([f.mean ?? 0])
            }
        }
        return try scorer.linearPredictor(rowCount: 1, columns: columns)[0]
    }

    /// --group-correlated on mlc finds the four minutes/charge pairs (r ≈ 1) and nothing else.
    @Test func correlatedMetricsAreGrouped() throws {
        let result = try fit("target: churn\ncorrelation_threshold: 0.9\n")
        let groups = result.model.schema.features.filter { $0.kind == .group }
        #expect(Set(groups.map(\.column)) == ["total_day_minutes+total_day_charge", "total_eve_minutes+total_eve_charge",
                                              "total_night_minutes+total_night_charge", "total_intl_minutes+total_intl_charge"])
        #expect(groups.allSatisfy { $0.members?.map(\.sign) == [1, 1] })
        let collinear = result.model.warnings.first { $0.code == "collinear" }?.terms ?? []
        #expect(!collinear.contains { $0.contains("minutes") || $0.contains("charge") }, "\(collinear)")
        #expect(try roundTripGap(result, data: Self.mlc) <= 1e-12)
    }

    @Test func badGroupsAreRefusedWithTheColumn() throws {
        #expect { _ = try fit("target: churn\nmetrics:\n  state: {group: g}\n  account_length: {group: g}\n") }
            throws: { "\($0)".contains("'state' is not numeric") }
        #expect { _ = try fit("target: churn\nmetrics:\n  nosuch: {group: g}\n  account_length: {group: g}\n") }
            throws: { "\($0)".contains("no column 'nosuch'") }
        #expect { _ = try fit("target: churn\nmetrics:\n  area_code: {group: state}\n  account_length: {group: state}\n") }
            throws: { "\($0)".contains("also a column") }
    }

    /// The BLAS correlation matrix equals pairwise Pearson computed directly, and the strong pairs
    /// stored in the model are the minutes/charge twins.
    @Test func correlationMatrixMatchesDirectPearson() throws {
        var clock = Timings()
        let result = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(Self.mlc), run: FitRun(correlations: true), timings: &clock)
        let c = try #require(result.correlations)
        let table = try CSVReader.read(path: Self.mlc)
        func column(_ name: String) -> [Double] {
            if case .numeric(let v)? = table.column(named: name)?.values { return v }
            return []
        }
        let names = ["account_length", "total_day_minutes", "total_day_charge", "number_customer_service_calls", "total_intl_calls"]
        for a in names { for b in names {
            let i = c.terms.firstIndex(of: a)!, j = c.terms.firstIndex(of: b)!
            let direct = a == b ? 1 : MetricGrouping.pearson(column(a), column(b))
            #expect(abs(c.matrix[i, j] - direct) <= 1e-12, "\(a) ~ \(b): \(c.matrix[i, j]) vs \(direct)")
        } }
        let strong = try #require(result.model.fit.strongCorrelations)
        #expect(strong.prefix(4).allSatisfy { $0.a.hasSuffix("minutes") && $0.b.hasSuffix("charge") && $0.r > 0.9999 })
        #expect(c.csv().split(separator: "\n").count == c.terms.count + 1)
    }

    /// Directions hold with penalties too: at one λ and along the cross-validated path.
    @Test func directionsHoldForPenalisedFits() throws {
        let config = try MetricConfiguration.parse("""
        target: churn
        metrics:
          number_customer_service_calls: {healthier_when: higher}
          total_intl_calls: {healthier_when: lower}
        """, path: "test.yaml")
        let roles = try ColumnRoles(config: config, target: nil, path: "test.yaml")
        var clock = Timings()
        let outcome = try FitPipeline.fit(FitSpec(roles: roles, estimator: .elasticNet(alpha: 0.5, lambda: 0.001)), .file(Self.mlc), timings: &clock)
        let (model, fit) = (outcome.model, try #require(outcome.penalized))
        #expect(fit.converged && fit.kktViolation <= 1e-12)
        let calls = try #require(model.coefficients.first { $0.term == "number_customer_service_calls" }).estimate
        let intl = try #require(model.coefficients.first { $0.term == "total_intl_calls" }).estimate
        #expect(calls == 0 && intl == 0)
        #expect(Set(model.warnings.first { $0.code == "binding_constraint" }?.terms ?? []) == ["number_customer_service_calls", "total_intl_calls"])
        #expect(model.fit.constraints?.contains("number_customer_service_calls <= 0.0 (binding)") == true)
        #expect(ModelSummary.render(model).contains("Validity: penalised estimates"))

        let cvOutcome = try FitPipeline.fit(FitSpec(roles: roles, estimator: Estimator(penalty: .l2, crossValidation: .init(folds: 3))),
                                            .file(Self.mlc), timings: &clock)
        let (cvModel, cv) = (cvOutcome.model, try #require(cvOutcome.cv))
        let j = try #require(cv.path.first?.termNames.firstIndex(of: "number_customer_service_calls"))
        #expect(cv.path.allSatisfy { $0.coefficients[j] <= 0 })
        #expect(try #require(cvModel.coefficients.first { $0.term == "number_customer_service_calls" }).estimate <= 0)
    }
}
