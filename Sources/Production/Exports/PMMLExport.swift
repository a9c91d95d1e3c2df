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

private enum PMMLExpr {
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

// MARK: - The builder

struct PMMLBuilder {
    let model: ModelArtifact
    let options: ExportOptions
    let schema: InputSchema
    let policy: UnknownLevelPolicy
    let impute: Bool
    let scale: ScoreScale
    let spec: ScoringSpec?

    // The scoring plan's weights.
    let intercept: Double
    let slopes: [Double]
    let indicatorSlopes: [Double]
    let levelSlopes: [[String: Double]]
    let averages: [Double]

    var usedNames: Set<String> = []
    var derived: [PMMLNode] = []
    var transformCache: [String: String] = [:]

    /// The DataField name behind each input column (same as the column).
    var inputColumns: [String] = []
    var numericColumns: Set<String> = []
    var categoricalColumns: Set<String> = []
    /// Columns where a missing value means no score, as in the core.
    var missingRefused: Set<String> = []
    var missingReplacement: [String: String] = [:]
    var invalidReplacement: [String: String] = [:]
    var categoricalValues: [String: [String]] = [:]

    /// Per feature: the field names the model reads.
    enum Prepared {
        /// `value`: the transformed (and, under impute, filled) number; `chain`: transformed, not filled;
        /// `indicator`: the `missing(x)` 0/1 field.
        case numeric(value: String, chain: String, indicator: String?)
        case group(value: String)
        /// `level`: the field holding the level the core scores (pooled levels mapped to `(other)`).
        case categorical(level: String)
    }
    var prepared: [Prepared] = []

    var probabilityName = PMMLExport.probabilityOutput
    var scoreName = PMMLExport.scoreOutput
    var bandName = PMMLExport.bandOutput
    var reasonNames: [String] = []
    let positiveLabel: String
    let otherLabel: String

    init(model: ModelArtifact, options: ExportOptions) throws {
        self.model = model
        self.options = options
        schema = model.schema
        policy = schema.unseenLevels ?? .error
        impute = schema.missingPolicy == .impute
        spec = model.scoring
        scale = model.scoring?.scale ?? .probability

        let plan = ScoringPlan(model: model)
        let weights = plan.featureWeights
        intercept = plan.interceptWeight
        slopes = weights.map(\.slope)
        indicatorSlopes = weights.map(\.indicatorSlope)
        levelSlopes = weights.map(\.levelSlopes)
        averages = weights.map(\.average)

        let target = model.schema.target
        positiveLabel = target.positive
        let negatives = target.negative.filter { $0 != target.positive }
        otherLabel = negatives.count == 1 ? negatives[0] : "not " + target.positive

        if options.scorecard && scale.kind != .points {
            throw Diagnostic(.export, problem: "a PMML Scorecard needs a model on the points scale: points per metric add up to the score, probabilities do not. Fix: refit with --scale points (or export the RegressionModel without --scorecard)")
        }
        try collectInputs()
        usedNames = Set(inputColumns + [schema.target.column])
        probabilityName = unique(PMMLExport.probabilityOutput)
        scoreName = unique(PMMLExport.scoreOutput)
        bandName = unique(PMMLExport.bandOutput)
        if options.scorecard { reasonNames = (1...PMMLExport.reasonCount).map { unique(PMMLExport.reasonOutputPrefix + String($0)) } }
        for j in schema.features.indices { prepared.append(try prepare(j)) }
    }

    /// A field name not yet used in the document.
    mutating func unique(_ base: String) -> String {
        var name = base
        while usedNames.contains(name) { name += "_" }
        usedNames.insert(name)
        return name
    }

    // MARK: inputs and their treatment

    /// The level a categorical value is scored as when it is not one of the levels (`nil`: refused).
    func unseenLevel(_ f: FeatureSpec) -> String? {
        switch policy {
        case .error: return nil
        // The reference level's weight is 0, so "no weight" is the reference level.
        case .reference: return f.reference
        case .other: return (f.levels ?? []).contains(FeatureSpec.otherLevel) ? FeatureSpec.otherLevel : f.reference
        }
    }

