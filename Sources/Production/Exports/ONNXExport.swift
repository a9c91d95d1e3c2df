import Foundation
import ScoringCore
import Support

/// # The ONNX export
///
/// `ONNXExport.render` turns a model artifact into an ONNX model (IR version 7; operator sets
/// `""` 13 and `ai.onnx.ml` 2; checked by `onnx.checker.check_model`, run by onnxruntime) that
/// scores rows exactly as `Scorer` does. The protobuf bytes are written by hand
/// (`ONNXProtobuf.swift`); the graph is assembled with `ONNXGraphBuilder.swift`.
///
/// Operator sets: `""` 13 (Clip with tensor bounds, IsNaN, Where, GreaterOrEqual, ArgMax, Round,
/// Sum, MatMul, Cast, Concat, Exp, Log, Sqrt, Sign, Abs); `ai.onnx.ml` 2 (LabelEncoder-2, which maps
/// strings to floats and int64 to strings; LinearClassifier-1). IR version 7 is opset 13's.
///
/// ## Inputs (one per input column the model needs, `Scorer.requiredColumns`, batch dimension `N`)
///
/// * numeric column (a numeric feature, or a member of a group): `tensor(double)[N,1]`; missing = NaN.
/// * categorical column: `tensor(string)[N,1]`; missing = the empty string `""`. Numbers in a
///   categorical column are given as text the way the core prints them: an integral value without a
///   decimal point (`"415"`, not `"415.0"`), otherwise Swift's shortest form (`"2.5"`).
///
/// ## Graph
///
/// ```
/// numeric x ──► [Add 1 → Log]  log1p             ┐ the stored chain, in order
///               [Abs, Mul, Add 1, Sqrt, Add, Log, Sign, Mul]  asinh (double: ORT has no double Asinh)
///               [Clip(lower, upper)]  clip        ┘
///           ──► Where(IsNaN(x), fill, t(x))       fill = imputeValue (impute) or NaN (drop)
///           ──► feature column t                  weight β(column)
///           ──► Cast(IsNaN(x)) indicator          weight β(missing(column))   (impute, when fitted)
/// group     ──► per member m: Div(Sub(t_m(x_m), mean_m), sign_m·sd_m) → Sum → Div k   weight β(group)
/// category  ──► ai.onnx.ml LabelEncoder(keys_strings → values_floats) ×2 (hi, lo) → Cast double → Add  weight 1.0
///                 key = each training level → its slope (reference and aliased levels: 0),
///                       each pooled level → the (other) slope,
///                       ""               → the (missing) lookup under impute, NaN under drop,
///                 default_float         → the unseen-level policy: reference 0, other the (other)
///                                         slope (0 without a pool), error NaN.
///
/// Concat(axis 1) ──► features [N,k] ──► MatMul W[k,1] + intercept ──► eta [N,1] (double)
/// eta ──► Cast float ──► ai.onnx.ml LinearClassifier(coefficients [1], intercepts [0],
///                        classlabels_ints [0, 1], post_transform LOGISTIC) ──► label, probabilities
/// eta ──► e = Exp(−|η|), s = 1/(1+e), Where(η ≥ 0, s, e·s) ──► churn_probability (and 1 − p likewise)
/// eta ──► score on the model's scale ──► health_score ──► GreaterOrEqual(cuts) → ArgMax ──► band_index
///                                                                  ──► LabelEncoder ──► band
/// ```
///
/// ## Outputs
///
/// * `label` `int64[N]`: 1 = churn (the target's positive value), 0 = retained; 1 exactly when η > 0.
/// * `probabilities` `float[N,2]`: [P(retained), P(churn)], from the LinearClassifier.
/// * `eta` `double[N,1]`: the linear predictor (log-odds of churn), as `Scorer.linearPredictor`.
/// * `churn_probability` `double[N,1]`: σ(η) in double precision, by the core's formula (both tails
///   keep their relative precision).
/// * `health_score` `double[N,1]`: the score on the model's scale: 100·σ(−η) (probability scale, also
///   when the model has no scoring spec); offset − factor·η (points); on a rounded points scale the
///   rounded base plus each feature's rounded points against the average training customer, as
///   `Scorer.explain` adds them (ONNX `Round` rounds halves to even, the core away from zero: a
///   feature whose points land exactly on .5 can differ by one point).
/// * `band_index` `int64[N,1]` (models with bands): the index, best band first, of the first band
///   whose `minScore` the score reaches (the core's `ScoringSpec.band`); `bands.count` means no band
///   (a NaN score, or a score under the last cut when every band has one).
/// * `band` `string[N,1]` (models with bands): that band's label, "" for no band.
///
/// ## What the graph cannot do like the core
///
/// The core refuses a row (throws) that ONNX can only mark: a missing value under the drop policy, a
/// missing group member without a fill, and an unseen level under the `error` policy give NaN η,
/// NaN probabilities and score, `label` 0 and `band_index` = `bands.count`. Values outside a
/// transform's domain (log1p of x ≤ −1) give −∞ or NaN instead of an error; infinite inputs are
/// not refused; asinh of |x| > 1e154 overflows to ±∞ (x² in the double formula). The unseen-level policy is the one stored in the model (`error` when none); the
/// core's per-call override has no counterpart. Text in a numeric column must be parsed by the
/// caller.
///
/// ## Precision (measured by `ONNXExportTests`, onnxruntime 1.31.1)
///
/// Inputs, transforms, the feature vector and η are double precision. LabelEncoder can only hold
/// float32 values, so each category slope is stored as two of them, hi = float(β) and
/// lo = float(β − hi), added in double: β to ~2⁻⁴⁸ relative. η therefore matches the core to
/// ~ε_d·Σ|βᵢxᵢ| (ε_d = 2⁻⁵³): measured max |Δη| = 2.3e-13 on mlc_churn, 3.6e-15 on the simulated
/// history. The float32 steps come after η:
///
/// * `probabilities` are float32 from onnxruntime's LinearClassifier logistic of float(η): measured
///   max |Δp| = 8.3e-8 on mlc_churn and 8.7e-8 on the simulated history (first 1,000 rows; 8.9e-8 on
///   a sweep of η over ±12). The rounding of η to float adds ≤ p(1−p)·2⁻²⁴·|η|. The *relative* error
///   is not ~1e-7 everywhere: the smaller class probability comes out as 1 − the larger, so it moves
///   in steps of 2⁻²³ ≈ 1.2e-7 and carries a relative error ≈ 6e-8/p (1e-7 near η = 0, 5e-6 at
///   |η| = 4, 1% at |η| = 12, and it is 0 for |η| ≳ 16.6). Measured: max relative error of P(churn)
///   9.5e-5, of P(retained) 1.3e-6 on mlc_churn. Use `churn_probability` or `eta` (double) where
///   small probabilities matter.
/// * `churn_probability` and `health_score` are double: measured max |Δp| = 4.4e-14 (mlc_churn) and
///   4.4e-16 (history), |Δ score| = 4.5e-12 on the 0–100 scale, exactly 0 on rounded points.
///   (They use the core's two-branch logistic: onnxruntime's double Sigmoid is accurate only in
///   absolute terms — relative error 1e-12 at η = −10, 5e-8 at −20, 0 below ≈ −36.)
///
/// Why not the all-float32 graph (float inputs, a LinearClassifier over the feature vector with the
/// model's coefficients, as float32)? Its η carries the float32 rounding of every input, coefficient
/// and partial sum, ≈ ε_f·Σ|βᵢxᵢ| with ε_f = 2⁻²⁴ ≈ 6e-8. On mlc_churn the minutes and charge
/// columns are collinear (β ≈ 3.45 on day minutes, −20.2 on day charge: terms of ≈ ±900 that
/// cancel), so Σ|βᵢxᵢ| reaches 2,558 and the tests measure, on exactly that graph
/// (`ONNXPrecision.float`), max |Δη| = 1.2e-4 (1.1·ε_f·Σ|βᵢxᵢ|) and max |Δp| = 2.7e-5 — 27 times the
/// 1e-6 this export promises.
public enum ONNXExport {
    public static let irVersion: Int64 = 7
    public static let opsetVersion: Int64 = 13
    public static let mlOpsetVersion: Int64 = 2
    /// The graph's output names, in order (the band outputs only when the model has bands).
    public static let outputNames = ["label", "probabilities", "eta", "churn_probability", "health_score", "band_index", "band"]

