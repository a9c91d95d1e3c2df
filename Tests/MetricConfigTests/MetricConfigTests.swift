import Foundation
import Testing
import MetricConfig
import ScoringCore
import Support

@Suite struct MetricConfigParsingTests {
    static let full = """
    version: 1
    target: churned
    positive: "yes"
    id: customer_id
    time: month
    missing: impute
    impute: median
    rare_level_share: 0.02
    unseen_levels: other
    correlation_threshold: 0.95
    unlisted: exclude
    metrics:
      logins:
        display: Logins per month
        healthier_when: higher
        transform: clip+log1p
        group: usage
      active_days: {healthier_when: higher, group: usage}
      days_late:
        healthier_when: lower
        transform: [clip, asinh]
      plan: {type: categorical}
      notes: {role: exclude}
      sentiment:
        transform: none
    """

    @Test func readsEverySetting() throws {
        let c = try MetricConfiguration.parse(Self.full, path: "c.yaml")
        #expect(c.target == "churned" && c.positive == "yes" && c.id == "customer_id" && c.time == "month")
        #expect(c.missing == .impute && c.impute == .median && c.rareLevelShare == 0.02 && c.unseenLevels == .other)
        #expect(c.correlationThreshold == 0.95 && c.unlisted == .exclude)
        #expect(c.metrics.map(\.column) == ["logins", "active_days", "days_late", "plan", "notes", "sentiment"])
        let logins = try #require(c.metric("logins"))
        #expect(logins.display == "Logins per month" && logins.healthierWhen == .higher && logins.transform == [.clip, .log1p])
        #expect(c.metric("days_late")?.transform == [.clip, .asinh])
        #expect(c.metric("sentiment")?.transform == [])
        #expect(c.metric("active_days")?.transform == nil)
        #expect(c.metric("plan")?.type == .categorical && c.metric("notes")?.role == .exclude)
        #expect(c.groups.map(\.name) == ["usage"] && c.groups[0].members.map(\.column) == ["logins", "active_days"])
        #expect(logins.line == 13)
        #expect(MetricConfiguration.Direction.higher.allowedChurnSign == -1 && MetricConfiguration.Direction.lower.allowedChurnSign == 1)
    }

    /// Each mistake names the line to edit and how to fix it.
    @Test(arguments: [
        ("target: y\nmetrics:\n  x:\n    healthier_when: up\n", 4, "'up' is not one of higher, lower, unknown"),
        ("target: y\ntargte: z\n", 2, "unknown setting 'targte'"),
        ("target: y\nmetrics:\n  x:\n    transfrom: log1p\n", 4, "unknown setting 'transfrom' for metric 'x'"),
        ("target: y\nmetrics:\n  x:\n    transform: log\n", 4, "'log' is not a transform"),
        ("target: y\nmetrics:\n  plan: {type: categorical, healthier_when: higher}\n", 3, "healthier_when applies to numeric metrics"),
        ("target: y\nmetrics:\n  a: {group: g}\n", 3, "group 'g' has one member"),
        ("target: y\nmetrics:\n  a: {group: g, healthier_when: higher}\n  b: {group: g}\n", 3, "mixes metrics with and without healthier_when"),
        ("target: y\nmetrics:\n  a:\n  a:\n", 3, "listed twice"),
        ("target: y\nrare_level_share: 2\n", 2, "rare_level_share must be a number in [0.0, 1.0)"),
        ("target: y\nmetrics:\n  a: [1, 2\n", 4, "not valid YAML"),
        ("version: 2\n", 1, "version 2 is not supported"),
    ] as [(String, Int, String)])
    func mistakesNameTheirLine(_ text: String, _ line: Int, _ problem: String) {
        do {
            _ = try MetricConfiguration.parse(text, path: "cfg.yaml")
            Issue.record("accepted: \(text)")
        } catch let e as Diagnostic {
            #expect(e.fileLine == line, "\(e)")
            #expect(e.description.contains(problem), "\(e)")
            #expect(e.description.hasPrefix("cfg.yaml:") && e.description.contains("Fix: "))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func emptyAndMissingFilesAreClearErrors() {
        #expect { _ = try MetricConfiguration.parse("", path: "e.yaml") } throws: { "\($0)".contains("empty") }
        #expect { _ = try MetricConfiguration.load(path: "/nonexistent/c.yaml") } throws: { "\($0)".contains("cannot read") }
        #expect { _ = try MetricConfiguration.parse("- a\n- b\n", path: "l.yaml") } throws: { "\($0)".contains("mapping") }
    }

    /// What `init` writes reads back as the same settings, with quoting where YAML would change a value.
    @Test func starterReadsBack() throws {
        var a = ColumnProfile(name: "logins", role: .metric, type: .numeric, missingShare: 0.1)
        a.mean = 3; a.sd = 2; a.min = 0; a.max = 90; a.skew = 4.2; a.proposedTransform = [.log1p]
        a.churnerMean = 1; a.otherMean = 4
        a.correlated = [("sessions", 0.97)]; a.proposedGroup = "logins_group"
        var b = ColumnProfile(name: "yes", role: .metric, type: .categorical, missingShare: 0)
        b.levels = 3; b.topLevels = [("a", 0.5)]
        let c = ColumnProfile(name: "weird name: x", role: .exclude, type: .categorical, missingShare: 0)
        let text = StarterConfig.render(dataFile: "d.csv", rows: 10, target: "churn", positive: "true", churnRate: 0.2,
                                        id: "customer_id", time: nil, profiles: [a, b, c])
        let config = try MetricConfiguration.parse(text, path: "starter.yaml")
        #expect(config.target == "churn" && config.positive == "true" && config.id == "customer_id")
        #expect(config.missing == .impute)
        #expect(config.metric("logins")?.transform == [.log1p] && config.metric("logins")?.healthierWhen == .unknown)
        #expect(config.metric("logins")?.group == nil)  // proposed groups are comments
        #expect(config.metric("yes")?.type == .categorical)
        #expect(config.metric("weird name: x")?.role == .exclude)
        #expect(text.contains("the data suggest higher"))
    }
}