    mutating func collectInputs() throws {
        var order: [String] = []
        func add(_ c: String) { if !order.contains(c) { order.append(c) } }
        for f in schema.features {
            switch f.kind {
            case .numeric:
                add(f.column); numericColumns.insert(f.column)
                if !impute { missingRefused.insert(f.column) }
            case .group:
                for m in f.members ?? [] {
                    add(m.column); numericColumns.insert(m.column)
                    if !impute || m.imputeValue == nil { missingRefused.insert(m.column) }
                }
            case .categorical:
                add(f.column); categoricalColumns.insert(f.column)
                let levels = f.levels ?? []
                let pooled = f.pooledLevels ?? []
                var values = levels
                for p in pooled where !values.contains(p) { values.append(p) }
                categoricalValues[f.column] = values
                if impute {
                    let missing = FeatureSpec.missingLevel
                    if values.contains(missing) { missingReplacement[f.column] = missing }
                    else if let level = unseenLevel(f) { missingReplacement[f.column] = level }
                    else { missingRefused.insert(f.column) }
                } else {
                    missingRefused.insert(f.column)
                }
                if let level = unseenLevel(f) { invalidReplacement[f.column] = level }
            }
        }
        let both = numericColumns.intersection(categoricalColumns)
        if let c = both.first {
            throw Diagnostic(.export, problem: "column '\(c)' is used both as a number and as a category; PMML gives a field one type. Fix: refit with the column in one role")
        }
        inputColumns = order
    }

    // MARK: transformations

    mutating func addDerived(_ name: String, optype: String = "continuous", dataType: String = "double", _ expression: PMMLNode) {
        derived.append(PMMLNode("DerivedField", [("name", name), ("optype", optype), ("dataType", dataType)], children: [expression]))
    }

    /// The field holding `column` after `chain`, one DerivedField per step (shared between features).
    mutating func transformed(_ column: String, _ chain: [MetricTransform]) throws -> String {
        var current = column
        var key = column
        for t in chain {
            key += "|\(t.kind.rawValue):\(t.lower.map { "\($0)" } ?? ""):\(t.upper.map { "\($0)" } ?? "")"
            if let known = transformCache[key] { current = known; continue }
            let x = PMMLExpr.field(current)
            let expression: PMMLNode
            switch t.kind {
            case .log1p:
                // The core refuses x ≤ −1: the 2-argument `if` leaves the value missing there.
                expression = PMMLExpr.apply("if", PMMLExpr.apply("greaterThan", x, try PMMLExpr.number(-1)), PMMLExpr.apply("ln1p", x))
            case .asinh:
                // asinh(x) = sign(x) · ln1p(|x| + x²/(1 + √(x²+1))), accurate near 0 and in the tails.
                let square = PMMLExpr.apply("*", x, x)
                let magnitude = PMMLExpr.apply("ln1p", PMMLExpr.apply("+", PMMLExpr.apply("abs", x),
                    PMMLExpr.apply("/", square, PMMLExpr.apply("+", try PMMLExpr.number(1), PMMLExpr.apply("sqrt", PMMLExpr.apply("+", square, try PMMLExpr.number(1)))))))
                expression = PMMLExpr.apply("*", PMMLExpr.apply("if", PMMLExpr.apply("lessThan", x, try PMMLExpr.number(0)), try PMMLExpr.number(-1), try PMMLExpr.number(1)), magnitude)
            case .clip:
                // min/max skip missing arguments in PMML: guard so a missing value stays missing.
                var inner = x
                if let lower = t.lower { inner = PMMLExpr.apply("max", inner, try PMMLExpr.number(lower)) }
                if let upper = t.upper { inner = PMMLExpr.apply("min", inner, try PMMLExpr.number(upper)) }
                expression = PMMLExpr.apply("if", PMMLExpr.apply("isNotMissing", x), inner)
            }
            let name = unique("\(t.kind.rawValue)(\(current))")
            addDerived(name, expression)
            transformCache[key] = name
            current = name
        }
        return current
    }