    public static func render(_ model: ModelArtifact, options: ExportOptions) throws -> Data {
        try render(model, precision: .double)
    }

    static func render(_ model: ModelArtifact, precision: ONNXPrecision) throws -> Data {
        var builder = ONNXModelBuilder(model: model, precision: precision)
        return Data(try builder.build().serialized())
    }
}

/// The model artifact compiled the way `Scorer.init` compiles it, then laid out as a graph.
struct ONNXModelBuilder {
    let model: ModelArtifact
    let precision: ONNXPrecision
    var g: ONNXGraphBuilder
    /// Per schema feature, the scoring plan's weights.
    let weights: [ScoringPlan.FeatureWeights]
    let intercept: Double
    let impute: Bool
    let unseen: UnknownLevelPolicy

    /// Graph inputs by column name, in first-use order.
    var inputs: [ONNXValueInfo] = []
    var inputKinds: [String: FeatureKind] = [:]
    var isNaNCache: [String: String] = [:]

    init(model: ModelArtifact, precision: ONNXPrecision) {
        self.model = model
        self.precision = precision
        g = ONNXGraphBuilder(precision: precision)
        let plan = ScoringPlan(model: model)
        weights = plan.featureWeights
        intercept = plan.interceptWeight
        impute = model.schema.missingPolicy == .impute
        unseen = model.schema.unseenLevels ?? .error
    }

