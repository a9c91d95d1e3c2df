import Foundation
import ScoringCore
import Support

/// Decides from all of a text column's cells whether it is really a category. A metric exported
/// with one stray cell (`-`, `#DIV/0!`, `1,234`) would otherwise turn into hundreds of level terms,
/// and a forgotten `--id` into a weight per customer: both are errors that name the cells and a
/// fix that, followed, reads the column as intended.
public enum ColumnTyping {
    /// How a level's text reads as a number.
    enum Reading: Equatable { case plain, grouped, decimalComma, text }

    static func reading(_ level: String) -> Reading {
        var copy = level
        return copy.withUTF8 { b -> Reading in
            guard let p = b.baseAddress, b.count > 0 else { return .text }
            if FastFloat.parse(p, count: b.count)?.isFinite == true { return .plain }
            if NumberFormat.grouped.value(of: b) != nil { return .grouped }
            if NumberFormat.decimalComma.value(of: b) != nil { return .decimalComma }
            return .text
        }
    }

    /// Cells and first sightings of a text metric's levels (fitted rows' counts, all rows' sightings).
    static func checkNumeric(_ column: String, counts: [String: Int], firstSeen: [String: Sighting], format: NumberFormat,
                             file: String) throws {
        var cells: [Reading: Int] = [:]
        var offending: [(level: String, reading: Reading, count: Int)] = []
        for (level, count) in counts where count > 0 {
            var r = reading(level)
            // Under a declared format, its spellings are numbers like any other.
            if (format == .grouped && r == .grouped) || (format == .decimalComma && r == .decimalComma) { r = .plain }
            cells[r, default: 0] += count
            if r != .plain { offending.append((level, r, count)) }
        }
        let plain = cells[.plain] ?? 0, grouped = cells[.grouped] ?? 0, comma = cells[.decimalComma] ?? 0
        let total = counts.values.reduce(0, +)
        // Mostly numbers: some cells read plainly, and numbers (in the likelier format) are the majority.
        let formatted = max(grouped, comma)
        guard plain > 0 || formatted > 0, (plain + formatted) * 2 > total, !offending.isEmpty else { return }
        offending.sort { (firstSeen[$0.level]?.row ?? .max, $0.level) < (firstSeen[$1.level]?.row ?? .max, $1.level) }
        func shown(_ list: [(level: String, reading: Reading, count: Int)], _ limit: Int) -> String {
            list.prefix(limit).map { o -> String in
                let place = firstSeen[o.level].map { "row \($0.row) (line \($0.line))" } ?? "a row"
                return "'\(Diagnostic.excerpt(o.level))' at \(place)"
            }.joined(separator: ", ") + (list.count > limit ? " and \(list.count - limit) more spellings" : "")
        }
        let strays = offending.filter { $0.reading == .text }
        let formattedCells = offending.filter { $0.reading != .text }
        let strayCount = strays.reduce(0) { $0 + $1.count }
        var parts = ["\(plain) of \(total) cells are plain numbers"]
        if formatted > 0 {
            parts.append("\(formatted) are numbers written with thousands separators, currency or % (\(shown(formattedCells, 1)))")
        }
        if strayCount > 0 { parts.append("\(strayCount) \(strayCount == 1 ? "is not a number" : "are not numbers"): \(shown(strays, 3))") }
        var fixes: [String] = []
        let suggested: NumberFormat = comma > grouped ? .decimalComma : .grouped
        if formatted > 0 && format == .plain {
            fixes.append("--number-format \(suggested.rawValue) (reads thousands separators, currency and % as numbers)")
        }
        if !strays.isEmpty {
            let tokens = strays.map(\.level)
            let listed = tokens.prefix(8).joined(separator: ",")
            // Written with '=': a value starting with '-' would otherwise be taken for an option.
            fixes.append("--na-values=\(shellQuoted(listed)) (reads \(tokens.count == 1 ? "it" : "them") as missing)\(tokens.count > 8 ? " with the other \(tokens.count - 8) spellings" : "")")
        }
        let metric = fixes.isEmpty ? "" : "if it is a metric, pass " + fixes.joined(separator: " and ")
        throw Diagnostic(.data, file: file, column: column,
                        problem: "a numeric-looking column: " + parts.joined(separator: "; "),
                        fix: [metric, "if it is a category, pass --categorical \(shellWord(column)) (or type: categorical in the config)"]
                            .filter { !$0.isEmpty }.joined(separator: "; "))
    }

    /// For `init`: the problem and fix when a text column is really numbers (stray cells, or a
    /// business format), nil when it is a category.
    public static func numericAdvice(_ column: String, counts: [String: Int]) -> (problem: String, fix: String)? {
        do { try checkNumeric(column, counts: counts, firstSeen: [:], format: .plain, file: "") } catch let e as Diagnostic {
            return (e.problem, e.fix)
        } catch { return nil }
        return nil
    }

    /// A category that takes a different value in (almost) every row names the row, not a behaviour.
    static func checkIdentifier(_ column: String, levels: Int, cells: Int, file: String) throws {
        let manyAndDistinct = levels >= 20 && Double(levels) >= 0.9 * Double(cells)
        let huge = levels > DesignBuilder.identifierLevelLimit && levels * 2 > cells
        // Repeated snapshots per customer: many levels, each a few times, under an id's name.
        let namedLikeAnId = levels >= 50 && Double(levels) >= 0.2 * Double(cells) && looksLikeIdName(column)
        guard manyAndDistinct || huge || namedLikeAnId else { return }
        throw Diagnostic(.data, file: file, column: column,
                        problem: "text column with \(levels) distinct values in \(cells) rows looks like an identifier or free text, not a metric",
                        fix: "pass --id \(shellWord(column)) if it names the customer, or --exclude \(shellWord(column))")
    }

    /// customer_id, AccountID, user id, id, …
    public static func looksLikeIdName(_ name: String) -> Bool {
        name.range(of: #"(^|[_ .-])(id|uuid|guid|key)$|^id[_ .-]|[a-z]Id$|ID$|(customer|account|user|client|member)[_ .-]?(no|number|num)$"#,
                   options: .regularExpression) != nil
    }

    /// The `--rare-levels` share that leaves at most `limit` levels while keeping most rows in named
    /// levels; nil when no share does (the column needs grouping, not pooling).
    static func poolingShare(_ counts: [Int], rows: Int, limit: Int) -> Double? {
        let sorted = counts.sorted(by: >)
        guard sorted.count > limit else { return nil }
        // Strictly above the count of the first level that must go.
        let cut = sorted[limit] + 1
        let kept = sorted.prefix(while: { $0 >= cut }).reduce(0, +)
        guard kept * 2 > rows else { return nil }
        let share = Double(cut) / Double(rows)
        // Round up to two significant digits, so the printed share still pools that level.
        var scale = 1.0
        while share * scale < 10 { scale *= 10 }
        return (share * scale).rounded(.up) / scale
    }

    static func shellQuoted(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A column name as a shell word: quoted only when it needs to be (`--id 'Customer ID'`).
    public static func shellWord(_ s: String) -> String {
        s.range(of: #"^[A-Za-z0-9_.,:=/+-]+$"#, options: .regularExpression) != nil ? s : shellQuoted(s)
    }
}

/// Where a value first occurs in the file.
struct Sighting: Sendable, Equatable { var row: Int; var line: Int }