    mutating func prepare(_ j: Int) throws -> Prepared {
        let f = schema.features[j]
        switch f.kind {
        case .numeric:
            let chain = try transformed(f.column, f.transforms ?? [])
            var value = chain
            var indicator: String? = nil
            if impute {
                // The core: slope·fill (+ the indicator's slope) for a missing value.
                value = unique("imputed(\(chain))")
                addDerived(value, PMMLExpr.apply("if", PMMLExpr.apply("isMissing", PMMLExpr.field(f.column)),
                                             try PMMLExpr.number(f.imputeValue ?? 0), PMMLExpr.field(chain)))
                if let term = f.missingIndicator {
                    let name = unique(term)
                    addDerived(name, PMMLExpr.apply("if", PMMLExpr.apply("isMissing", PMMLExpr.field(f.column)), try PMMLExpr.number(1), try PMMLExpr.number(0)))
                    indicator = name
                }
            }
            return .numeric(value: value, chain: chain, indicator: indicator)
        case .group:
            let members = f.members ?? []
            var scores: [String] = []
            for m in members {
                let chain = try transformed(m.column, m.transforms ?? [])
                var value = chain
                if impute, let fill = m.imputeValue {
                    value = unique("imputed(\(chain))")
                    addDerived(value, PMMLExpr.apply("if", PMMLExpr.apply("isMissing", PMMLExpr.field(m.column)), try PMMLExpr.number(fill), PMMLExpr.field(chain)))
                }
                // sign·(t − mean)/sd, evaluated in the core's order.
                let z = unique("z(\(f.column): \(m.column))")
                addDerived(z, PMMLExpr.apply("/", PMMLExpr.apply("*", try PMMLExpr.number(m.sign), PMMLExpr.apply("-", PMMLExpr.field(value), try PMMLExpr.number(m.mean))),
                                         try PMMLExpr.number(m.standardDeviation)))
                scores.append(z)
            }
            guard var sum = scores.first.map(PMMLExpr.field) else {
                throw Diagnostic(.export, problem: "group '\(f.column)' has no members. Fix: refit the model")
            }
            for s in scores.dropFirst() { sum = PMMLExpr.apply("+", sum, PMMLExpr.field(s)) }
            let name = unique(f.column)
            addDerived(name, PMMLExpr.apply("/", sum, try PMMLExpr.number(Double(max(members.count, 1)))))
            return .group(value: name)
        case .categorical:
            let pooled = f.pooledLevels ?? []
            guard !pooled.isEmpty else { return .categorical(level: f.column) }
            // Pooled rare levels are scored as (other): a lookup table says so.
            var rows: [PMMLNode] = []
            for value in categoricalValues[f.column] ?? [] {
                let level = pooled.contains(value) ? FeatureSpec.otherLevel : value
                rows.append(PMMLNode("row", children: [PMMLNode("from", text: value), PMMLNode("to", text: level)]))
            }
            let name = unique("level(\(f.column))")
            var attributes = [("outputColumn", "to"), ("dataType", "string")]
            if let unseen = unseenLevel(f) { attributes.append(("defaultValue", unseen)) }
            let map = PMMLNode("MapValues", attributes, children: [
                PMMLNode("FieldColumnPair", [("field", f.column), ("column", "from")]),
                PMMLNode("InlineTable", children: rows),
            ])
            addDerived(name, optype: "categorical", dataType: "string", map)
            return .categorical(level: name)
        }
    }

    // MARK: points (the core's Explanation on the points scale)

    /// −factor·(term − average), rounded when the scale rounds.
    func points(_ term: Double, _ j: Int) -> Double {
        let p = -scale.factor * (term - averages[j])
        return scale.rounds ? p.rounded() : p
    }