    /// One column of the feature vector: its value, weight and the schema feature it belongs to.
    struct Column { var value: String; var weight: Double; var feature: Int }

    mutating func build() throws -> ONNXModel {
        let features = model.schema.features
        guard !features.isEmpty else {
            throw Diagnostic(.export, problem: "the model has no features (intercept only): there is nothing for an ONNX graph to read; score it as a constant")
        }
        try checkNames()
        var columns: [Column] = []
        for (index, f) in features.enumerated() {
            switch f.kind {
            case .numeric:
                let x = try numericInput(f.column)
                let t = transformed(x, column: f.column, chain: f.transforms, fill: impute ? (f.imputeValue ?? 0) : nil)
                columns.append(Column(value: t, weight: weights[index].slope, feature: index))
                if impute, f.missingIndicator != nil {
                    let flag = g.op("Cast", [isNaN(x)], attributes: [ONNXGraphBuilder.attr("to", precision.elementType.rawValue)],
                                    hint: "missing_\(f.column)")
                    columns.append(Column(value: flag, weight: weights[index].indicatorSlope, feature: index))
                }
            case .group:
                let members = f.members ?? []
                var scores: [String] = []
                for m in members {
                    let x = try numericInput(m.column)
                    let t = transformed(x, column: m.column, chain: m.transforms, fill: impute ? m.imputeValue : nil)
                    // sign·(t − mean)/sd, with the sign folded into the divisor (exact: sign is ±1).
                    let centred = g.op("Sub", [t, g.scalar(m.mean, hint: "mean_\(m.column)")], hint: "centred_\(m.column)")
                    scores.append(g.op("Div", [centred, g.scalar(m.sign * m.standardDeviation, hint: "sd_\(m.column)")],
                                       hint: "z_\(m.column)"))
                }
                let sum = g.op("Sum", scores, hint: "sum_\(f.column)")
                let mean = g.op("Div", [sum, g.scalar(Double(max(members.count, 1)), hint: "k_\(f.column)")], hint: "group_\(f.column)")
                columns.append(Column(value: mean, weight: weights[index].slope, feature: index))
            case .categorical:
                let x = try categoricalInput(f.column)
                columns.append(Column(value: levelContribution(x, f, slopes: weights[index].levelSlopes), weight: 1, feature: index))
            }
        }

        // Feature vector, linear predictor.
        let featureVector = g.op("Concat", columns.map(\.value), attributes: [ONNXGraphBuilder.attr("axis", Int64(1))], hint: "features")
        let k = Int64(columns.count)
        let weights = g.numbers(columns.map(\.weight), dims: [k, 1], hint: "coefficients")
        let product = g.op("MatMul", [featureVector, weights], hint: "linear")
        let eta = g.op("Add", [product, g.numbers([intercept], dims: [1], hint: "intercept")], hint: "eta", output: "eta")

        // The classifier: on η (double graph) or on the feature vector (float32 graph).
        let classifierInput: String
        let coefficients: [Float]
        let intercepts: [Float]
        switch precision {
        case .double:
            classifierInput = g.op("Cast", [eta], attributes: [ONNXGraphBuilder.attr("to", ONNXElementType.float.rawValue)], hint: "eta_float")
            coefficients = [1]
            intercepts = [0]
        case .float:
            classifierInput = featureVector
            coefficients = columns.map { Float($0.weight) }
            intercepts = [Float(intercept)]
        }
        g.add("LinearClassifier", [classifierInput], outputs: ["label", "probabilities"], domain: "ai.onnx.ml", attributes: [
            ONNXGraphBuilder.attr("classlabels_ints", ints: [0, 1]),
            ONNXGraphBuilder.attr("coefficients", floats: coefficients),
            ONNXGraphBuilder.attr("intercepts", floats: intercepts),
            ONNXGraphBuilder.attr("post_transform", "LOGISTIC"),
        ])
        let (churn, retained) = logistic(eta)
        g.op("Identity", [churn], hint: "churn_probability", output: "churn_probability")

        let score = healthScore(eta: eta, retained: retained, featureVector: featureVector, columns: columns)
        let bands = model.scoring?.bands ?? []
        if !bands.isEmpty { bandOutputs(score: score, bands: bands) }

        let e = precision.elementType
        let n = ONNXValueInfo.Dimension.parameter("N")
        var outputs = [
            ONNXValueInfo(name: "label", elementType: .int64, shape: [n], doc: "1 = churn (\(model.schema.target.column) = \(model.schema.target.positive)), 0 = retained"),
            ONNXValueInfo(name: "probabilities", elementType: .float, shape: [n, .value(2)], doc: "[P(retained), P(churn)], float32"),
            ONNXValueInfo(name: "eta", elementType: e, shape: [n, .value(1)], doc: "linear predictor: log-odds of churn"),
            ONNXValueInfo(name: "churn_probability", elementType: e, shape: [n, .value(1)], doc: "sigmoid(eta)"),
            ONNXValueInfo(name: "health_score", elementType: e, shape: [n, .value(1)], doc: "health score on the model's scale (\(scaleDescription))"),
        ]
        if !bands.isEmpty {
            outputs.append(ONNXValueInfo(name: "band_index", elementType: .int64, shape: [n, .value(1)],
                                         doc: "index of the band, best first (\(bands.count) = none): " + bands.enumerated().map { "\($0.offset) \($0.element.label)" }.joined(separator: ", ")))
            outputs.append(ONNXValueInfo(name: "band", elementType: .string, shape: [n, .value(1)], doc: "band label (\"\" = none)"))
        }

        let provenance = try Exporter.provenance(model)
        let checksum = try model.computedChecksum()
        let doc = """
        \(provenance)
        healthscore churn model (format \(ModelArtifact.formatName) version \(model.formatVersion), checksum \(checksum)), \
        \(precision == .double ? "double precision up to the float32 LinearClassifier probabilities" : "float32 throughout").
        Inputs: numeric columns \(precision == .double ? "double" : "float") [N,1] (missing = NaN); categorical columns string [N,1] (missing = "").
        Outputs: label (1 = churn), probabilities [P(retained), P(churn)], eta, churn_probability, health_score\(bands.isEmpty ? "" : ", band_index, band").
        """
        let graph = ONNXGraph(name: "healthscore", nodes: g.nodes, initializers: g.initializers, inputs: inputs, outputs: outputs,
                              doc: "healthscore: \(provenance)")
        var metadata: [(key: String, value: String)] = [
            ("healthscore.provenance", provenance),
            ("healthscore.model_checksum", checksum),
            ("healthscore.format", model.format),
            ("healthscore.format_version", String(model.formatVersion)),
            ("healthscore.tool_version", model.toolVersion),
            ("healthscore.created_at", model.createdAt),
            ("healthscore.training_file", model.training.file),
            ("healthscore.target", "\(model.schema.target.column)=\(model.schema.target.positive)"),
            ("healthscore.missing_policy", model.schema.missingPolicy.rawValue),
            ("healthscore.unseen_levels", unseen.rawValue),
            ("healthscore.score_scale", scaleDescription),
            ("healthscore.precision", precision.rawValue),
        ]
        if let spec = model.scoring, !bands.isEmpty {
            metadata.append(("healthscore.bands", bands.map { b in b.label + (b.minScore.map { " >= \($0)" } ?? "") }.joined(separator: "; ")))
            metadata.append(("healthscore.band_method", spec.bandMethod))
        }
        return ONNXModel(irVersion: ONNXExport.irVersion,
                         opsets: [("", ONNXExport.opsetVersion), ("ai.onnx.ml", ONNXExport.mlOpsetVersion)],
                         producerName: "healthscore", producerVersion: model.toolVersion, doc: doc, graph: graph, metadata: metadata)
    }

