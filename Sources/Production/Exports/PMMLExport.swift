import Foundation
import ScoringCore
import Support

/// PMML 4.4 export of a model artifact, reproducing the scoring core (`Scorer`) row for row.
///
/// Document layout (both flavours):
/// - `Header`: Application (healthscore + tool version), the provenance line as an Annotation,
///   the model checksum as `Extension name="healthscore-checksum"`, Timestamp = the fit's creation time.
/// - `DataDictionary`: one DataField per input column (numeric: double/continuous; categorical:
///   string/categorical listing every level seen in training, pooled levels included), plus the label
///   (string/categorical: the churn label and the other category). The model's NA strings are listed
///   as `property="missing"` values so raw text reads as the core reads it.
/// - `TransformationDictionary`: the core's `featureTerm` inputs as DerivedFields: metric transforms
///   (`ln1p`, asinh through `ln1p`/`sqrt`, clip through `min`/`max`), imputed values and `missing(x)`
///   indicators (`if`/`isMissing`), pooled levels mapped to `(other)` (MapValues), and each group's
///   average oriented standard score.
/// - `MiningSchema`: missing values are refused (`missingValueTreatment="returnInvalid"`) where the
///   core refuses them (drop policy), replaced by the `(missing)` level (or the unseen-level policy's
///   level) for categories under impute; unseen category levels follow the stored policy:
///   `error` → `invalidValueTreatment="returnInvalid"`, `other`/`reference` → `asValue` with the level
///   the core scores them as.
///
/// Default: a `RegressionModel` (classification, `normalizationMethod="logit"`): the churn label's
/// RegressionTable carries the intercept and every slope, the other category's table is 0.
/// Outputs: `churn_probability`, `health_score` on the model's scale and `health_band`.
///
/// `options.scorecard`: a `Scorecard` on the points scale with reason codes (`pointsBelow`: a reason is
/// a metric whose points fall below its baseline, the average customer's points for it, which are 0 by
/// construction — exactly the core's "points lost against the average customer"). initialScore is the
/// core's base points; one Characteristic per metric, partial scores = the core's per-metric points.
/// Outputs: `health_score` (predictedValue), `churn_probability` (unrounded scales only),
/// `health_band` and `reason_1`…`reason_3`.
///
/// `options.verification`: a ModelVerification block with the rows' inputs and the core's outputs
/// (probability and score with precision 1e-9, relative; bands and reason codes as text; a missing
/// input is an absent cell).
///
/// Where a PMML consumer can differ from the core:
/// - The RegressionModel's points score is recovered from the probability (η = ln p − ln(1 − p)):
///   ~1e-13 points for ordinary rows, more only when p is within ~1e-9 of 1. The Scorecard sums its
///   points directly. Rounded scales: each metric's points and the base are rounded half away from
///   zero, as the core; a rounded Scorecard has no probability output (the rounded score does not
///   determine it — the RegressionModel export gives it).
/// - Rows the core refuses (missing values under the drop policy, unseen levels under `error`, log1p
///   of a value ≤ −1) get no score: the consumer returns invalid/missing instead of an error.
/// - Categorical fields are strings: pass category codes as text. The core also accepts a number in
///   a categorical column and matches it as text without ".0" (415.0 → "415"); a consumer handed the
///   number 415.0 may compare "415.0" and treat it as an unseen level.
/// - Reason codes: PMML breaks ties in favour of the Characteristic first in the document, i.e. schema
///   order, which is the order the core's sort keeps; PMML4S (pypmml) breaks ties the other way. When fewer
///   metrics cost points than ranks are asked for, the core returns fewer reasons; PMML4S repeats the
///   last one.
public enum PMMLExport {
    public static let namespace = "http://www.dmg.org/PMML-4_4"
    /// How many reason codes the Scorecard returns (as `Scorer.explain`'s default).
    public static let reasonCount = 3

    /// Output field names (suffixed with `_` while they collide with an input column).
    public static let probabilityOutput = "churn_probability"
    public static let scoreOutput = "health_score"
    public static let bandOutput = "health_band"
    public static let reasonOutputPrefix = "reason_"

