import Foundation
import MetricConfig
import ScoringCore
import Tabular
import Testing
import TestSupport
@testable import Training

/// The fit specification: one value that defines a fit, stored structured in the model (format 2)
/// and read back equal, checked once before any row is read.
@Suite struct FitSpecTests {
    /// A spec with something in every part: a metric configuration (directions, transforms, a group,
    /// display names, an unactionable metric, a reference level), pooling, imputation, a bound,
    /// cluster-robust errors and explicit bands on the points scale.
    static func demanding() throws -> FitSpec {
        let config = try MetricConfiguration.parse("""
        target: churned_next_month
        id: customer_id
        time: snapshot_date
        missing: impute
        impute: median
        rare_level_share: 0.05
        metrics:
          logins: {group: usage, healthier_when: higher, transform: log1p}
          active_days: {group: usage, healthier_when: higher}
          days_late: {healthier_when: lower, transform: clip+log1p, display: Days late}
          plan: {actionable: false, reference: pro}
        """, path: "c.yaml")
        var roles = try ColumnRoles(config: config, target: nil, path: "c.yaml")
        roles.cluster = "customer_id"
        roles.categorical = ["referrals", "high_severity_tickets"]
        var spec = FitSpec(roles: roles, estimator: .maximumLikelihood, bounds: [TermBound(term: "nps", upper: 0)],
                           covariance: .cluster, maxIterations: 60)
        spec.scoring.scale = .points(round: true)
        spec.scoring.cuts = [620, 580]
        return spec
    }

    @Test func theModelStoresItsSpecAndReadsItBackEqual() throws {
        let spec = try Self.demanding()
        var clock = Timings()
        let model = try FitPipeline.fit(spec, .file(Fixtures.dataset("simulated_history.csv")), timings: &clock).model
        #expect(model.formatVersion == 2)
        let bytes = try model.encoded()
        let decoded = try ModelArtifact.decode(bytes, path: "m.json")
        #expect(decoded.spec == spec)
        // Structured, beside the keys other tools read, not a display string.
        let object = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        let stored = try #require(object["spec"] as? [String: Any])
        #expect((stored["estimator"] as? [String: Any])?["penalty"] as? String == "none")
        #expect(stored["covariance"] as? String == "cluster" && stored["maxIterations"] as? Int == 60)
        let roles = try #require(stored["roles"] as? [String: Any])
        #expect(roles["cluster"] as? String == "customer_id" && roles["unactionable"] as? [String] == ["plan"])
        #expect((roles["groups"] as? [[String: Any]])?.first?["name"] as? String == "usage")
        #expect((stored["bounds"] as? [[String: Any]])?.first?["upper"] as? Double == 0)
        #expect(((stored["scoring"] as? [String: Any])?["cuts"] as? [Double]) == [620, 580])
        for key in ["coefficients", "aliased", "fit", "warnings"] { #expect(object[key] != nil, "\(key)") }
        #expect(model.fit.covariance.hasPrefix("cluster:customer_id ("))
    }

    /// A set is written sorted: the same spec built in another order has the same bytes, so the
    /// model's checksum never depends on the process's hashing.
    @Test func setsAreWrittenInOneOrder() throws {
        var a = ColumnRoles(target: "y"), b = ColumnRoles(target: "y")
        let names = (0..<40).map { "c\($0)" }
        for n in names { a.categorical.insert(n); a.unactionable.insert(n) }
        for n in names.reversed() { b.categorical.insert(n); b.unactionable.insert(n) }
        b.onlyColumns = Set(names.shuffled()); a.onlyColumns = Set(names)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(try encoder.encode(FitSpec(roles: a)) == encoder.encode(FitSpec(roles: b)))
        let back = try JSONDecoder().decode(ColumnRoles.self, from: encoder.encode(a))
        #expect(back == a && back.categorical == Set(names))
    }

    /// One check, in the words of the flags that build the spec; a bad spec reads no row.
    @Test(arguments: [
        (Estimator(penalty: .l2), "needs --lambda"),
        (Estimator(penalty: .l1, lambda: 0.1, crossValidation: .init()), "needs --lambda"),
        (Estimator(penalty: .none, alpha: 0.5), "--alpha goes with --penalty elasticnet"),
        (Estimator(penalty: .firth, lambda: 0.1), "--lambda goes with --penalty l2"),
        (Estimator(penalty: .l2, alpha: 0.5, lambda: 0.1), "use --penalty elasticnet --alpha 0.5"),
        (Estimator(penalty: .l1, alpha: 0.3, crossValidation: .init()), "use --penalty elasticnet --alpha 0.3"),
        (Estimator(penalty: .elasticnet, alpha: 1.5, lambda: 0.1), "--alpha must be between 0 and 1"),
        (Estimator(penalty: .l2, crossValidation: .init(folds: 1)), "--folds must be at least 2"),
        (Estimator(penalty: .l2, lambda: -1), "--lambda must be a number ≥ 0"),
    ])
    func anInconsistentEstimatorIsRefused(_ estimator: Estimator, _ words: String) throws {
        var clock = Timings()
        #expect {
            _ = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn"), estimator: estimator), .file("/nonexistent.csv"), timings: &clock)
        } throws: { "\($0)".contains(words) }
    }

    @Test func otherContradictionsAreRefused() {
        var firthBound = FitSpec(roles: ColumnRoles(target: "y"), estimator: .firth)
        firthBound.bounds = [TermBound(term: "x", upper: 0)]
        #expect(firthBound.problem?.contains("not firth") == true)
        let robustRidge = FitSpec(roles: ColumnRoles(target: "y"), estimator: .elasticNet(alpha: 0, lambda: 0.1), covariance: .hc1)
        #expect(robustRidge.problem?.contains("does not apply to penalised fits") == true)
        let clusterWithoutColumn = FitSpec(roles: ColumnRoles(target: "y"), covariance: .cluster)
        #expect(clusterWithoutColumn.problem?.contains("cluster") == true)
        #expect(FitSpec(roles: ColumnRoles(target: "y"), maxIterations: 0).problem?.contains("--max-iterations") == true)
        #expect(FitSpec(roles: ColumnRoles(target: "y")).problem == nil)
    }

    /// The in-memory, streamed and table fits of one spec give one model; the spec is the same in all.
    @Test func everyWayOfRunningAFitTakesTheSameSpec() throws {
        let path = Fixtures.dataset("mlc_churn.csv")
        var spec = FitSpec(roles: ColumnRoles(target: "churn"), bounds: [TermBound(term: "number_customer_service_calls", lower: 0)])
        spec.roles.transforms = ["total_day_minutes": [.log1p]]
        var clock = Timings()
        let memory = try FitPipeline.fit(spec, .file(path), timings: &clock).model
        let streamed = try FitPipeline.fit(spec, .file(path), run: FitRun(streaming: StreamingOptions()), timings: &clock).model
        var csv = CSVOptions()
        csv.textColumns = ["churn"]
        let table = try FitPipeline.fit(spec, .table(try CSVReader.read(path: path, options: csv)), timings: &clock).model
        #expect(memory.spec == spec && streamed.spec == spec && table.spec == spec)
        for other in [streamed, table] {
            for (a, b) in zip(memory.coefficients, other.coefficients) {
                #expect(abs(a.estimate - b.estimate) <= 1e-10 * max(1, abs(a.estimate)), "\(a.term)")
            }
        }
        #expect(memory.training.sha256.count == 64 && table.training.sha256 == "")
    }
}