    // MARK: - Inputs

    /// Output names and the internal prefix must stay clear of the input columns' names.
    func checkNames() throws {
        let needed = Scorer(model: model).requiredColumns
        for name in needed {
            if ONNXExport.outputNames.contains(name) || name.hasPrefix(ONNXGraphBuilder.internalPrefix) {
                throw Diagnostic(.export, problem: "input column '\(name)' clashes with the ONNX graph's own names (outputs \(ONNXExport.outputNames.joined(separator: ", ")), internal values \(ONNXGraphBuilder.internalPrefix)…); rename the column and refit")
            }
            if name.isEmpty { throw Diagnostic(.export, problem: "an input column has an empty name; ONNX needs a name per input") }
        }
    }

    mutating func numericInput(_ column: String) throws -> String {
        try input(column, kind: .numeric, type: precision.elementType,
                  doc: "numeric column '\(column)'; missing = NaN")
    }

    mutating func categoricalInput(_ column: String) throws -> String {
        try input(column, kind: .categorical, type: .string,
                  doc: "categorical column '\(column)'; missing = \"\"; numbers as text (\"415\", \"2.5\")")
    }

    mutating func input(_ column: String, kind: FeatureKind, type: ONNXElementType, doc: String) throws -> String {
        if let known = inputKinds[column] {
            guard known == kind else {
                throw Diagnostic(.export, problem: "column '\(column)' is used both as a number and as a category; ONNX inputs have one type")
            }
            return column
        }
        inputKinds[column] = kind
        inputs.append(ONNXValueInfo(name: column, elementType: type, shape: [.parameter("N"), .value(1)], doc: doc))
        return column
    }

