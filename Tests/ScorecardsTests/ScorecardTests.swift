import Foundation
import Testing
import Scorecards
import ScoringCore
import TestSupport
import Support

@Suite struct ScorecardParsingTests {
    static let full = """
    scorecard: current-cs-scorecard
    description: What the CS team uses today
    scale: {min: 0, max: 100}
    missing: zero
    metrics:
      logins:
        display: Logins per month
        direction: higher
        weight: 0.5
        cap: {min: 0, max: 40}
      support_tickets:
        direction: lower
        tiers:
          - {below: 2, points: 20}
          - {below: 5, points: 10}
          - {points: 0}
      nps:
        tiers:
          - {from: 9, points: 15}
          - {from: 7, below: 9, points: 8}
          - {points: 0}
      plan:
        levels: {enterprise: 10, pro: 5, basic: 0}
        other: 0
      days_late:
        direction: lower
        missing: lowest
        tiers:
          - {below: 1, points: 10}
          - {below: 30, points: 0}
          - {points: -10}
      adoption:
        column: feature_adoption
        note: share of key features in use
        weight: 10
        range: {min: 0, max: 1}
        missing: 2
    """

    @Test func readsEveryField() throws {
        let card = try Scorecard.parse(Self.full, path: "card.yaml")
        #expect(card.name == "current-cs-scorecard")
        #expect(card.description == "What the CS team uses today")
        #expect(card.scale == Scorecard.Scale(min: 0, max: 100))
        #expect(card.missing == .zero)
        #expect(card.metrics.map(\.name) == ["logins", "support_tickets", "nps", "plan", "days_late", "adoption"])

        let expected: [Scorecard.Metric] = [
            .init(name: "logins", display: "Logins per month", direction: .higher,
                  rule: .linear(.init(weight: 0.5, cap: .init(min: 0, max: 40)))),
            .init(name: "support_tickets", direction: .lower,
                  rule: .tiers([.init(below: 2, points: 20), .init(below: 5, points: 10), .init(points: 0)])),
            .init(name: "nps", rule: .tiers([.init(from: 9, points: 15), .init(from: 7, below: 9, points: 8), .init(points: 0)])),
            .init(name: "plan", rule: .levels([.init("enterprise", 10), .init("pro", 5), .init("basic", 0)], other: 0)),
            .init(name: "days_late", direction: .lower, missing: .lowest,
                  rule: .tiers([.init(below: 1, points: 10), .init(below: 30, points: 0), .init(points: -10)])),
            .init(name: "adoption", column: "feature_adoption", missing: .points(2),
                  rule: .linear(.init(weight: 10, range: .init(min: 0, max: 1)))),
        ]
        #expect(card.metrics == expected)
        #expect(card == Scorecard(name: "current-cs-scorecard", description: "What the CS team uses today", metrics: expected))

        #expect(card.requiredColumns == ["logins", "support_tickets", "nps", "plan", "days_late", "feature_adoption"])
        #expect(card.numericColumns == ["logins", "support_tickets", "nps", "days_late", "feature_adoption"])
        #expect(card.categoricalColumns == ["plan"])
        // Per-metric ranges, missing points included: logins [0,40], tickets [0,20], nps [0,15], plan [0,10],
        // days_late [−10,10] (missing → lowest = −10), adoption [0,10] (missing → 2, inside).
        #expect(card.metricRanges == [(0, 40), (0, 20), (0, 15), (0, 10), (-10, 10), (0, 10)].map {
            Scorecard.PointRange(lowest: $0.0, highest: $0.1)
        })
        #expect(card.lowestTotal == -10)
        #expect(card.highestTotal == 105)
    }

    /// Rows scored by hand. Lowest total −10, highest 105, so health = 100 · (total + 10) / 115.
    @Test func handComputedScores() throws {
        let card = try Scorecard.parse(Self.full, path: "card.yaml")
        let columns: [String: ScoringColumn] = [
            "logins": .numbers([100, 30, -4, .nan]),
            "support_tickets": .strings(["0", "3", "7", " 2 "]),
            "nps": .numbers([10, 8, .nan, 9]),
            "plan": .strings(["enterprise", "pro", "trial", "basic"]),
            "days_late": .numbers([0, 12, 45, .nan]),
            "feature_adoption": .numbers([1.0, 0.45, 1.5, .nan]),
            "unused": .strings([nil, nil, nil, nil]),
        ]
        // Row 1: logins 0.5·100 = 50 → cap 40; tickets 0 < 2 → 20; nps 10 ≥ 9 → 15; enterprise 10;
        //        days_late 0 < 1 → 10; adoption 10·1 = 10.            Total 105 → 100·115/115 = 100.
        // Row 2: logins 0.5·30 = 15; tickets 3 → [2,5) → 10; nps 8 → [7,9) → 8; pro 5; days_late 12 → [1,30) → 0;
        //        adoption 10·0.45 = 4.5.                              Total 42.5 → 100·52.5/115 = 45.652173…
        // Row 3: logins 0.5·(−4) = −2 → cap 0; tickets 7 → 0; nps missing → zero 0; 'trial' → other 0;
        //        days_late 45 → −10; adoption 1.5 → range 1 → 10.     Total 0 → 100·10/115 = 8.695652…
        // Row 4: logins missing → 0; tickets 2 (below is exclusive) → 10; nps 9 (from is inclusive) → 15; basic 0;
        //        days_late missing → lowest −10; adoption missing → 2. Total 17 → 100·27/115 = 23.478260…
        let points = try card.points(rowCount: 4, columns: columns)
        #expect(points == [
            [40, 20, 15, 10, 10, 10],
            [15, 10, 8, 5, 0, 4.5],
            [0, 0, 0, 0, -10, 10],
            [0, 10, 15, 0, -10, 2],
        ])
        #expect(try card.totals(rowCount: 4, columns: columns) == [105, 42.5, 0, 17])
        let scores = try card.score(rowCount: 4, columns: columns)
        let expected: [Double] = [100, 100 * 52.5 / 115, 100 * 10 / 115, 100 * 27 / 115]
        for (s, e) in zip(scores, expected) { #expect(abs(s - e) < 1e-12, "\(s) vs \(e)") }
        #expect(abs(scores[1] - 45.65217391304348) < 1e-12)
        #expect(abs(scores[2] - 8.695652173913043) < 1e-12)
        #expect(abs(scores[3] - 23.47826086956522) < 1e-12)
        #expect(try card.risk(rowCount: 4, columns: columns) == scores.map { -$0 })
        #expect(try card.score(rowCount: 0, columns: columns.mapValues { _ in .numbers([]) }) == [])
    }

    @Test func scaleMapsOntoItsRange() throws {
        let text = """
        scorecard: s
        scale: {min: 1, max: 5}
        metrics:
          nps:
            tiers:
              - {below: 7, points: 0}
              - {from: 7, points: 10}
        """
        let card = try Scorecard.parse(text, path: "s.yaml")
        // Totals 0 and 10 map to 1 and 5; a missing value earns zero → 1.
        #expect(try card.score(rowCount: 3, columns: ["nps": .numbers([3, 8, .nan])]) == [1, 5, 1])
    }

    @Test func defaultsAndLevelsFromNumbers() throws {
        let text = """
        scorecard: tiny
        metrics:
          tier: {levels: {1: 0, 2: 10}}
        """
        let card = try Scorecard.parse(text, path: "t.yaml")
        #expect(card.scale == Scorecard.Scale(min: 0, max: 100) && card.missing == .zero && card.description == nil)
        // A numeric column is read as level text: 2.0 → "2".
        #expect(try card.score(rowCount: 3, columns: ["tier": .numbers([1, 2, .nan])]) == [0, 100, 0])
    }

    /// Each mistake names the line to edit and how to fix it.
    @Test(arguments: [
        // unknown keys list the valid ones
        ("scorecard: a\nmetrics:\n  x: {weight: 1, cap: {min: 0, max: 1}}\nscael: {min: 0}\n", 4,
         "unknown setting 'scael'", "scorecard, description, scale, missing, metrics"),
        ("scorecard: a\nmetrics:\n  x:\n    wieght: 1\n", 4, "unknown setting 'wieght' for metric 'x'", "weight, cap, range, tiers"),
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {below: 2, point: 1}\n      - {points: 0}\n", 5,
         "unknown tier setting 'point'", "from, below, points"),
        // overlapping tiers
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {from: 0, below: 5, points: 1}\n      - {from: 3, below: 10, points: 2}\n      - {points: 0}\n", 6,
         "overlaps the tier at line 5", "from: 5"),
        // a tier wholly inside earlier ones
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {below: 5, points: 1}\n      - {below: 3, points: 2}\n      - {points: 0}\n", 6,
         "never matches", "remove it"),
        // tiers out of order
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {from: 5, below: 10, points: 1}\n      - {from: 10, below: 20, points: 2}\n      - {from: 0, below: 5, points: 0}\n      - {points: 0}\n", 7,
         "not in order", "lowest first or highest first"),
        // a gap and no catch-all
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {below: 2, points: 1}\n      - {from: 3, points: 0}\n", 6,
         "values in [2, 3) match no tier", "catch-all"),
        // open bottom end and no catch-all
        ("scorecard: a\nmetrics:\n  nps:\n    tiers:\n      - {from: 9, points: 15}\n      - {from: 7, below: 9, points: 8}\n      - {from: 0, below: 7, points: 0}\n", 7,
         "values below 0 match no tier", "catch-all"),
        // catch-all in the middle, and one that can never match
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {below: 2, points: 1}\n      - {points: 0}\n      - {from: 2, points: 3}\n", 6,
         "is not last", "move the catch-all"),
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {below: 2, points: 1}\n      - {from: 2, points: 3}\n      - {points: 0}\n", 7,
         "catch-all tier of 'x' never matches", "remove the catch-all"),
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {from: 5, below: 5, points: 1}\n      - {points: 0}\n", 5,
         "holds no value", "from smaller than below"),
        // weight and tiers together
        ("scorecard: a\nmetrics:\n  x:\n    weight: 2\n    cap: {min: 0, max: 10}\n    tiers:\n      - {points: 0}\n", 6,
         "has both weight and tiers", "keep one"),
        ("scorecard: a\nmetrics:\n  x:\n    display: X\n", 3, "metric 'x' has no rule", "weight"),
        // empty card
        ("scorecard: a\nmetrics: {}\n", 2, "has no metrics", "add a 'metrics:' mapping"),
        ("scorecard: a\ndescription: b\n", 1, "has no metrics", "metrics"),
        ("description: b\nmetrics:\n  x: {levels: {a: 1, b: 0}}\n", 1, "has no name", "scorecard: NAME"),
        // scale
        ("scorecard: a\nscale: {min: 100, max: 0}\nmetrics:\n  x: {levels: {a: 1, b: 0}}\n", 2,
         "scale min (100) must be below scale max (0)", "{min: 0, max: 100}"),
        // linear weights need bounds
        ("scorecard: a\nmetrics:\n  logins:\n    weight: 0.5\n", 4, "no lower or upper bound", "cap: {min: 0, max: 40}"),
        ("scorecard: a\nmetrics:\n  logins:\n    weight: 0.5\n    cap: {max: 40}\n", 5, "no lower bound", "range:"),
        ("scorecard: a\nmetrics:\n  logins:\n    weight: 0\n    cap: {min: 0, max: 1}\n", 4, "weight 0", "non-zero"),
        ("scorecard: a\nmetrics:\n  logins:\n    weight: 1\n    cap: {min: 5, max: 1}\n", 5, "cap min (5) must be below max (1)", "{min: 0, max: 40}"),
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {below: 1, points: 1}\n      - {points: 0}\n    cap: {min: 0, max: 1}\n", 7,
         "'cap' applies to a linear weight", "remove 'cap'"),
        // duplicate metric names point at the second
        ("scorecard: a\nmetrics:\n  nps:\n    levels: {a: 1, b: 0}\n  logins:\n    levels: {a: 1, b: 0}\n  nps:\n    levels: {a: 2, b: 0}\n", 7,
         "'nps' appears twice in the same mapping (first at line 3)", "one entry per key"),
        // direction that contradicts the table or the weight
        ("scorecard: a\nmetrics:\n  nps:\n    direction: higher\n    tiers:\n      - {from: 9, points: 5}\n      - {from: 7, below: 9, points: 8}\n      - {points: 0}\n", 6,
         "direction: higher, but values of 9 or more get 5 points, fewer than the 8 for values in [7, 9) (line 7)", "direction: lower"),
        ("scorecard: a\nmetrics:\n  late:\n    direction: lower\n    tiers:\n      - {below: 1, points: 0}\n      - {below: 30, points: 5}\n      - {points: 10}\n", 7,
         "direction: lower, but values in [1, 30) get 5 points, more than the 0", "direction: higher"),
        ("scorecard: a\nmetrics:\n  late:\n    direction: lower\n    weight: 2\n    range: {min: 0, max: 60}\n", 4,
         "direction: lower, but weight 2 gives more points to higher values", "make the weight negative"),
        ("scorecard: a\nmetrics:\n  plan:\n    direction: higher\n    levels: {a: 1, b: 0}\n", 4, "direction applies to numeric metrics", "remove it"),
        // values
        ("scorecard: a\nmissing: maybe\nmetrics:\n  x: {levels: {a: 1, b: 0}}\n", 2, "'maybe' is not one of zero, lowest, error", "write one of"),
        ("scorecard: a\nmetrics:\n  x:\n    weight: lots\n    cap: {min: 0, max: 1}\n", 4, "x.weight must be a finite number, not 'lots'", "plain number"),
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {below: .inf, points: 1}\n      - {points: 0}\n", 5, "must be a finite number", "no .inf"),
        ("scorecard: a\nmetrics:\n  x:\n    levels: {a: 1, b: 1}\n", 4, "every level of 'x' gets 1 points", "remove the metric"),
        ("scorecard: a\nmetrics:\n  x:\n    tiers:\n      - {below: 1, points: 2}\n      - {points: 2}\n", 4, "every tier of 'x' gives 2 points", "remove the metric"),
        ("scorecard: a\nmetrics:\n  x:\n    levels: {a: 1, b: 0}\n  y:\n    column: x\n    weight: 1\n    cap: {min: 0, max: 1}\n", 5,
         "reads column 'x' as numbers, but metric 'x' reads it as levels", "not both"),
        // not YAML
        ("scorecard: a\nmetrics:\n  x: [1, 2\n", 4, "not valid YAML", "indentation"),
    ] as [(String, Int, String, String)])
    func mistakesNameTheirLine(_ text: String, _ line: Int, _ problem: String, _ fix: String) {
        do {
            _ = try Scorecard.parse(text, path: "cfg.yaml")
            Issue.record("accepted: \(text)")
        } catch let e as Diagnostic {
            #expect(e.fileLine == line, "\(e)")
            #expect(e.problem.contains(problem), "\(e)")
            #expect(e.fix.contains(fix), "\(e)")
            #expect(e.description.hasPrefix("cfg.yaml:\(line): ") && e.description.contains(". Fix: "), "\(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func errorTextIsPathLineProblemFix() {
        #expect {
            _ = try Scorecard.parse("scorecard: a\nmetrics:\n  x: {levels: {a: 1, b: 0}}\nscael: {min: 0}\n", path: "cards/cs.yaml")
        } throws: {
            "\($0)" == "cards/cs.yaml:4: unknown setting 'scael'. Fix: use one of: scorecard, description, scale, missing, metrics"
        }
        #expect { _ = try Scorecard.parse("", path: "e.yaml") } throws: { "\($0)".contains("e.yaml:1: the scorecard is empty") }
        #expect { _ = try Scorecard.load(path: "/nonexistent/card.yaml") } throws: { "\($0)".contains("cannot read") }
        #expect { _ = try Scorecard.parse("- a\n- b\n", path: "l.yaml") } throws: { "\($0)".contains("must be a mapping") }
    }

    /// Shorthand bounds continue from the previous tier, in either order.
    @Test func tierShorthandAndOrder() throws {
        let text = """
        scorecard: t
        metrics:
          up:
            direction: lower
            tiers:
              - {below: 2, points: 20}
              - {below: 5, points: 10}
              - {from: 5, points: 0}
          down:
            direction: higher
            tiers:
              - {from: 9, points: 15}
              - {from: 7, points: 8}
              - {below: 7, points: 0}
          gappy:
            tiers:
              - {from: 0, below: 1, points: 4}
              - {from: 3, below: 4, points: 1}
              - {points: 2}
        """
        let card = try Scorecard.parse(text, path: "t.yaml")
        let values: [Double] = [-1, 0, 1.999, 2, 4.9, 5, 7, 8.99, 9, 3.5]
        let cols: [String: ScoringColumn] = ["up": .numbers(values), "down": .numbers(values), "gappy": .numbers(values)]
        let p = try card.points(rowCount: values.count, columns: cols)
        #expect(p.map { $0[0] } == [20, 20, 20, 10, 10, 0, 0, 0, 0, 10])
        #expect(p.map { $0[1] } == [0, 0, 0, 0, 0, 0, 8, 8, 15, 0])
        #expect(p.map { $0[2] } == [2, 4, 2, 2, 2, 2, 2, 2, 2, 1])
    }
}