    public static func render(_ model: ModelArtifact, options: ExportOptions) throws -> String {
        var builder = try PMMLBuilder(model: model, options: options)
        return try builder.document().rendered()
    }
}

// MARK: - A small XML tree with strict escaping

struct PMMLNode {
    var name: String
    var attributes: [(String, String)] = []
    var children: [PMMLNode] = []
    var text: String?
    /// A comment node when set (name ignored).
    var comment: String?

    init(_ name: String, _ attributes: [(String, String)] = [], children: [PMMLNode] = [], text: String? = nil) {
        self.name = name; self.attributes = attributes; self.children = children; self.text = text
    }

    static func comment(_ text: String) -> PMMLNode {
        var node = PMMLNode("")
        // "--" may not occur inside a comment, nor may it end with "-".
        var t = text
        while t.contains("--") { t = t.replacingOccurrences(of: "--", with: "- -") }
        if t.hasSuffix("-") { t += " " }
        node.comment = t
        return node
    }

    func rendered() throws -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        try write(into: &out, indent: 0)
        return out
    }

    func write(into out: inout String, indent: Int) throws {
        let pad = String(repeating: "  ", count: indent)
        if let comment {
            try PMMLNode.checkCharacters(comment)
            out += pad + "<!-- " + comment + " -->\n"
            return
        }
        out += pad + "<" + name
        for (key, value) in attributes { out += " " + key + "=\"" + (try PMMLNode.escapeAttribute(value)) + "\"" }
        if let text {
            out += ">" + (try PMMLNode.escapeText(text)) + "</" + name + ">\n"
        } else if children.isEmpty {
            out += "/>\n"
        } else {
            out += ">\n"
            for child in children { try child.write(into: &out, indent: indent + 1) }
            out += pad + "</" + name + ">\n"
        }
    }

    /// XML 1.0 has no way to write most control characters, even escaped.
    static func checkCharacters(_ s: String) throws {
        for u in s.unicodeScalars {
            let v = u.value
            let ok = v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD) || v >= 0x10000
            if !ok {
                throw Diagnostic(.export, problem: "the value '\(s.debugDescription)' holds the control character U+\(String(v, radix: 16, uppercase: true)), which XML 1.0 cannot carry. Fix: clean the category labels or column names and refit")
            }
        }
    }

    static func escapeText(_ s: String) throws -> String { try escape(s, attribute: false) }
    static func escapeAttribute(_ s: String) throws -> String { try escape(s, attribute: true) }

    private static func escape(_ s: String, attribute: Bool) throws -> String {
        try checkCharacters(s)
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\r": out += "&#13;"
            // Attribute-value normalisation would turn these into spaces: keep them as references.
            case "\"" where attribute: out += "&quot;"
            case "\t" where attribute: out += "&#9;"
            case "\n" where attribute: out += "&#10;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

// MARK: - Expressions

/// Doubles at full precision: Swift prints the shortest text that reads back to the same bits.
func pmmlNumber(_ x: Double) throws -> String {
    guard x.isFinite else { throw Diagnostic(.export, problem: "a model number is not finite (\(x)). Fix: refit the model") }
    return x == 0 ? "0" : "\(x)"
}

enum PMMLExpr {
    static func field(_ name: String) -> PMMLNode { PMMLNode("FieldRef", [("field", name)]) }
    static func number(_ x: Double) throws -> PMMLNode {
        PMMLNode("Constant", [("dataType", "double")], text: try pmmlNumber(x))
    }
    static func string(_ s: String) -> PMMLNode { PMMLNode("Constant", [("dataType", "string")], text: s) }
    static func apply(_ function: String, _ args: PMMLNode...) -> PMMLNode { PMMLNode("Apply", [("function", function)], children: args) }
    static func apply(_ function: String, args: [PMMLNode]) -> PMMLNode { PMMLNode("Apply", [("function", function)], children: args) }

    /// Rounds half away from zero, as Swift's `rounded()`, whatever the consumer does with halves
    /// of negative numbers (Java's Math.round rounds them up).
    static func roundHalfAway(_ x: PMMLNode) throws -> PMMLNode {
        apply("if", apply("lessThan", x, try number(0)),
              apply("*", try number(-1), apply("round", apply("*", try number(-1), x))),
              apply("round", x))
    }
}