    mutating func isNaN(_ x: String) -> String {
        if let cached = isNaNCache[x] { return cached }
        let flag = g.op("IsNaN", [x], hint: "isnan_\(x)")
        isNaNCache[x] = flag
        return flag
    }

    // MARK: - Numbers

    /// The transform chain, then missing cells replaced by `fill` (NaN when there is none, so a row
    /// the core refuses comes out NaN).
    mutating func transformed(_ x: String, column: String, chain: [MetricTransform]?, fill: Double?) -> String {
        var v = x
        for t in chain ?? [] {
            switch t.kind {
            case .log1p:
                let shifted = g.op("Add", [v, g.scalar(1, hint: "one")], hint: "1p_\(column)")
                v = g.op("Log", [shifted], hint: "log1p_\(column)")
            case .asinh:
                v = asinh(v, column: column)
            case .clip:
                guard t.lower != nil || t.upper != nil else { continue }
                let lower = t.lower.map { g.scalar($0, hint: "clip_lower_\(column)") } ?? ""
                var inputs = [v, lower]
                if let upper = t.upper { inputs.append(g.scalar(upper, hint: "clip_upper_\(column)")) }
                v = g.op("Clip", inputs, hint: "clip_\(column)")
            }
        }
        if v == x && fill == nil { return x }  // NaN passes through untouched
        let replacement = g.scalar(fill ?? .nan, hint: fill == nil ? "nan" : "fill_\(column)")
        return g.op("Where", [isNaN(x), replacement, v], hint: "filled_\(column)")
    }