    var basePoints: Double {
        let b = scale.offset - scale.factor * (intercept + averages.reduce(0, +))
        return scale.rounds ? b.rounded() : b
    }

    /// −factor·((slope·x) − average) as an expression on field `x`.
    func linearPoints(_ x: String, _ j: Int) throws -> PMMLNode {
        let raw = PMMLExpr.apply("*", try PMMLExpr.number(-scale.factor),
                             PMMLExpr.apply("-", PMMLExpr.apply("*", PMMLExpr.field(x), try PMMLExpr.number(slopes[j])), try PMMLExpr.number(averages[j])))
        return scale.rounds ? try PMMLExpr.roundHalfAway(raw) : raw
    }

    /// One feature's points for the current row, as one expression (for the rounded RegressionModel score).
    func pointsExpression(_ j: Int) throws -> PMMLNode {
        let f = schema.features[j]
        switch prepared[j] {
        case .numeric(let value, _, let indicator):
            // slope·value + indicatorSlope·indicator, then −factor·(· − average).
            var term = PMMLExpr.apply("*", PMMLExpr.field(value), try PMMLExpr.number(slopes[j]))
            if let indicator { term = PMMLExpr.apply("+", term, PMMLExpr.apply("*", PMMLExpr.field(indicator), try PMMLExpr.number(indicatorSlopes[j]))) }
            let raw = PMMLExpr.apply("*", try PMMLExpr.number(-scale.factor), PMMLExpr.apply("-", term, try PMMLExpr.number(averages[j])))
            return scale.rounds ? try PMMLExpr.roundHalfAway(raw) : raw
        case .group(let value):
            return try linearPoints(value, j)
        case .categorical(let level):
            var rows: [PMMLNode] = []
            for l in f.levels ?? [] {
                rows.append(PMMLNode("row", children: [PMMLNode("level", text: l), PMMLNode("points", text: try pmmlNumber(points(levelSlopes[j][l] ?? 0, j)))]))
            }
            return PMMLNode("MapValues", [("outputColumn", "points"), ("dataType", "double")], children: [
                PMMLNode("FieldColumnPair", [("field", level), ("column", "level")]),
                PMMLNode("InlineTable", children: rows),
            ])
        }
    }

    // MARK: the document

    mutating func document() throws -> PMMLNode {
        // The model first: it may add derived fields.
        let modelElement = options.scorecard ? try scorecard() : try regressionModel()
        var root = PMMLNode("PMML", [("xmlns", PMMLExport.namespace), ("version", "4.4")])
        root.children.append(try header())
        root.children.append(dataDictionary())
        if !derived.isEmpty {
            root.children.append(PMMLNode("TransformationDictionary", children: derived))
        }
        root.children.append(modelElement)
        return root
    }

    func header() throws -> PMMLNode {
        let checksum = try model.computedChecksum()
        let provenance = try Exporter.provenance(model)
        return PMMLNode("Header", [("copyright", "healthscore"),
                                  ("description", "Customer health score: logistic regression of \(schema.target.column) = \(positiveLabel)"),
                                  ("modelVersion", checksum)], children: [
            PMMLNode("Extension", [("name", "healthscore-checksum"), ("value", checksum)]),
            PMMLNode("Application", [("name", "healthscore"), ("version", model.toolVersion)]),
            PMMLNode("Annotation", text: provenance),
            PMMLNode("Timestamp", text: model.createdAt),
        ])
    }

