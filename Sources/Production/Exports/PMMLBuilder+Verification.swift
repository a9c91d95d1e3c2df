import Foundation
import ScoringCore
import Support

/// PMML's ModelVerification (`export --verify FILE`): sample rows with the core's scores and reasons, which
/// a consumer such as JPMML checks when it loads the file, so one that reads the file differently
/// fails on load instead of scoring silently.
extension PMMLBuilder {
    mutating func verification() throws -> PMMLNode? {
        guard let rows = options.verification else { return nil }
        let n = rows.rowCount
        let scorer = Scorer(model: model)
        let explained: [Explanation]
        do {
            explained = try scorer.explain(rowCount: n, columns: rows.columns, reasons: PMMLExport.reasonCount)
        } catch {
            throw Diagnostic(.export, problem: "the verification rows cannot be scored by the core: \(error)")
        }
        // Column tags in the InlineTable must be XML names.
        var tags: Set<String> = []
        func tag(_ name: String, _ index: Int) -> String {
            var t = isXMLName(name) ? name : "field\(index)"
            while tags.contains(t) { t += "_" }
            tags.insert(t)
            return t
        }
        struct Column { var field: String; var tag: String; var value: (Int) throws -> String?; var precision: Double?; var zero: Double? }
        var columns: [Column] = []
        for (i, c) in inputColumns.enumerated() {
            let cells = rows.columns[c]
            let isCategory = categoricalColumns.contains(c)
            columns.append(Column(field: c, tag: tag(c, i), value: { r in
                switch cells {
                case .numbers(let x)?:
                    if x[r].isNaN { return nil }
                    return isCategory ? PMMLBuilder.numberText(x[r]) : try pmmlNumber(x[r])
                case .strings(let s)?: return s[r]
                case nil: return nil
                }
            }, precision: nil, zero: nil))
        }
        // Precision is relative (PMML: |actual − expected| ≤ precision·|expected|); values under
        // zeroThreshold count as 0.
        let hasProbability = !(options.scorecard && scale.rounds)
        if hasProbability {
            columns.append(Column(field: probabilityName, tag: tag(probabilityName, columns.count), value: { r in try pmmlNumber(explained[r].score.churnProbability) },
                                  precision: 1e-9, zero: 1e-15))
        }
        columns.append(Column(field: scoreName, tag: tag(scoreName, columns.count), value: { r in try pmmlNumber(explained[r].score.healthScore) },
                              precision: 1e-9, zero: 1e-12))
        if bandExpression(score: scoreName) != nil {
            columns.append(Column(field: bandName, tag: tag(bandName, columns.count), value: { r in explained[r].score.band }, precision: nil, zero: nil))
        }
        for (k, name) in reasonNames.enumerated() {
            columns.append(Column(field: name, tag: tag(name, columns.count), value: { r in
                let reasons = explained[r].reasons
                return k < reasons.count ? reasons[k].metric : nil
            }, precision: nil, zero: nil))
        }
        let fields = columns.map { c -> PMMLNode in
            var a = [("field", c.field), ("column", c.tag)]
            if let p = c.precision { a.append(("precision", "\(p)")) }
            if let z = c.zero { a.append(("zeroThreshold", "\(z)")) }
            return PMMLNode("VerificationField", a)
        }
        var table: [PMMLNode] = []
        table.reserveCapacity(n)
        for r in 0..<n {
            var cells: [PMMLNode] = []
            for c in columns {
                // A missing value is an absent cell.
                if let v = try c.value(r) { cells.append(PMMLNode(c.tag, text: v)) }
            }
            table.append(PMMLNode("row", children: cells))
        }
        return PMMLNode("ModelVerification", [("recordCount", String(n)), ("fieldCount", String(columns.count))], children: [
            PMMLNode("VerificationFields", children: fields),
            PMMLNode("InlineTable", children: table),
        ])
    }

    /// The core's text for a number in a categorical column: integral values without ".0".
    static func numberText(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }

    func isXMLName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && CharacterSet.letters.contains(first)) else { return false }
        if s.lowercased().hasPrefix("xml") { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" || $0 == ".") }
    }
}
