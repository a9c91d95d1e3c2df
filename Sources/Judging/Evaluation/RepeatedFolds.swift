import FitEngine
import Foundation
import Support

// Repeated, stratified, customer-grouped K-fold cross-validation.
//
// Every customer's rows go to one fold, so a model is never scored on a customer it was fitted on.
// Customers are stratified by whether they ever churned: FitEngine's `CVFolds.make`, run on one
// "row" per customer with that flag as the response, deals each stratum out evenly over the folds
// in a seeded random order. Each repeat uses its own seed, derived from the one seed given.

/// One (repeat, fold) split. Row indices are 0-based positions in the input, ascending.
public struct RepeatedFold: Sendable, Equatable {
    /// 0-based.
    public var repetition: Int
    /// 0-based.
    public var fold: Int
    /// The seed this repeat's assignment was drawn with.
    public var seed: UInt64
    public var train: [Int]
    public var test: [Int]
    public var trainCounts: FoldCounts
    public var testCounts: FoldCounts

    /// The split in FitEngine's form.
    public var split: CVFold { CVFold(train: train, test: test) }

    /// JSON form, numbered from 1.
    public var summary: RepeatedFoldSummary {
        RepeatedFoldSummary(repetition: repetition + 1, fold: fold + 1, seed: seed, train: trainCounts, test: testCounts)
    }
}

public struct RepeatedFoldSummary: Codable, Sendable, Equatable {
    /// 1-based.
    public var repetition: Int
    /// 1-based.
    public var fold: Int
    public var seed: UInt64
    public var train: FoldCounts
    public var test: FoldCounts
}

public struct RepeatedFoldPlan: Sendable {
    public var k: Int
    public var repeats: Int
    public var seed: UInt64
    /// One per repeat, derived from `seed`.
    public var repeatSeeds: [UInt64]
    /// Repeat-major: all folds of repeat 0, then repeat 1, …
    public var splits: [RepeatedFold]
    /// Whether rows were grouped by customer (ids given); otherwise every row is its own group.
    public var grouped: Bool
    /// Customers (rows when not grouped), and how many of them ever churned.
    public var groups: Int
    public var churnedGroups: Int

    /// The K folds of one repeat (0-based), in FitEngine's form.
    public func folds(repetition r: Int) -> [CVFold] {
        splits[(r * k)..<((r + 1) * k)].map(\.split)
    }

    public var summary: RepeatedFoldPlanSummary {
        RepeatedFoldPlanSummary(k: k, repeats: repeats, seed: seed, grouped: grouped, groups: groups,
                                churnedGroups: churnedGroups, splits: splits.map(\.summary))
    }
}

public struct RepeatedFoldPlanSummary: Codable, Sendable, Equatable {
    public var k: Int
    public var repeats: Int
    public var seed: UInt64
    public var grouped: Bool
    public var groups: Int
    public var churnedGroups: Int
    public var splits: [RepeatedFoldSummary]
}

public enum RepeatedFolds {
    /// `labels` are 0/1 (1 = churned), as `Design.response`.
    public static func make(labels: [Double], customers: [UInt64]?, k: Int = 5, repeats: Int = 1,
                            seed: UInt64 = 1) throws -> RepeatedFoldPlan {
        try make(labels: FoldInputs.churnLabels(labels), customers: customers, k: k, repeats: repeats, seed: seed)
    }

    /// K folds, `repeats` times. With `customers` (one key per row) every customer's rows share a fold
    /// and customers are stratified by whether any of their rows churned; without, rows are split
    /// individually, stratified on the label. Within each repeat every row is tested exactly once.
    /// Deterministic for a seed: the result does not depend on the process or the platform.
    public static func make(labels: [Bool], customers: [UInt64]?, k: Int = 5, repeats: Int = 1,
                            seed: UInt64 = 1) throws -> RepeatedFoldPlan {
        let n = labels.count
        if let customers { try FoldInputs.checkCount(customers.count, rows: n, what: "customer ids") }
        guard repeats >= 1 else {
            throw Diagnostic(.time, problem: "the number of repeats is \(repeats)", fix: "repeat the cross-validation at least once")
        }
        let (groupOf, groupCount) = customers.map { FoldInputs.denseCodes($0) } ?? (Array(0..<n), n)
        guard k >= 2 && k <= groupCount else {
            let unit = customers == nil ? "rows" : "customers"
            throw Diagnostic(.time, problem: "\(k)-fold cross-validation needs 2 ≤ K ≤ the number of \(unit) (\(groupCount))",
                                 fix: k < 2 ? "use at least 2 folds" : "use fewer folds, at most \(groupCount)")
        }
        var churned = [Double](repeating: 0, count: groupCount)
        for i in 0..<n where labels[i] { churned[groupOf[i]] = 1 }
        let churnedGroups = Int(churned.reduce(0, +))

        let seeds = repeatSeeds(seed: seed, count: repeats)
        var counter = PartCounter(labels: labels, customerCodes: customers == nil ? nil : groupOf, customerCount: groupCount)
        var splits: [RepeatedFold] = []
        splits.reserveCapacity(k * repeats)
        var foldOfGroup = [Int](repeating: 0, count: groupCount)
        for (r, s) in seeds.enumerated() {
            let groupFolds = CVFolds.make(rows: groupCount, k: k, groups: nil, response: churned, seed: s)
            for (f, fold) in groupFolds.enumerated() {
                for g in fold.test { foldOfGroup[g] = f }
            }
            var tests = [[Int]](repeating: [], count: k)
            for i in 0..<n { tests[foldOfGroup[groupOf[i]]].append(i) }
            for f in 0..<k {
                var train: [Int] = []
                train.reserveCapacity(n - tests[f].count)
                for i in 0..<n where foldOfGroup[groupOf[i]] != f { train.append(i) }
                splits.append(RepeatedFold(repetition: r, fold: f, seed: s, train: train, test: tests[f],
                                           trainCounts: counter.count(train), testCounts: counter.count(tests[f])))
            }
        }
        return RepeatedFoldPlan(k: k, repeats: repeats, seed: seed, repeatSeeds: seeds, splits: splits,
                                grouped: customers != nil, groups: groupCount, churnedGroups: churnedGroups)
    }

    /// The per-repeat seeds: the first `count` outputs of SplitMix64 started at `seed`. Distinct
    /// repeats get unrelated shuffles; the same seed always gives the same list.
    public static func repeatSeeds(seed: UInt64, count: Int) -> [UInt64] {
        var generator = SplitMix64(seed: seed)
        return (0..<max(count, 0)).map { _ in generator.next() }
    }
}