    func dataDictionary() -> PMMLNode {
        var fields: [PMMLNode] = []
        let missingValues = schema.naValues.map { PMMLNode("Value", [("value", $0), ("property", "missing")]) }
        for c in inputColumns {
            if categoricalColumns.contains(c) {
                let valid = (categoricalValues[c] ?? []).map { PMMLNode("Value", [("value", $0)]) }
                let missing = missingValues.filter { m in !(categoricalValues[c] ?? []).contains(m.attributes[0].1) }
                fields.append(PMMLNode("DataField", [("name", c), ("optype", "categorical"), ("dataType", "string")], children: valid + missing))
            } else {
                fields.append(PMMLNode("DataField", [("name", c), ("optype", "continuous"), ("dataType", "double")]))
            }
        }
        fields.append(PMMLNode("DataField", [("name", schema.target.column), ("optype", "categorical"), ("dataType", "string")], children: [
            PMMLNode("Value", [("value", positiveLabel)]), PMMLNode("Value", [("value", otherLabel)]),
        ]))
        return PMMLNode("DataDictionary", [("numberOfFields", String(fields.count))], children: fields)
    }

    func miningSchema(withTarget: Bool) -> PMMLNode {
        var fields: [PMMLNode] = []
        for c in inputColumns {
            var attributes: [(String, String)] = [("name", c), ("usageType", "active")]
            if missingRefused.contains(c) {
                attributes.append(("missingValueTreatment", "returnInvalid"))
            } else if let replacement = missingReplacement[c] {
                attributes.append(("missingValueReplacement", replacement))
                attributes.append(("missingValueTreatment", "asValue"))
            }
            if categoricalColumns.contains(c) {
                if let replacement = invalidReplacement[c] {
                    attributes.append(("invalidValueTreatment", "asValue"))
                    attributes.append(("invalidValueReplacement", replacement))
                } else {
                    attributes.append(("invalidValueTreatment", "returnInvalid"))
                }
            }
            fields.append(PMMLNode("MiningField", attributes))
        }
        if withTarget { fields.append(PMMLNode("MiningField", [("name", schema.target.column), ("usageType", "target")])) }
        return PMMLNode("MiningSchema", children: fields)
    }

    /// The band of a score, as `ScoringSpec.band`: the first band (best first) whose minimum it reaches.
    func bandExpression(score: String) -> PMMLNode? {
        guard let bands = spec?.bands, !bands.isEmpty else { return nil }
        var end = bands.count
        var expression: PMMLNode? = nil
        if let open = bands.firstIndex(where: { $0.minScore == nil }) {
            end = open
            expression = PMMLExpr.string(bands[open].label)
        }
        for b in bands[..<end].reversed() {
            guard let minimum = b.minScore, let number = try? PMMLExpr.number(minimum) else { continue }
            let test = PMMLExpr.apply("greaterOrEqual", PMMLExpr.field(score), number)
            expression = expression.map { PMMLExpr.apply("if", test, PMMLExpr.string(b.label), $0) } ?? PMMLExpr.apply("if", test, PMMLExpr.string(b.label))
        }
        return expression
    }

    func outputField(_ name: String, feature: String, dataType: String = "double", optype: String = "continuous",
                     extra: [(String, String)] = [], _ expression: PMMLNode? = nil) -> PMMLNode {
        PMMLNode("OutputField", [("name", name), ("optype", optype), ("dataType", dataType), ("feature", feature)] + extra,
                children: expression.map { [$0] } ?? [])
    }

    func modelAttributes(_ kind: String) -> [(String, String)] {
        [("modelName", "healthscore \(model.training.file)"), ("functionName", kind), ("algorithmName", model.fit.method)]
    }

