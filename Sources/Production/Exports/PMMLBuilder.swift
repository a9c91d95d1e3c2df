import Foundation
import ScoringCore
import Support

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

}
