import Foundation
import MetricConfig
import ScoringCore
import Scorecards
import Support

/// The metric configuration as `healthscore fit --config` reads it: any text either parses or is
/// refused with a `Diagnostic` (a line and a fix), never a trap.
enum ConfigFuzz {
    static func run(_ input: [UInt8]) throws {
        guard let text = String(validating: input, as: UTF8.self) else { return }
        do {
            _ = try MetricConfiguration.parse(text, path: "fuzz.yaml")
        } catch let e as Diagnostic where e.code == .config {
        } catch {
            throw PropertyViolation("the configuration parser throws \(error), not a config Diagnostic")
        }
    }
}

/// Scorecard YAML: parses or is refused with a `Diagnostic`; a card it accepts scores a row of
/// ones and a row of missing values without trapping, and its scores stay on the card's scale.
enum ScorecardFuzz {
    static func run(_ input: [UInt8]) throws {
        guard let text = String(validating: input, as: UTF8.self) else { return }
        let card: Scorecard
        do {
            card = try Scorecard.parse(text, path: "fuzz-card.yaml")
        } catch let e as Diagnostic where e.code == .scorecard {
            return
        } catch {
            throw PropertyViolation("the scorecard parser throws \(error), not a scorecard Diagnostic")
        }
        var present: [String: ScoringColumn] = [:]
        var absent: [String: ScoringColumn] = [:]
        for c in card.numericColumns { present[c] = .numbers([1]); absent[c] = .numbers([.nan]) }
        for c in card.categoricalColumns { present[c] = .strings(["x"]); absent[c] = .strings([nil]) }
        for columns in [present, absent] {
            guard let scores = try? card.score(rowCount: 1, columns: columns) else { continue }
            try expect(scores.count == 1, "one row scored into \(scores.count) scores")
            let s = scores[0]
            let lo = min(card.scale.min, card.scale.max), hi = max(card.scale.min, card.scale.max)
            // A little slack for rounding in the mapping onto the scale.
            let slack = 1e-9 * max(1, abs(lo), abs(hi))
            try expect(s.isNaN || (s >= lo - slack && s <= hi + slack), "score \(s) outside the card's scale \(lo)…\(hi)")
        }
    }
}