    /// asinh: the Asinh operator in float32; in double, where onnxruntime has no Asinh kernel,
    /// sign(x)·log(|x| + √(x² + 1)) — absolute error ~ε_d, what η needs.
    mutating func asinh(_ x: String, column: String) -> String {
        if precision == .float { return g.op("Asinh", [x], hint: "asinh_\(column)") }
        let a = g.op("Abs", [x], hint: "abs_\(column)")
        let square = g.op("Mul", [a, a], hint: "sq_\(column)")
        let root = g.op("Sqrt", [g.op("Add", [square, g.scalar(1, hint: "one")], hint: "sq1_\(column)")], hint: "root_\(column)")
        let log = g.op("Log", [g.op("Add", [a, root], hint: "arg_\(column)")], hint: "asinh_abs_\(column)")
        return g.op("Mul", [g.op("Sign", [x], hint: "sign_\(column)"), log], hint: "asinh_\(column)")
    }

    // MARK: - Categories

    /// The scorer's per-level slope lookup as a LabelEncoder (string → float), cast to the graph's type.
    mutating func levelContribution(_ x: String, _ f: FeatureSpec, slopes: [String: Double]) -> String {
        let pooled = Set(f.pooledLevels ?? [])
        let unseenValue: Double
        switch unseen {
        case .error: unseenValue = .nan
        case .reference: unseenValue = 0
        case .other: unseenValue = slopes[FeatureSpec.otherLevel] ?? 0
        }
        func lookup(_ text: String?) -> Double {
            guard var level = text else { return .nan }  // missing under drop: the core refuses the row
            if pooled.contains(level) { level = FeatureSpec.otherLevel }
            return slopes[level] ?? unseenValue
        }
        var keys: [String] = []
        var seen: Set<String> = []
        for key in (f.levels ?? []) + (f.pooledLevels ?? []) + [FeatureSpec.otherLevel, FeatureSpec.missingLevel] where seen.insert(key).inserted {
            keys.append(key)
        }
        var values = keys.map(lookup)
        if !seen.contains("") {  // the empty string is how a missing category arrives
            keys.append("")
            values.append(lookup(impute ? FeatureSpec.missingLevel : nil))
        }
        // LabelEncoder stores float32 values: the slope's float32 part (`hi`) and, in the double
        // graph, the float32 of what is left (`lo`); hi + lo carries the slope to ~2⁻⁴⁸ relative.
        func encoder(_ part: (Double) -> Float, _ hint: String) -> String {
            g.op("LabelEncoder", [x], domain: "ai.onnx.ml", attributes: [
                ONNXGraphBuilder.attr("keys_strings", strings: keys),
                ONNXGraphBuilder.attr("values_floats", floats: values.map(part)),
                ONNXGraphBuilder.attr("default_float", part(unseenValue)),
            ], hint: hint)
        }
        let hi = encoder({ Float($0) }, "slope_\(f.column)")
        if precision == .float { return hi }
        let lo = encoder({ Self.remainder($0) }, "slope_lo_\(f.column)")
        let toDouble = [ONNXGraphBuilder.attr("to", ONNXElementType.double.rawValue)]
        return g.op("Add", [g.op("Cast", [hi], attributes: toDouble, hint: "slope_hi_d_\(f.column)"),
                            g.op("Cast", [lo], attributes: toDouble, hint: "slope_lo_d_\(f.column)")], hint: "slope_d_\(f.column)")
    }

    /// What float32 misses of `x`: x − Double(Float(x)) as a float (NaN stays NaN, ±∞ and values
    /// past the float range leave 0 — no slope is that large).
    static func remainder(_ x: Double) -> Float {
        if x.isNaN { return .nan }
        let hi = Float(x)
        guard hi.isFinite else { return 0 }
        return Float(x - Double(hi))
    }

    // MARK: - Score and bands

    var scale: ScoreScale { model.scoring?.scale ?? .probability }

    var scaleDescription: String {
        switch scale.kind {
        case .probability: return "probability: 100 x P(retained)"
        case .points:
            return "points: \(scale.offset) - \(scale.factor) x eta (\(scale.pointsToDoubleOdds ?? 20) points double the odds, \(scale.referenceScore ?? 600) at odds \(scale.referenceOdds ?? 50))"
                + (scale.rounds ? ", rounded per metric" : "")
        }
    }