@Suite struct ScorecardScoringErrorTests {
    static let card = try! Scorecard.parse("""
    scorecard: e
    metrics:
      nps:
        tiers:
          - {from: 9, points: 15}
          - {points: 0}
      plan:
        levels: {enterprise: 10, basic: 0}
      csat:
        missing: error
        weight: 2
        range: {min: 1, max: 5}
    """, path: "e.yaml")

    func columns(nps: ScoringColumn = .numbers([9, 3, 10]), plan: ScoringColumn = .strings(["basic", "enterprise", "basic"]),
                 csat: ScoringColumn = .numbers([4, 5, 1])) -> [String: ScoringColumn] {
        ["nps": nps, "plan": plan, "csat": csat]
    }

    func expectError(_ columns: [String: ScoringColumn], rowCount: Int = 3, row: Int?, column: String, _ text: String) {
        do {
            _ = try Self.card.score(rowCount: rowCount, columns: columns)
            Issue.record("scored without error")
        } catch let e as Diagnostic {
            #expect(e.row == row && e.column == column && e.file == nil, "\(e)")
            #expect(e.description.hasPrefix(text), "\(e)")
            #expect(e.description.contains(". Fix: "), "\(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func goodInputScores() throws {
        // Range: nps [0,15], plan [0,10], csat [2,10] (missing: error adds nothing) → totals from 2 to 35.
        // Row 1: 15 + 0 + 8 = 23 → 100·21/33; row 2: 0 + 10 + 10 = 20 → 100·18/33; row 3: 15 + 0 + 2 = 17 → 100·15/33.
        let s = try Self.card.score(rowCount: 3, columns: columns())
        for (a, b) in zip(s, [2100.0 / 33, 1800.0 / 33, 1500.0 / 33]) { #expect(abs(a - b) < 1e-12) }
    }

    @Test func missingColumn() {
        var c = columns(); c["nps"] = nil
        expectError(c, row: nil, column: "nps", "column 'nps': the scorecard's metric 'nps' needs this column and the input has none")
    }

    @Test func notANumber() {
        expectError(columns(nps: .strings(["9", "abc", "1"])), row: 2, column: "nps", "row 2, column 'nps': 'abc' is not a number. Fix: ")
        expectError(columns(nps: .strings(["9", "1", "inf"])), row: 3, column: "nps", "row 3, column 'nps': 'inf' is not a finite number")
    }

    @Test func infiniteValue() {
        expectError(columns(csat: .numbers([4, -.infinity, 1])), row: 2, column: "csat", "row 2, column 'csat': infinite value. Fix: ")
        expectError(columns(nps: .numbers([.infinity, 1, 1])), row: 1, column: "nps", "row 1, column 'nps': infinite value")
    }

    @Test func unlistedLevelWithoutOther() {
        expectError(columns(plan: .strings(["basic", "enterprise", "trial"])), row: 3, column: "plan",
                    "row 3, column 'plan': level 'trial' is not listed in the levels of 'plan' (enterprise, basic) and the metric has no 'other'. Fix: add 'trial' under levels")
    }

    @Test func missingUnderMissingError() {
        expectError(columns(csat: .numbers([4, .nan, 1])), row: 2, column: "csat",
                    "row 2, column 'csat': missing value, and the scorecard says missing: error. Fix: fill the value")
        expectError(columns(csat: .strings(["4", "5", "  "])), row: 3, column: "csat", "row 3, column 'csat': missing value")
    }

    @Test func wrongLengthAndBadCards() {
        expectError(columns(nps: .numbers([9, 3])), row: nil, column: "nps", "column 'nps': the column has 2 values for 3 rows")
        // A card built in code skips the file checks; scoring still refuses it rather than crash or give NaN.
        let unbounded = Scorecard(name: "u", metrics: [.init(name: "x", rule: .linear(.init(weight: 1)))])
        #expect { _ = try unbounded.score(rowCount: 1, columns: ["x": .numbers([1])]) } throws: { "\($0)".contains("unbounded") }
        let gappy = Scorecard(name: "g", metrics: [.init(name: "x", rule: .tiers([.init(below: 1, points: 1), .init(from: 2, points: 0)]))])
        #expect { _ = try gappy.score(rowCount: 1, columns: ["x": .numbers([1.5])]) } throws: {
            "\($0)".hasPrefix("row 1, column 'x': value 1.5 matches none of the tiers")
        }
    }
}

@Suite struct ScorecardPropertyTests {
    /// A random valid card: numeric metrics with a direction (tiers written either way, shorthand or
    /// explicit bounds, linear weights with cap and/or range), plus a levels metric.
    static func randomCard(_ rng: inout SeededRandom) -> String {
        var yaml = "scorecard: random\nmissing: \(["zero", "lowest"][Int(rng.next() % 2)])\nmetrics:\n"
        let metricCount = 2 + Int(rng.next() % 4)
        for k in 0..<metricCount {
            let higher = rng.next() % 2 == 0
            yaml += "  m\(k):\n    direction: \(higher ? "higher" : "lower")\n"
            if rng.next() % 3 == 0 {
                let w = (0.1 + 3 * rng.uniform()) * (higher ? 1 : -1)
                switch rng.next() % 3 {
                case 0: yaml += "    weight: \(w)\n    cap: {min: \(-5 - Int(rng.next() % 5)), max: \(5 + Int(rng.next() % 20))}\n"
                case 1: yaml += "    weight: \(w)\n    range: {min: -3, max: \(1 + Int(rng.next() % 30))}\n"
                default: yaml += "    weight: \(w)\n    range: {min: 0}\n    cap: {\(higher ? "max" : "min"): \(higher ? 12 : -12)}\n"
                }
                continue
            }
            // Thresholds t1 < … < tn, points p0 ≤ … ≤ pn by value for higher (reversed for lower).
            let n = 1 + Int(rng.next() % 4)
            var t: [Int] = []
            var x = -10 + Int(rng.next() % 10)
            for _ in 0..<n { x += 1 + Int(rng.next() % 6); t.append(x) }
            var p = (0...n).map { _ in Int(rng.next() % 21) - 5 }.sorted()
            if p.first == p.last { p[n] += 1 }
            if !higher { p.reverse() }
            yaml += "    tiers:\n"
            let shorthand = rng.next() % 2 == 0
            if rng.next() % 2 == 0 {  // lowest first
                yaml += "      - {below: \(t[0]), points: \(p[0])}\n"
                for i in 1..<n {
                    yaml += shorthand ? "      - {below: \(t[i]), points: \(p[i])}\n" : "      - {from: \(t[i - 1]), below: \(t[i]), points: \(p[i])}\n"
                }
                yaml += shorthand ? "      - {points: \(p[n])}\n" : "      - {from: \(t[n - 1]), points: \(p[n])}\n"
            } else {  // highest first
                yaml += "      - {from: \(t[n - 1]), points: \(p[n])}\n"
                for i in stride(from: n - 1, through: 1, by: -1) {
                    yaml += shorthand ? "      - {from: \(t[i - 1]), points: \(p[i])}\n" : "      - {from: \(t[i - 1]), below: \(t[i]), points: \(p[i])}\n"
                }
                yaml += shorthand ? "      - {points: \(p[0])}\n" : "      - {below: \(t[0]), points: \(p[0])}\n"
            }
        }
        yaml += "  plan:\n    levels: {enterprise: 6, pro: 2, basic: -1}\n    other: 0\n"
        return yaml
    }

