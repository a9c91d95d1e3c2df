import FitEngine
import Foundation
import Testing
import Support
import Tabular
import TestSupport
@testable import Evaluation

@Suite struct RepeatedFoldsTests {
    static let plan: RepeatedFoldPlan = {
        let h = HistoryFixture.shared
        return try! RepeatedFolds.make(labels: h.labels, customers: h.customers, k: 5, repeats: 3, seed: 42)
    }()

    @Test func customersNeverStraddleTrainAndTest() {
        let h = HistoryFixture.shared
        let plan = Self.plan
        #expect(plan.splits.count == 15)
        #expect(plan.grouped && plan.groups == 2000)
        for split in plan.splits {
            let trainCustomers = Set(split.train.map { h.customers[$0] })
            let testCustomers = Set(split.test.map { h.customers[$0] })
            #expect(trainCustomers.isDisjoint(with: testCustomers), "repeat \(split.repetition) fold \(split.fold)")
            #expect(split.trainCounts.customers == trainCustomers.count && split.testCounts.customers == testCustomers.count)
            #expect(split.trainCounts.customers! + split.testCounts.customers! == 2000)
        }
    }

    @Test func everyRowIsTestedExactlyOncePerRepeat() {
        let n = HistoryFixture.shared.rows
        let plan = Self.plan
        for r in 0..<plan.repeats {
            let splits = plan.splits.filter { $0.repetition == r }
            #expect(splits.map(\.fold) == Array(0..<5))
            var timesTested = [Int](repeating: 0, count: n)
            for split in splits {
                for i in split.test { timesTested[i] += 1 }
                // Train is the complement of test; both ascending.
                let ascending = split.train == split.train.sorted() && split.test == split.test.sorted()
                #expect(ascending)
                #expect(split.train.count + split.test.count == n)
                #expect(Set(split.train).isDisjoint(with: split.test))
                #expect(split.seed == plan.repeatSeeds[r])
            }
            #expect(timesTested.allSatisfy { $0 == 1 }, "repeat \(r)")
            // FitEngine's view of the same repeat.
            let folds = plan.folds(repetition: r)
            let sameFolds = folds.count == 5 && zip(folds, splits).allSatisfy { $0.test == $1.test && $0.train == $1.train }
            #expect(sameFolds)
        }
    }

    @Test func stratificationKeepsTheChurnShare() {
        let h = HistoryFixture.shared
        let plan = Self.plan
        let overall = Double(h.labels.filter { $0 == 1 }.count) / Double(h.rows)
        var churnedCustomers = Set<UInt64>()
        for i in 0..<h.rows where h.labels[i] == 1 { churnedCustomers.insert(h.customers[i]) }
        #expect(plan.churnedGroups == churnedCustomers.count)
        for r in 0..<plan.repeats {
            let splits = plan.splits.filter { $0.repetition == r }
            // Customers are dealt out per stratum: the ever-churned count per fold differs by at most one,
            // and so does the fold size in customers.
            let churnedPerFold = splits.map { s in Set(s.test.map { h.customers[$0] }).intersection(churnedCustomers).count }
            #expect(churnedPerFold.max()! - churnedPerFold.min()! <= 1, "\(churnedPerFold)")
            let customersPerFold = splits.map { $0.testCounts.customers! }
            #expect(customersPerFold.max()! - customersPerFold.min()! <= 1, "\(customersPerFold)")
            // Row-level churn share of each test fold within 10% (relative) of the overall share.
            for s in splits {
                let share = Double(s.testCounts.churners) / Double(s.testCounts.rows)
                #expect(abs(share - overall) <= 0.1 * overall, "repeat \(r) fold \(s.fold): \(share) vs \(overall)")
                #expect(s.testCounts.churners == s.test.filter { h.labels[$0] == 1 }.count)
            }
        }
    }