    mutating func regressionModel() throws -> PMMLNode {
        var numeric: [PMMLNode] = []
        var categorical: [PMMLNode] = []
        for (j, f) in schema.features.enumerated() {
            switch prepared[j] {
            case .numeric(let value, _, let indicator):
                numeric.append(PMMLNode("NumericPredictor", [("name", value), ("exponent", "1"), ("coefficient", try pmmlNumber(slopes[j]))]))
                if let indicator {
                    numeric.append(PMMLNode("NumericPredictor", [("name", indicator), ("exponent", "1"), ("coefficient", try pmmlNumber(indicatorSlopes[j]))]))
                }
            case .group(let value):
                numeric.append(PMMLNode("NumericPredictor", [("name", value), ("exponent", "1"), ("coefficient", try pmmlNumber(slopes[j]))]))
            case .categorical(let level):
                // The reference level (and aliased levels) weigh 0: no predictor.
                for l in f.levels ?? [] {
                    let slope = levelSlopes[j][l] ?? 0
                    if slope != 0 {
                        categorical.append(PMMLNode("CategoricalPredictor", [("name", level), ("value", l), ("coefficient", try pmmlNumber(slope))]))
                    }
                }
            }
        }
        let churnTable = PMMLNode("RegressionTable", [("intercept", try pmmlNumber(intercept)), ("targetCategory", positiveLabel)],
                                 children: numeric + categorical)
        let otherTable = PMMLNode("RegressionTable", [("intercept", "0"), ("targetCategory", otherLabel)])

        // Outputs: the probability, the score on the model's scale from it, and the band.
        let p = PMMLExpr.field(probabilityName)
        var outputs = [outputField(probabilityName, feature: "probability", extra: [("value", positiveLabel)])]
        let scoreExpression: PMMLNode
        switch scale.kind {
        case .probability:
            scoreExpression = PMMLExpr.apply("*", try PMMLExpr.number(100), PMMLExpr.apply("-", try PMMLExpr.number(1), p))
        case .points where scale.rounds:
            // Rounded scorecards: the score is the rounded base plus each metric's rounded points,
            // one DerivedField per metric (consumers resolve MapValues there, not inside Output).
            var sum = try PMMLExpr.number(basePoints)
            for (j, f) in schema.features.enumerated() {
                let name = unique("points(\(f.column))")
                addDerived(name, try pointsExpression(j))
                sum = PMMLExpr.apply("+", sum, PMMLExpr.field(name))
            }
            scoreExpression = sum
        case .points:
            // offset − factor·η with η = ln p − ln(1 − p).
            let eta = PMMLExpr.apply("-", PMMLExpr.apply("ln", p), PMMLExpr.apply("ln1p", PMMLExpr.apply("*", try PMMLExpr.number(-1), p)))
            scoreExpression = PMMLExpr.apply("-", try PMMLExpr.number(scale.offset), PMMLExpr.apply("*", try PMMLExpr.number(scale.factor), eta))
        }
        outputs.append(outputField(scoreName, feature: "transformedValue", scoreExpression))
        if let band = bandExpression(score: scoreName) {
            outputs.append(outputField(bandName, feature: "transformedValue", dataType: "string", optype: "categorical", band))
        }

        var children: [PMMLNode] = [
            miningSchema(withTarget: true),
            PMMLNode("Output", children: outputs),
            churnTable, otherTable,
        ]
        if let verification = try verification() { children.append(verification) }
        return PMMLNode("RegressionModel", modelAttributes("classification") + [
            ("modelType", "logisticRegression"), ("targetFieldName", schema.target.column), ("normalizationMethod", "logit"),
        ], children: children)
    }