    /// σ(η) and 1 − σ(η) each computed directly, as `Scorer.score(eta:)` does, so both tails keep
    /// their relative precision (onnxruntime's Sigmoid is accurate only in absolute terms: its
    /// relative error reaches 1e-12 at η = −10, 5e-8 at −20 and it is 0 below ≈ −36):
    /// e = exp(−|η|), s = 1/(1 + e), p = η ≥ 0 ? s : e·s, q = η ≥ 0 ? e·s : s.
    mutating func logistic(_ eta: String) -> (churn: String, retained: String) {
        let e = g.op("Exp", [g.op("Neg", [g.op("Abs", [eta], hint: "abs_eta")], hint: "minus_abs_eta")], hint: "exp_minus_abs_eta")
        let s = g.op("Div", [g.scalar(1, hint: "one"), g.op("Add", [e, g.scalar(1, hint: "one")], hint: "one_plus_e")], hint: "s")
        let es = g.op("Mul", [e, s], hint: "e_s")
        let positive = g.op("GreaterOrEqual", [eta, g.scalar(0, hint: "zero")], hint: "eta_nonnegative")
        return (g.op("Where", [positive, s, es], hint: "p"), g.op("Where", [positive, es, s], hint: "q"))
    }

    mutating func healthScore(eta: String, retained: String, featureVector: String, columns: [Column]) -> String {
        switch scale.kind {
        case .probability:
            return g.op("Mul", [retained, g.scalar(100, hint: "hundred")], hint: "health_score", output: "health_score")
        case .points where !scale.rounds:
            let scaled = g.op("Mul", [eta, g.scalar(scale.factor, hint: "factor")], hint: "scaled")
            return g.op("Sub", [g.scalar(scale.offset, hint: "offset"), scaled], hint: "health_score", output: "health_score")
        case .points:
            // Per feature: term − average term, times −factor, rounded; plus the rounded base.
            let features = model.schema.features
            let f = Int64(features.count)
            var assign = [Double](repeating: 0, count: columns.count * features.count)
            for (c, column) in columns.enumerated() { assign[c * features.count + column.feature] = column.weight }
            let terms = g.op("MatMul", [featureVector, g.numbers(assign, dims: [Int64(columns.count), f], hint: "term_weights")], hint: "terms")
            let averages = weights.map(\.average)
            let delta = g.op("Sub", [terms, g.numbers(averages, dims: [1, f], hint: "average_terms")], hint: "delta")
            let points = g.op("Round", [g.op("Mul", [delta, g.scalar(-scale.factor, hint: "minus_factor")], hint: "raw_points")], hint: "points")
            let total = g.op("MatMul", [points, g.numbers([Double](repeating: 1, count: features.count), dims: [f, 1], hint: "ones")], hint: "points_sum")
            let base = (scale.offset - scale.factor * (intercept + averages.reduce(0, +))).rounded()
            return g.op("Add", [total, g.scalar(base, hint: "base_points")], hint: "health_score", output: "health_score")
        }
    }

    /// band_index: the first band whose cut the score reaches (a band without a cut always matches),
    /// found as the first maximum of [score ≥ cut₀, …, score ≥ cut_{n−1}, sentinel true]; NaN → n.
    mutating func bandOutputs(score: String, bands: [HealthBand]) {
        let count = Int64(bands.count)
        let cuts = bands.map { $0.minScore ?? -.infinity } + [-.infinity]
        let reached = g.op("GreaterOrEqual", [score, g.numbers(cuts, dims: [1, count + 1], hint: "band_cuts")], hint: "reached")
        let flags = g.op("Cast", [reached], attributes: [ONNXGraphBuilder.attr("to", precision.elementType.rawValue)], hint: "reached_num")
        let first = g.op("ArgMax", [flags], attributes: [ONNXGraphBuilder.attr("axis", Int64(1)), ONNXGraphBuilder.attr("keepdims", Int64(1))],
                         hint: "first_band")
        let none = g.int64s([count], dims: [], hint: "no_band")
        let index = g.op("Where", [isNaN(score), none, first], hint: "band_index", output: "band_index")
        g.op("LabelEncoder", [index], domain: "ai.onnx.ml", attributes: [
            ONNXGraphBuilder.attr("keys_int64s", ints: (0..<count).map { $0 }),
            ONNXGraphBuilder.attr("values_strings", strings: bands.map(\.label)),
            ONNXGraphBuilder.attr("default_string", ""),
        ], hint: "band", output: "band")
    }
}