    static func randomValue(_ rng: inout SeededRandom) -> Double {
        rng.next() % 10 == 0 ? .nan : (rng.normal() * 12).rounded() / 2
    }

    @Test func scoresStayOnTheScaleAndFollowDirection() throws {
        var rng = SeededRandom(seed: 20_240_601)
        let levels = ["enterprise", "pro", "basic", "trial", nil]
        for _ in 0..<60 {
            let text = Self.randomCard(&rng)
            let card = try Scorecard.parse(text, path: "random.yaml")
            let numeric = card.metrics.filter(\.isNumeric)
            let rows = 80
            var columns: [String: ScoringColumn] = ["plan": .strings((0..<rows).map { _ in levels[Int(rng.next() % 5)] })]
            var values: [String: [Double]] = [:]
            for m in numeric {
                values[m.column] = (0..<rows).map { _ in Self.randomValue(&rng) }
                columns[m.column] = .numbers(values[m.column]!)
            }
            let base = try card.score(rowCount: rows, columns: columns)
            for s in base { #expect(s.isFinite && s >= 0 && s <= 100, "\(s)\n\(text)") }

            // Raise one metric's (present) values: a `higher` metric never lowers the score, a `lower` one never raises it.
            for m in numeric {
                var raised = columns
                raised[m.column] = .numbers(values[m.column]!.map { $0.isNaN ? $0 : $0 + rng.uniform() * 8 })
                let after = try card.score(rowCount: rows, columns: raised)
                for (a, b) in zip(after, base) {
                    #expect(a >= 0 && a <= 100)
                    if m.direction == .higher { #expect(a >= b - 1e-9, "\(m.name): \(b) → \(a)\n\(text)") }
                    else { #expect(a <= b + 1e-9, "\(m.name): \(b) → \(a)\n\(text)") }
                }
            }
            // The extremes of the card map to exactly the ends of the scale.
            #expect(card.health(total: card.lowestTotal) == 0 && card.health(total: card.highestTotal) == 100)
        }
    }

    /// A direction that disagrees with a random tier table is refused at the first tier that breaks it.
    @Test func nonMonotoneTablesAreRefused() throws {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<40 {
            let n = 3 + Int(rng.next() % 3)
            var points = (0..<n).map { Int($0) * 3 }
            let i = 1 + Int(rng.next() % UInt64(n - 1))
            points[i] = points[i - 1] - 1 - Int(rng.next() % 3)   // a dip where values rise
            var yaml = "scorecard: d\nmetrics:\n  x:\n    direction: higher\n    tiers:\n      - {below: 1, points: \(points[0])}\n"
            for k in 1..<(n - 1) { yaml += "      - {below: \(k + 1), points: \(points[k])}\n" }
            yaml += "      - {points: \(points[n - 1])}\n"
            #expect { _ = try Scorecard.parse(yaml, path: "d.yaml") } throws: { e in
                guard let e = e as? Diagnostic, e.code == .scorecard else { return false }
                return e.fileLine == 6 + i && e.problem.hasPrefix("direction: higher, but")
            }
        }
    }
}

@Suite struct ShippedScorecardTests {
    /// A small CSV reader: the bundled file has no quoted fields.
    static func readCSV(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let rows = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (header, rows)
    }

    @Test func scoresTheSimulatedHistory() throws {
        let card = try Scorecard.load(path: Fixtures.dataset("current_scorecard.yaml"))
        #expect(card.name == "current-cs-scorecard")
        #expect(card.metrics.count == 9)
        #expect(card.lowestTotal == -15 && card.highestTotal == 105)
        let (header, rows) = try Self.readCSV(Fixtures.dataset("simulated_history.csv"))
        #expect(rows.count == 14323)
        for row in rows { try #require(row.count == header.count) }
        var columns: [String: ScoringColumn] = [:]
        for column in card.requiredColumns {
            let j = try #require(header.firstIndex(of: column), "\(column) not in the CSV")
            if card.numericColumns.contains(column) {
                columns[column] = .numbers(rows.map { $0[j].isEmpty ? .nan : Double($0[j]) ?? .infinity })
            } else {
                columns[column] = .strings(rows.map { $0[j].isEmpty ? nil : $0[j] })
            }
        }
        #expect(card.categoricalColumns == ["plan"])
        let scores = try card.score(rowCount: rows.count, columns: columns)
        #expect(scores.count == rows.count)
        #expect(scores.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 100 })
        // The same rows read as text score the same.
        let text = card.requiredColumns.reduce(into: [String: ScoringColumn]()) { out, column in
            let j = header.firstIndex(of: column)!
            out[column] = .strings(rows.map { $0[j] })
        }
        #expect(try card.score(rowCount: rows.count, columns: text) == scores)
        // A plausible spread, not a constant: scores cover a good part of the scale.
        #expect(scores.max()! - scores.min()! > 40)
        // Churners score lower on average than the rest (a sanity check, not a tuned target).
        let label = header.firstIndex(of: "churned_next_month")!
        let churned = zip(rows, scores).filter { $0.0[label] == "1" }.map(\.1)
        let stayed = zip(rows, scores).filter { $0.0[label] == "0" }.map(\.1)
        #expect(!churned.isEmpty && churned.reduce(0, +) / Double(churned.count) < stayed.reduce(0, +) / Double(stayed.count))
    }
}