    mutating func scorecard() throws -> PMMLNode {
        var characteristics: [PMMLNode] = []
        for (j, f) in schema.features.enumerated() {
            var attributes: [PMMLNode] = []
            func attribute(_ predicate: PMMLNode, points: Double) throws -> PMMLNode {
                PMMLNode("Attribute", [("partialScore", try pmmlNumber(points))], children: [predicate])
            }
            switch prepared[j] {
            case .numeric(_, let chain, _):
                if impute {
                    // A missing value scores the fill and the indicator, as the core.
                    let term = slopes[j] * (f.imputeValue ?? 0) + indicatorSlopes[j]
                    attributes.append(try attribute(PMMLNode("SimplePredicate", [("field", f.column), ("operator", "isMissing")]), points: points(term, j)))
                }
                attributes.append(PMMLNode("Attribute", children: [PMMLNode("True"), PMMLNode("ComplexPartialScore", children: [try linearPoints(chain, j)])]))
            case .group(let value):
                attributes.append(PMMLNode("Attribute", children: [PMMLNode("True"), PMMLNode("ComplexPartialScore", children: [try linearPoints(value, j)])]))
            case .categorical:
                // Predicates on the input itself: the MiningField has already put a missing or unseen
                // value on the level the core scores it as.
                let pooled = f.pooledLevels ?? []
                for l in f.levels ?? [] {
                    let score = points(levelSlopes[j][l] ?? 0, j)
                    if l == FeatureSpec.otherLevel && !pooled.isEmpty {
                        attributes.append(try attribute(setPredicate(f.column, [l] + pooled), points: score))
                    } else {
                        attributes.append(try attribute(PMMLNode("SimplePredicate", [("field", f.column), ("operator", "equal"), ("value", l)]), points: score))
                    }
                }
            }
            characteristics.append(PMMLNode("Characteristic", [("name", unique("points(\(f.column))")), ("reasonCode", f.column), ("baselineScore", "0")],
                                           children: attributes))
        }

        let score = PMMLExpr.field(scoreName)
        var outputs = [outputField(scoreName, feature: "predictedValue")]
        if !scale.rounds {
            // p = 1/(1 + exp((score − offset)/factor)): the score is offset − factor·η.
            outputs.append(outputField(probabilityName, feature: "transformedValue",
                PMMLExpr.apply("/", try PMMLExpr.number(1), PMMLExpr.apply("+", try PMMLExpr.number(1), PMMLExpr.apply("exp",
                    PMMLExpr.apply("/", PMMLExpr.apply("-", score, try PMMLExpr.number(scale.offset)), try PMMLExpr.number(scale.factor)))))))
        }
        if let band = bandExpression(score: scoreName) {
            outputs.append(outputField(bandName, feature: "transformedValue", dataType: "string", optype: "categorical", band))
        }
        for (k, name) in reasonNames.enumerated() {
            outputs.append(outputField(name, feature: "reasonCode", dataType: "string", optype: "categorical", extra: [("rank", String(k + 1))]))
        }

        var children: [PMMLNode] = [
            PMMLNode.comment("Reason codes: pointsBelow against baselineScore 0, the average training customer's points for each metric, so a reason is a metric that costs points against the average customer (the core's Explanation.reasons), largest loss first. Metrics at or above the average give no reason; when fewer than \(PMMLExport.reasonCount) metrics cost points, what fills the remaining ranks is up to the consumer."),
            miningSchema(withTarget: false),
            PMMLNode("Output", children: outputs),
            PMMLNode("Characteristics", children: characteristics),
        ]
        if let verification = try verification() { children.append(verification) }
        return PMMLNode("Scorecard", modelAttributes("regression") + [
            ("initialScore", try pmmlNumber(basePoints)), ("useReasonCodes", "true"),
            ("reasonCodeAlgorithm", "pointsBelow"), ("baselineMethod", "other"),
        ], children: children)
    }

    /// `field` is one of `values`: a SimpleSetPredicate, or an `or` of equalities when a value cannot be
    /// written in a PMML Array (quotes, backslashes, line breaks or empty text).
    func setPredicate(_ field: String, _ values: [String]) -> PMMLNode {
        let plain = values.allSatisfy { v in !v.isEmpty && !v.contains(where: { $0 == "\"" || $0 == "\\" || $0.isNewline }) }
        if plain {
            let text = values.map { "\"" + $0 + "\"" }.joined(separator: " ")
            return PMMLNode("SimpleSetPredicate", [("field", field), ("booleanOperator", "isIn")], children: [
                PMMLNode("Array", [("n", String(values.count)), ("type", "string")], text: text),
            ])
        }
        return PMMLNode("CompoundPredicate", [("booleanOperator", "or")], children: values.map {
            PMMLNode("SimplePredicate", [("field", field), ("operator", "equal"), ("value", $0)])
        })
    }

    // MARK: ModelVerification

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