    @Test func seedsControlTheAssignment() throws {
        let h = HistoryFixture.shared
        let again = try RepeatedFolds.make(labels: h.labels, customers: h.customers, k: 5, repeats: 3, seed: 42)
        let sameSplits = again.splits == Self.plan.splits
        #expect(sameSplits, "the same seed gave different folds")
        #expect(again.repeatSeeds == Self.plan.repeatSeeds)
        let other = try RepeatedFolds.make(labels: h.labels, customers: h.customers, k: 5, repeats: 3, seed: 43)
        #expect(other.repeatSeeds != Self.plan.repeatSeeds)
        let differentSplits = other.splits.map(\.test) != Self.plan.splits.map(\.test)
        #expect(differentSplits, "another seed gave the same folds")
        // Repeats within one plan differ from each other, and a longer plan extends a shorter one.
        let tests = (0..<3).map { r in Self.plan.splits.filter { $0.repetition == r }.map(\.test) }
        let repeatsDiffer = tests[0] != tests[1] && tests[1] != tests[2] && tests[0] != tests[2]
        #expect(repeatsDiffer)
        let single = try RepeatedFolds.make(labels: h.labels, customers: h.customers, k: 5, repeats: 1, seed: 42)
        let prefixMatches = single.splits == Array(Self.plan.splits.prefix(5))
        #expect(prefixMatches)
        #expect(Set(RepeatedFolds.repeatSeeds(seed: 7, count: 100)).count == 100)
        // How many customers change fold between two seeds: most, not a handful.
        func foldOfCustomer(_ p: RepeatedFoldPlan) -> [UInt64: Int] {
            var out: [UInt64: Int] = [:]
            for s in p.splits where s.repetition == 0 { for i in s.test { out[h.customers[i]] = s.fold } }
            return out
        }
        let a = foldOfCustomer(Self.plan), b = foldOfCustomer(other)
        #expect(a.keys.filter { a[$0] != b[$0] }.count > 1000)
    }

    @Test func ungroupedRowsAreStratifiedOnTheLabel() throws {
        let h = HistoryFixture.shared
        let plan = try RepeatedFolds.make(labels: h.labels, customers: nil, k: 4, repeats: 2, seed: 1)
        #expect(!plan.grouped && plan.groups == h.rows)
        let churners = h.labels.filter { $0 == 1 }.count
        for r in 0..<2 {
            let splits = plan.splits.filter { $0.repetition == r }
            let partition = splits.flatMap(\.test).sorted() == Array(0..<h.rows)
            #expect(partition)
            let perFold = splits.map(\.testCounts.churners)
            #expect(perFold.reduce(0, +) == churners && perFold.max()! - perFold.min()! <= 1)
            #expect(splits.allSatisfy { $0.testCounts.customers == nil })
        }
        let json = try JSONEncoder().encode(plan.summary)
        #expect(try JSONDecoder().decode(RepeatedFoldPlanSummary.self, from: json) == plan.summary)
    }

    @Test func badInputs() throws {
        let labels: [Double] = [0, 1, 0, 1, 0, 0]
        let ids: [UInt64] = [1, 1, 2, 2, 3, 3]
        #expect(throws: Diagnostic.self) { _ = try RepeatedFolds.make(labels: labels, customers: ids, k: 1) }
        do {
            _ = try RepeatedFolds.make(labels: labels, customers: ids, k: 4)
            Issue.record("K larger than the number of customers accepted")
        } catch let e as Diagnostic {
            #expect(e.description.contains("customers (3)") && e.description.contains("Fix: use fewer folds, at most 3"))
        }
        #expect(throws: Diagnostic.self) { _ = try RepeatedFolds.make(labels: labels, customers: ids, k: 2, repeats: 0) }
        #expect(throws: Diagnostic.self) { _ = try RepeatedFolds.make(labels: labels, customers: [1, 2], k: 2) }
        do {
            _ = try RepeatedFolds.make(labels: [0, 1, 2, 0, 0, 1], customers: ids, k: 2)
            Issue.record("label 2 accepted")
        } catch let e as Diagnostic {
            #expect(e.row == 3 && e.description.hasPrefix("row 3: the churn label is '2', not 0 or 1"))
        }
        // Customer ids from a CSV: text codes; a missing id names its row.
        var options = CSVOptions()
        options.textColumns = ["customer_id"]
        let table = try CSVReader.read(data: Array("customer_id,x\nA,1\nB,2\n,3\n".utf8), path: "t.csv", options: options)
        do {
            _ = try FoldInputs.customerKeys(table.column(named: "customer_id")!)
            Issue.record("missing id accepted")
        } catch let e as Diagnostic {
            #expect(e.row == 3 && e.column == "customer_id")
        }
        #expect(throws: Diagnostic.self) { _ = try FoldInputs.customerKeys(hashes: [5, 0], column: "customer_id") }
    }

    @Test func smallGroupedExampleByHand() throws {
        // Six customers with 1–3 rows each; two of them churn on their last row.
        let ids: [UInt64] = [10, 10, 10, 20, 30, 30, 40, 50, 50, 50, 60]
        let labels: [Bool] = [false, false, true, false, false, false, false, false, false, true, false]
        let plan = try RepeatedFolds.make(labels: labels, customers: ids, k: 2, repeats: 5, seed: 9)
        #expect(plan.churnedGroups == 2)
        for split in plan.splits {
            let test = Set(split.test.map { ids[$0] }), train = Set(split.train.map { ids[$0] })
            #expect(test.isDisjoint(with: train) && test.union(train).count == 6)
            #expect(split.testCounts.churners == 1)   // one churning customer per fold
            #expect(split.testCounts.customers == 3)
        }
    }
}
