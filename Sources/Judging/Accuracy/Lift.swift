/// One group (decile by default) of a lift / cumulative gains table.
public struct LiftGroup: Codable, Sendable, Equatable {
    /// 1 = highest scores.
    public var group: Int
    public var count: Int
    public var churners: Int
    public var churnRate: Double
    /// churnRate / overall churn rate: how many times more churn this group has than a random group.
    public var lift: Double
    /// Share of all churners captured by groups 1…k (the cumulative gains curve).
    public var cumulativeShareOfChurners: Double
    /// Churn rate of groups 1…k over the overall churn rate.
    public var cumulativeLift: Double
    /// Highest and lowest score in the group.
    public var maxScore: Double
    public var minScore: Double
}

/// Lift and cumulative gains by score group: what a retention team gains by working the list from the
/// top instead of at random.
public struct LiftTable: Codable, Sendable, Equatable {
    /// The base rate every lift is relative to.
    public var overallChurnRate: Double
    public var groups: [LiftGroup]
    /// Lift of group 1 (the top decile for 10 groups).
    public var topGroupLift: Double
}

public enum Lift {
    /// Lift table with `groups` equal-count groups (default 10, deciles). Rows are ordered by score
    /// descending, ties broken by original row order (earlier row first), and group k takes sorted
    /// positions ⌊(k−1)·n/g⌋ ..< ⌊k·n/g⌋ — so, unlike the calibration bins, a run of tied scores can be
    /// split between two groups, deterministically, which keeps the groups' sizes equal as a contact
    /// list would be. Needs at least `groups` rows and at least one churner.
    public static func table<L: ChurnLabel>(labels: [L], scores: [Double], groups: Int = 10) throws -> LiftTable {
        guard groups >= 1 else { throw AccuracyError.invalidArgument("lift needs at least 1 group, got \(groups)") }
        let checked = try checkInputs(labels: labels, scores: scores, requirement: .finite, minimumPerClass: 0, metric: "")
        return try table(RankedSample(churned: checked.churned, scores: scores), groups: groups)
    }

    static func table(_ ranked: RankedSample, groups: Int) throws -> LiftTable {
        let n = ranked.count
        guard n >= groups else {
            throw AccuracyError.invalidArgument("lift with \(groups) groups needs at least \(groups) rows, got \(n)")
        }
        guard ranked.churners > 0 else {
            throw AccuracyError.notEnoughOfEachClass(metric: "lift (relative to the overall churn rate)",
                                                    churners: 0, nonChurners: ranked.nonChurners, needed: 1)
        }
        let totalChurners = Double(ranked.churners)
        let nd = Double(n)
        var out: [LiftGroup] = []
        var cumulativeCount = 0, cumulativeChurners = 0
        for k in 0..<groups {
            let from = k * n / groups, to = (k + 1) * n / groups  // positions in descending order
            var churners = 0
            for descending in from..<to where ranked.sortedChurned[n - 1 - descending] { churners += 1 }
            let count = to - from
            cumulativeCount += count
            cumulativeChurners += churners
            out.append(LiftGroup(
                group: k + 1, count: count, churners: churners,
                churnRate: Double(churners) / Double(count),
                lift: Double(churners) * nd / (Double(count) * totalChurners),
                cumulativeShareOfChurners: Double(cumulativeChurners) / totalChurners,
                cumulativeLift: Double(cumulativeChurners) * nd / (Double(cumulativeCount) * totalChurners),
                maxScore: ranked.score(atPosition: n - 1 - from), minScore: ranked.score(atPosition: n - to)))
        }
        return LiftTable(overallChurnRate: totalChurners / nd, groups: out, topGroupLift: out[0].lift)
    }
}
