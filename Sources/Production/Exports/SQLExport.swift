import Foundation
import ScoringCore
import Support

/// The model as one SQL `SELECT` over a table of customers: per row the id and time columns (when the
/// model names them), `churn_probability`, `health_score` and `band`, equal to the scoring core's.
///
/// The same text runs unchanged on SQLite (3.35 or newer, built with its math functions — Debian's and
/// Ubuntu's libsqlite3 are), on PostgreSQL (12 or newer) and on DuckDB (over a table, a view, or a
/// Parquet or CSV file behind a view). Its cost per row is close to the arithmetic: a few narrow
/// `MATERIALIZED` stages, so each value is computed once (SQLite would otherwise inline every stage
/// into the next and repeat each expression wherever a later one names it), and a numeric input is
/// tested by comparing it with its own cast, never by converting each number to text.
///
///     hs_step_k   the k-th transform of each metric's chain (log1p, asinh, clip); only with transforms
///     hs_terms    each feature's part of the linear predictor (rounded points only)
///     hs_eta      the linear predictor η, the terms written inline (and each metric's rounded points)
///     hs_score    p = σ(η) from e = exp(−|η|), and the health score on the model's scale
///
/// and a final SELECT that adds the band. Every operation is the core's, in the core's order, so the
/// results agree to the last bit or nearly (log1p and asinh, which neither engine has, are built from
/// ln and sqrt and agree to an ulp or two).
///
/// Decisions where SQL cannot do what the core does:
/// - Rows the core would refuse (the whole batch fails there) come out with NULL probability, score
///   and band instead, so one bad row does not stop the query: a missing value under the `drop`
///   missing policy, a category level never seen in training under the `error` unseen-level policy,
///   a number that is not finite (PostgreSQL's ±Infinity, SQLite's ±Inf), a value outside a
///   transform's domain (log1p of −1 or less).
/// - A numeric input is a number when it equals its own cast to DOUBLE PRECISION. In SQLite, whose
///   columns hold any type, text that is not a number ('lots', '1,234') fails that test and the row
///   gets NULL outputs, as the core leaves it unscored; text that is a number ('12.5') is read. In
///   PostgreSQL and DuckDB a numeric input must have a numeric type: a TEXT column fails the query
///   (PostgreSQL: no text = double precision operator; DuckDB: could not convert 'NA'). For text
///   columns, `textNumbers` (`--text-numbers`) compares the NA markers as text first (CAST fails on
///   'lots' there, naming the value), at the price of converting every number to text.
/// - A row whose η is not finite gets NULL outputs: that is how a missing value under `drop`, an
///   infinite input, and a transform outside its domain reach the end. (The core would score a row
///   of finite inputs whose η overflows, |η| beyond 1.8e308; the SQL leaves it NULL.)
/// - Missing means SQL NULL. A value that is not a number and whose text is one of the model's NA
///   markers (`naValues`, e.g. "NA" or the empty string) is missing too, as when the core reads a
///   CSV, and so is PostgreSQL's and DuckDB's NaN (the core's missing number). A numeric NA token
///   ('-999') in a numeric column is a number in SQL: map it to NULL in a view.
/// - Categories are compared as text: store them as TEXT (or INTEGER). A REAL column would read
///   '415.0' in SQLite where the core's text is '415'.
/// - Constants are written as exact binary fractions, `CAST(m AS DOUBLE PRECISION) / 2^k`, followed
///   by the shortest decimal in a comment. Decimal literals are not safe: PostgreSQL reads them as
///   NUMERIC (exact decimal arithmetic), and SQLite 3.40 parses about one shortest round-trip decimal
///   in ten thousand one unit in the last place off.
/// - exp(−|η|) is taken as 0 when |η| > 708: PostgreSQL raises an underflow error where exp's result
///   is subnormal or zero. The core's value there is below 3·10⁻³⁰⁸.
/// - Rounded points use FLOOR, not ROUND: PostgreSQL's ROUND(double precision) rounds half to even,
///   its ROUND(numeric) sees the double through 15 significant digits, and SQLite's ROUND adds 0.5
///   and truncates (0.49999999999999994 rounds to 1). Swift's `.rounded()` (half away from zero) is
///   reproduced exactly: floor(|y|) plus one when |y| − floor(|y|) ≥ 0.5, with y's sign.
/// - Identifiers are double-quoted, so they are case-sensitive in PostgreSQL: the table's columns
///   must be named exactly as in the training file. A dotted `sourceTable` is a qualified name
///   (schema.table), each part quoted.
/// - PostgreSQL raises an error where IEEE arithmetic would overflow to infinity or underflow to
///   zero (SQLite carries on with Inf or 0). The SQL guards exp, asinh's x² and log1p's domain; but
///   a value so extreme that a weighted term, a standard score or a metric's points overflow
///   (|value| from about 10³⁰⁶), or a subnormal value whose weighted term rounds to zero, stops the
///   query in PostgreSQL where the core returns an infinite η or a zero term. (±1e300 is fine.)
public enum SQLExport {
    public static func render(_ model: ModelArtifact, options: ExportOptions) throws -> String {
        var renderer = SQLRenderer(model: model, options: options)
        return try renderer.render()
    }

    /// A double-quoted identifier, embedded quotes doubled.
    public static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A table reference: each dot-separated part quoted (`analytics.customers` → "analytics"."customers").
    public static func tableReference(_ name: String) -> String {
        name.split(separator: ".", omittingEmptySubsequences: false).map { identifier(String($0)) }.joined(separator: ".")
    }

    /// A single-quoted string literal, embedded quotes doubled.
    /// NA markers as SQL literals, trimmed, lower case and deduplicated, for `LOWER(TRIM(x)) IN (…)`.
    static func normalisedMarkers(_ markers: [String]) -> String {
        var seen = Set<String>()
        return markers.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { seen.insert($0).inserted }.map(text).joined(separator: ", ")
    }

    public static func text(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A DOUBLE PRECISION expression that is exactly `x` in every engine: an integer of at most 53 bits
    /// cast to double, divided (or multiplied) by powers of two, each of which is exact.
    public static func number(_ x: Double) throws -> String {
        guard x.isFinite else { throw Diagnostic(.export, problem: "the model holds a non-finite constant (\(x)); it cannot be written as SQL") }
        if x == 0 { return "CAST(0 AS DOUBLE PRECISION)" }
        if x == x.rounded(), abs(x) <= 9_007_199_254_740_992 {
            return "CAST(\(Int64(x)) AS DOUBLE PRECISION)"
        }
        // x = m · 2^-k with m an integer: k = fractional bits of the significand − exponent.
        var k = Int(x.significandWidth) - Int(x.exponent)
        let m = Int64(scalbn(x, k))
        var out = "CAST(\(m) AS DOUBLE PRECISION)"
        if k > 0 {
            while k > 0 { let step = min(k, 62); out += " / \(Int64(1) << Int64(step))"; k -= step }
        } else {
            k = -k
            while k > 0 { let step = min(k, 62); out += " * \(Int64(1) << Int64(step))"; k -= step }
        }
        return "(\(out) /* \(x) */)"
    }
}

/// Builds the SELECT for one model.
struct SQLRenderer {
    let model: ModelArtifact
    let options: ExportOptions

    /// One feature with its weights looked up as the scorer does.
    struct Feature {
        var spec: FeatureSpec
        var slope: Double
        var indicatorSlope: Double
        var levelSlopes: [String: Double]
        var pooled: Set<String>
        /// The feature's term for the average training customer (rounded points are measured from it).
        var average: Double
        var termName = ""
        var pointsName = ""
    }

    /// One number the model reads and the transforms applied to it before a weight or a standard score.
    struct NumericInput {
        var column: String
        var chain: [MetricTransform]
        /// Value after each step of the chain (NULL when the input is not a usable number).
        var stepNames: [String] = []
        var finalName: String { stepNames.last! }
    }

    static let nullNumber = "CAST(NULL AS DOUBLE PRECISION)"
    /// PostgreSQL's limit: longer identifiers are cut, which could make two names one.
    static let identifierBytes = 63

    var intercept = 0.0
    var features: [Feature] = []
    var policy: UnknownLevelPolicy
    var impute: Bool
    /// Names in use, lower-cased: columns, and separately the CTEs (with the source table's name).
    var reserved: Set<String> = []
    var reservedTables: Set<String> = []

    init(model: ModelArtifact, options: ExportOptions) {
        self.model = model
        self.options = options
        policy = model.schema.unseenLevels ?? .error
        impute = model.schema.missingPolicy == .impute
        let plan = ScoringPlan(model: model)
        intercept = plan.interceptWeight
        features = zip(model.schema.features, plan.featureWeights).map { f, w in
            Feature(spec: f, slope: w.slope, indicatorSlope: w.indicatorSlope, levelSlopes: w.levelSlopes,
                    pooled: Set(f.pooledLevels ?? []), average: w.average)
        }
    }

    // MARK: names

    /// A column name not yet used (compared case-insensitively, as SQLite does), at most 63 bytes.
    mutating func fresh(_ hint: String) -> String { Self.fresh(hint, in: &reserved) }

    /// A CTE name that is neither another CTE's nor the source table's.
    mutating func freshTable(_ hint: String) -> String { Self.fresh(hint, in: &reservedTables) }

    static func fresh(_ hint: String, in used: inout Set<String>) -> String {
        var n = 1
        while true {
            let suffix = n == 1 ? "" : "~\(n)"
            var base = hint
            while base.utf8.count + suffix.utf8.count > identifierBytes { base.removeLast() }
            let candidate = base + suffix
            if !used.contains(candidate.lowercased()) {
                used.insert(candidate.lowercased())
                return candidate
            }
            n += 1
        }
    }

    mutating func reserve(_ name: String) { reserved.insert(name.lowercased()) }

    func q(_ name: String) -> String { SQLExport.identifier(name) }
    func num(_ x: Double) throws -> String { try SQLExport.number(x) }

    // MARK: rendering

    /// One CTE: the previous CTE's columns plus new ones.
    struct Stage {
        var name: String
        var purpose: String
        /// Expression (may span lines), alias, optional comment line above it.
        var columns: [(expr: String, alias: String, comment: String?)] = []
    }

    mutating func render() throws -> String {
        let schema = model.schema
        let table = SQLExport.tableReference(options.sourceTable)
        for part in options.sourceTable.split(separator: ".") { reservedTables.insert(String(part).lowercased()) }

        // Pass-through columns.
        var passThrough: [String] = []
        for name in [schema.id, schema.time].compactMap({ $0 }) + options.keep where !passThrough.contains(name) {
            passThrough.append(name)
            reserve(name)
        }

        // Inputs, each read once: numbers as DOUBLE PRECISION, categories as TEXT.
        var inputColumns: [(column: String, type: String)] = []
        var numericInputs: [NumericInput] = []
        var numericInputIndex: [String: Int] = [:]  // feature column or "group/member" → numericInputs index
        func addInput(_ column: String, type: String) {
            guard !inputColumns.contains(where: { $0.column == column }) else { return }
            inputColumns.append((column, type))
        }
        for f in schema.features {
            switch f.kind {
            case .numeric:
                addInput(f.column, type: "DOUBLE PRECISION")
                numericInputIndex[f.column] = numericInputs.count
                numericInputs.append(NumericInput(column: f.column, chain: f.transforms ?? []))
            case .group:
                for m in f.members ?? [] {
                    addInput(m.column, type: "DOUBLE PRECISION")
                    numericInputIndex[f.column + "/" + m.column] = numericInputs.count
                    numericInputs.append(NumericInput(column: m.column, chain: m.transforms ?? []))
                }
            case .categorical:
                addInput(f.column, type: "TEXT")
            }
        }
        for c in inputColumns where !passThrough.contains(c.column) { reserve(c.column) }

        let spec = model.scoring
        let scale = spec?.scale ?? .probability
        let rounding = scale.rounds
        let maxSteps = numericInputs.map(\.chain.count).max() ?? 0
        var stepCTE: [String] = []
        for k in 0..<maxSteps { stepCTE.append(freshTable("hs_step_\(k + 1)")) }
        let termsCTE = rounding ? freshTable("hs_terms") : ""
        let etaCTE = freshTable("hs_eta"), scoreCTE = freshTable("hs_score")

        // Internal columns.
        for i in numericInputs.indices where !numericInputs[i].chain.isEmpty {
            let column = numericInputs[i].column
            for (k, t) in numericInputs[i].chain.enumerated() {
                numericInputs[i].stepNames.append(fresh(column + "~\(k + 1)~" + t.kind.rawValue))
            }
        }
        if rounding {
            for j in features.indices {
                features[j].termName = fresh("hs_term~" + features[j].spec.column)
                features[j].pointsName = fresh("hs_points~" + features[j].spec.column)
            }
        }
        let etaName = fresh("hs_eta")
        let pName = fresh("hs_p")
        let scoreName = fresh("hs_score")

        var stages: [String] = []
        var previous: String? = nil
        /// The columns every stage carries: the pass-through columns, and while transforms are
        /// computed the raw inputs too (the terms test them for missing values).
        var carried = passThrough.map { q($0) }
        // The first stage names the table's columns through this alias: SQLite reads an unknown
        // double-quoted name as a string ('owner' for a --keep owner the table lacks); a qualified
        // one is an error there as everywhere.
        let source = freshTable("hs_source")
        func emit(_ name: String, _ purpose: String, _ columns: [(expr: String, alias: String, comment: String?)]) {
            var lines: [String] = carried.map { "    " + (previous == nil ? "\(q(source)).\($0) AS \($0)" : $0) }
            for c in columns {
                if let comment = c.comment { lines.append("    -- " + Self.commentSafe(comment)) }
                let expr = c.expr.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
                lines.append(expr + " AS " + q(c.alias))
            }
            if lines.isEmpty { lines.append("    1 AS \(q(fresh("hs_row")))") }
            // Commas go after every column line but the last; a comment line never takes one.
            var body: [String] = []
            let lastColumn = lines.lastIndex { !$0.hasPrefix("    -- ") }
            for (n, line) in lines.enumerated() { body.append(line + (n == lastColumn || line.hasPrefix("    -- ") ? "" : ",")) }
            stages.append("""
            \(q(name)) AS MATERIALIZED (
              -- \(Self.commentSafe(purpose))
              SELECT
            \(body.joined(separator: "\n"))
              FROM \(previous.map(q) ?? "\(table) AS \(q(source))")
            )
            """)
            previous = name
        }

        // 1. Transforms, one step of every chain per stage. The raw inputs ride along.
        let rawInputs = inputColumns.filter { !passThrough.contains($0.column) }.map { q($0.column) }
        for k in 0..<maxSteps {
            var columns: [(expr: String, alias: String, comment: String?)] = []
            for input in numericInputs where input.chain.count > k {
                let t = input.chain[k]
                let expr: String
                if k == 0 {
                    // A number, finite (x - x = 0 fails for ±infinity and NaN), then the step.
                    let x = q(input.column), v = "CAST(\(x) AS DOUBLE PRECISION)"
                    expr = "CASE WHEN \(try isNumber(x)) AND \(v) - \(v) = 0 THEN\n  \(try transform(t, v))\nEND"
                } else {
                    expr = try transform(t, q(input.stepNames[k - 1]))
                }
                columns.append((expr, input.stepNames[k], "\(input.column): \(t.name)"
                                + (k == 0 ? " (NULL when missing, not a number, not finite or outside the domain)" : "")))
            }
            // The raw inputs, and the chains that ended before this step, ride along.
            carried = passThrough.map { q($0) } + rawInputs
                + numericInputs.filter { !$0.chain.isEmpty && $0.chain.count <= k }.map { q($0.finalName) }
            emit(stepCTE[k], "transform step \(k + 1) of each metric's chain", columns)
        }

        // 2. Each feature's term.
        var termExprs: [(expr: String, comment: String)] = []
        for f in features {
            switch f.spec.kind {
            case .numeric:
                let input = numericInputs[numericInputIndex[f.spec.column]!]
                let missing = impute ? try num(f.slope * (f.spec.imputeValue ?? 0) + f.indicatorSlope) : nil
                let note = impute
                    ? "missing → weight × fill \(f.spec.imputeValue ?? 0)" + ((f.spec.transforms ?? []).isEmpty ? "" : " (transformed scale)")
                        + (f.spec.missingIndicator != nil ? " + the missing(\(f.spec.column)) weight" : "")
                    : "missing → NULL (the model drops incomplete rows)"
                termExprs.append((try numberCase(input, present: { "\(try num(f.slope)) * \($0)" }, missing: missing),
                                  "\(f.spec.column): numeric; \(note)"))
            case .group:
                let members = f.spec.members ?? []
                var scores: [String] = []
                for m in members {
                    guard m.standardDeviation != 0, m.standardDeviation.isFinite else {
                        throw Diagnostic(.export, problem: "group '\(f.spec.column)' member '\(m.column)' has standard deviation \(m.standardDeviation); its standard score is undefined")
                    }
                    let input = numericInputs[numericInputIndex[f.spec.column + "/" + m.column]!]
                    let missing = impute && m.imputeValue != nil ? try num(m.standardScore(m.imputeValue!)) : nil
                    scores.append(try numberCase(input, present: { value in
                        let centred = "(\(value) - \(try num(m.mean)))"
                        let oriented: String
                        switch m.sign {
                        case 1: oriented = centred
                        case -1: oriented = "(-\(centred))"
                        default: oriented = "(\(try num(m.sign)) * \(centred))"
                        }
                        return "\(oriented) / \(try num(m.standardDeviation))"
                    }, missing: missing))
                }
                let k = Double(max(members.count, 1))
                let sum = scores.isEmpty ? "CAST(0 AS DOUBLE PRECISION)" : scores.joined(separator: "\n  + ")
                let signs = members.map { ($0.sign < 0 ? "−" : "+") + $0.column }.joined(separator: " ")
                termExprs.append(("\(try num(f.slope)) * ((\n  \(sum)\n) / \(try num(k)))",
                                  "\(f.spec.column): group, weight × mean of the oriented standard scores (\(signs))"))
            case .categorical:
                termExprs.append((try categorical(f), categoricalNote(f)))
            }
        }

        // 3. η, left to right in schema order as the scorer adds the terms (and rounded points).
        var etaColumns: [(expr: String, alias: String, comment: String?)] = []
        var basePoints = 0.0
        if rounding {
            emit(termsCTE, "each feature's part of the linear predictor",
                 zip(features, termExprs).map { ($1.expr, $0.termName, $1.comment) })
            carried = passThrough.map { q($0) }
            etaColumns.append(((["\(try num(intercept))"] + features.map { q($0.termName) }).joined(separator: "\n  + "), etaName, nil))
            // Points per metric against the average customer, rounded as the core rounds them.
            let averageSum = features.map(\.average).reduce(0, +)
            basePoints = (scale.offset - scale.factor * (intercept + averageSum)).rounded()
            for f in features {
                let y = "(\(try num(-scale.factor)) * (\(q(f.termName)) - \(try num(f.average))))"
                etaColumns.append(("""
                CASE WHEN \(y) < 0
                  THEN -(floor(-\(y)) + CASE WHEN -\(y) - floor(-\(y)) >= 0.5 THEN 1 ELSE 0 END)
                  ELSE floor(\(y)) + CASE WHEN \(y) - floor(\(y)) >= 0.5 THEN 1 ELSE 0 END
                END
                """, f.pointsName, "\(f.spec.column): points against the average customer, rounded half away from zero"))
            }
        } else {
            let sum = zip(features, termExprs).map { "-- \(Self.commentSafe($1.comment))\n" + $1.expr }
            etaColumns.append(((["\(try num(intercept))"] + sum).joined(separator: "\n+ "), etaName, nil))
        }
        carried = passThrough.map { q($0) }
        emit(etaCTE, "the linear predictor η = log-odds of churn" + (rounding ? ", and each metric's rounded points" : ""), etaColumns)

        // 4. p = σ(η) and the score, stably: e = exp(−|η|) (0 beyond |η| = 708, where PostgreSQL's exp
        // underflows; the core's value is below 3e-308), p = 1/(1+e) or e/(1+e), 1 − p computed directly.
        // NULL unless η is finite: a missing, unparsable or infinite input or a transform outside its domain.
        let et = q(etaName)
        let e = "(CASE WHEN abs(\(et)) > 708 THEN CAST(0 AS DOUBLE PRECISION) ELSE exp(-abs(\(et))) END)"
        let finite = "\(et) - \(et) = 0"
        let p = "CASE WHEN \(finite) THEN\n  CASE WHEN \(et) >= 0 THEN 1 / (1 + \(e)) ELSE \(e) * (1 / (1 + \(e))) END\nEND"
        let retention = "CASE WHEN \(et) >= 0 THEN \(e) * (1 / (1 + \(e))) ELSE 1 / (1 + \(e)) END"
        let score: String, scorePurpose: String
        switch (scale.kind, rounding) {
        case (.probability, _):
            scorePurpose = "health score = 100 × retention probability"
            score = "CASE WHEN \(finite) THEN\n  100 * (\(retention))\nEND"
        case (.points, false):
            scorePurpose = "health score in points: offset - factor × η (unrounded)"
            score = "CASE WHEN \(finite) THEN \(try num(scale.offset)) - \(try num(scale.factor)) * \(et) END"
        case (.points, true):
            scorePurpose = "health score in points: rounded base points + each metric's rounded points"
            let sum = features.isEmpty ? "CAST(0 AS DOUBLE PRECISION)" : features.map { q($0.pointsName) }.joined(separator: " + ")
            score = "CASE WHEN \(finite) THEN \(try num(basePoints)) + (\(sum)) END"
        }
        emit(scoreCTE, "churn probability p = σ(η); " + scorePurpose + "; NULL unless η is finite",
             [(p, pName, nil), (score, scoreName, nil)])

        // 5. The final SELECT with the band.
        let s = q(scoreName)
        var band = "CAST(NULL AS TEXT)"
        if let spec, !spec.bands.isEmpty {
            var lines = ["CASE", "  WHEN \(s) IS NULL THEN NULL"]
            var closed = false
            for b in spec.bands {
                guard let min = b.minScore, min != -.infinity else {
                    lines.append("  ELSE \(SQLExport.text(b.label))")
                    closed = true
                    break
                }
                if min == .infinity { continue }
                lines.append("  WHEN \(s) >= \(try num(min)) THEN \(SQLExport.text(b.label))")
            }
            if !closed { lines.append("  ELSE NULL") }
            lines.append("END")
            band = lines.joined(separator: "\n    ")
        }
        var outputs = passThrough.map { q($0) }
        outputs.append("\(q(pName)) AS \"churn_probability\"")
        outputs.append("\(s) AS \"health_score\"")
        outputs.append("\(band) AS \"band\"")

        return try header(scale: scale, rounding: rounding, inputs: inputColumns) + "WITH\n" + stages.joined(separator: ",\n") + "\n"
            + "SELECT\n" + outputs.map { "    " + $0 }.joined(separator: ",\n") + "\nFROM \(q(previous!));\n"
    }

    /// A number in a numeric input: compared with its own cast, so SQLite's text that is not a
    /// number ('NA', 'lots', '1,234') fails without the slow conversion of every number to text; in
    /// PostgreSQL and DuckDB the column must have a numeric type (`textNumbers` for text columns).
    /// NaN, which PostgreSQL and DuckDB hold and compare equal to itself, is missing as in the core,
    /// and so is a number among the NA markers ('-999').
    func isNumber(_ x: String) throws -> String {
        if options.textNumbers { return "NOT (\(try isMissing(x)))" }
        var test = "\(x) = CAST(\(x) AS DOUBLE PRECISION)"
        if impute { test += " AND NOT \(x) = 'NaN'" }
        if let numbers = try numericMarkers() { test += " AND NOT CAST(\(x) AS DOUBLE PRECISION) IN (\(numbers))" }
        return test
    }

    /// NULL, text that is one of the model's NA markers (trimmed, in lower case, as the CSV reader
    /// compares them), NaN, or a number among the markers.
    func isMissing(_ x: String) throws -> String {
        var test = "\(x) IS NULL OR LOWER(TRIM(CAST(\(x) AS TEXT))) IN (\(SQLExport.normalisedMarkers(model.schema.naValues + ["NaN"])))"
        if !options.textNumbers, let numbers = try numericMarkers() {
            test += " OR (\(x) = CAST(\(x) AS DOUBLE PRECISION) AND CAST(\(x) AS DOUBLE PRECISION) IN (\(numbers)))"
        }
        return test
    }

    /// The NA markers that are finite numbers, as SQL constants; nil when there are none.
    func numericMarkers() throws -> String? {
        let numbers = Set(model.schema.naValues.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }.filter(\.isFinite))
        return numbers.isEmpty ? nil : try numbers.sorted().map(num).joined(separator: ", ")
    }

    /// A numeric input's part: `present` of its (transformed) value when it is a number; `missing`
    /// (the imputed part) when it is missing; NULL otherwise (missing under drop, not a number).
    func numberCase(_ input: NumericInput, present: (String) throws -> String, missing: String?) throws -> String {
        let x = q(input.column)
        // A number is multiplied by a DOUBLE PRECISION weight (or centred by one) as it stands: an
        // integer or SQLite's numeric text converts exactly, without a second cast per row.
        let value = !input.chain.isEmpty ? q(input.finalName) : options.textNumbers ? "CAST(\(x) AS DOUBLE PRECISION)" : x
        if options.textNumbers {
            return "CASE WHEN \(try isMissing(x)) THEN \(missing ?? Self.nullNumber) ELSE \(try present(value)) END"
        }
        return "CASE WHEN \(try isNumber(x)) THEN \(try present(value))" + (try missing.map { " WHEN \(try isMissing(x)) THEN \($0)" } ?? "") + " END"
    }

    // MARK: pieces

    /// log(1 + v) from ln alone, accurate to a few ulps: ln(u)·(v/(u − 1)) with u = 1 + v (Goldberg),
    /// v itself where 1 + v rounds to 1. No domain check.
    func log1p(_ v: String) -> String {
        "CASE WHEN 1 + \(v) = 1 THEN \(v) ELSE ln(1 + \(v)) * (\(v) / ((1 + \(v)) - 1)) END"
    }

    /// One transform of `v` (a column reference or a cast; NULL stays NULL).
    func transform(_ t: MetricTransform, _ v: String) throws -> String {
        switch t.kind {
        case .log1p:
            return "CASE WHEN \(v) > -1 THEN \(log1p(v)) END"
        case .asinh:
            // fdlibm's (glibc's) asinh: x below 2^-28; ln|x| + ln 2 from 2^28 + 2^8; the 2 < |x| formula
            // from 2 + 2^-19; log1p(|x| + x²/(1 + √(1 + x²))) between; the result takes x's sign.
            let a = "abs(\(v))"
            let sign = "(CASE WHEN \(v) < 0 THEN -1 ELSE 1 END)"
            let small = try num(0x1p-28), big = try num(0x1p28 + 0x1p8), two = try num(2 + 0x1p-19)
            // w ≥ 2^-28 here, so 1 + w > 1 and log1p(w) = ln(1 + w)·(w/((1 + w) − 1)) needs no other branch.
            let w = "(\(a) + \(v) * \(v) / (1 + sqrt(1 + \(v) * \(v))))"
            return """
            CASE
              WHEN \(a) < \(small) THEN \(v)
              WHEN \(a) >= \(big) THEN \(sign) * (ln(\(a)) + \(try num(M_LN2)))
              WHEN \(a) >= \(two) THEN \(sign) * ln(2 * \(a) + 1 / (sqrt(\(v) * \(v) + 1) + \(a)))
              ELSE \(sign) * (ln(1 + \(w)) * (\(w) / ((1 + \(w)) - 1)))
            END
            """
        case .clip:
            // min(max(x, lower), upper), the core's order.
            var lower = t.lower, upper = t.upper
            if lower == -.infinity { lower = nil }
            if upper == .infinity { upper = nil }
            if let l = lower, !l.isFinite { throw Diagnostic(.export, problem: "clip transform with lower bound \(l)") }
            if let u = upper, !u.isFinite { throw Diagnostic(.export, problem: "clip transform with upper bound \(u)") }
            var whens: [String] = []
            if let l = lower { whens.append("WHEN \(v) < \(try num(l)) THEN \(try num(upper.map { min(l, $0) } ?? l))") }
            if let u = upper { whens.append("WHEN \(v) > \(try num(u)) THEN \(try num(u))") }
            if whens.isEmpty { return v }
            return "CASE \(whens.joined(separator: " ")) ELSE \(v) END"
        }
    }

    /// The weight a level text gets, as the scorer resolves it: pooled → (other); a known level's weight;
    /// otherwise the unseen-level policy.
    func levelWeight(_ f: Feature, _ level: String) throws -> String {
        let resolved = f.pooled.contains(level) ? FeatureSpec.otherLevel : level
        if let slope = f.levelSlopes[resolved] { return try num(slope) }
        return try unseenWeight(f)
    }

    func unseenWeight(_ f: Feature) throws -> String {
        switch policy {
        case .error: return Self.nullNumber
        case .reference: return try num(0)
        case .other: return try num(f.levelSlopes[FeatureSpec.otherLevel] ?? 0)
        }
    }

    func categorical(_ f: Feature) throws -> String {
        let c = "CAST(\(q(f.spec.column)) AS TEXT)"
        var missingTest = "\(c) IS NULL"
        if !model.schema.naValues.isEmpty { missingTest += " OR LOWER(TRIM(\(c))) IN (\(SQLExport.normalisedMarkers(model.schema.naValues)))" }
        let missing = impute ? try levelWeight(f, FeatureSpec.missingLevel) : Self.nullNumber
        var whens: [String] = []
        var seen: Set<String> = []
        for level in (f.spec.pooledLevels ?? []) + (f.spec.levels ?? []) where !seen.contains(level) {
            seen.insert(level)
            whens.append("    WHEN \(SQLExport.text(level)) THEN \(try levelWeight(f, level))")
        }
        return """
        CASE
          WHEN \(missingTest) THEN \(missing)
          ELSE CASE \(c)
        \(whens.joined(separator: "\n"))
            ELSE \(try unseenWeight(f))
          END
        END
        """
    }

    func categoricalNote(_ f: Feature) -> String {
        var parts = ["\(f.spec.column): categorical"]
        if let r = f.spec.reference { parts.append("reference '\(r)'") }
        if let pooled = f.spec.pooledLevels, !pooled.isEmpty { parts.append("pooled into (other): \(pooled.joined(separator: ", "))") }
        parts.append("missing → " + (impute ? "level (missing)" : "NULL (the model drops incomplete rows)"))
        switch policy {
        case .error: parts.append("unseen levels → NULL (policy error)")
        case .reference: parts.append("unseen levels → reference (weight 0)")
        case .other: parts.append("unseen levels → (other)" + (f.levelSlopes[FeatureSpec.otherLevel] == nil ? " = reference, as there is no pool" : ""))
        }
        return parts.joined(separator: "; ")
    }

    func header(scale: ScoreScale, rounding: Bool, inputs: [(column: String, type: String)]) throws -> String {
        var lines: [String] = []
        lines.append("healthscore SQL export: churn probability, health score and band for each row of \(SQLExport.tableReference(options.sourceTable)).")
        lines.append(try Exporter.provenance(model))
        lines.append("One standard-SQL SELECT; runs unchanged on SQLite >= 3.35 built with its math functions (ln, exp, sqrt,")
        lines.append("floor; Debian and Ubuntu's libsqlite3 are), on PostgreSQL >= 12 and on DuckDB. It reproduces the scoring core:")
        switch scale.kind {
        case .probability:
            lines.append("  health_score = 100 × (1 - churn_probability).")
        case .points:
            lines.append("  health_score in points: \(scale.pointsToDoubleOdds ?? 20) points double the odds of staying, \(scale.referenceScore ?? 600) points at odds \(scale.referenceOdds ?? 50):1"
                         + (rounding ? "; base and each metric's points rounded half away from zero, as printed scorecards." : " (unrounded)."))
        }
        if let spec = model.scoring, !spec.bands.isEmpty {
            let bands = spec.bands.map { b in b.minScore.map { "\(b.label) >= \($0)" } ?? b.label }.joined(separator: ", ")
            lines.append("  band (best first): \(bands).")
        } else {
            lines.append("  band: NULL (the model has no bands).")
        }
        var inputLine = "Inputs:"
        for (n, c) in inputs.enumerated() {
            let item = " \(c.column) \(c.type)" + (n == inputs.count - 1 ? "; missing values are NULL." : ",")
            if inputLine.count + item.count > 110 { lines.append(inputLine); inputLine = "   " }
            inputLine += item
        }
        lines.append(inputLine)
        lines.append("Missing policy \(model.schema.missingPolicy.rawValue): " + (impute
            ? "a missing number takes its fill (plus its missing-indicator weight); a missing category is the level (missing)."
            : "a row with a missing value gets NULL outputs (the core refuses it)."))
        lines.append("Unseen category levels: \(policy.rawValue)" + (policy == .error ? " (the row gets NULL outputs)." : "."))
        let markers = model.schema.naValues.map { "'\($0)'" }.joined(separator: ", ")
        if options.textNumbers {
            lines.append("Numeric inputs may be TEXT: a value whose text is an NA marker (\(markers)) or NaN is missing; other text")
            lines.append("must be a number (PostgreSQL and DuckDB refuse the query naming the value).")
        } else {
            lines.append("Numeric inputs: numeric columns in PostgreSQL and DuckDB (a TEXT column fails the query: export with")
            lines.append("--text-numbers, or cast in a view); in SQLite text that is not a number gives NULL outputs and an NA marker")
            lines.append("(\(markers)) or NaN is missing.")
        }
        lines.append("Categories compare as text: store them as TEXT or INTEGER (a REAL 415 reads '415.0' in SQLite).")
        lines.append("Rows the core would refuse (drop-policy missing values, unseen levels under policy error, numbers that are")
        lines.append("not finite or not numbers, log1p of -1 or less) get NULL churn_probability, health_score and band.")
        lines.append("Constants are exact binary fractions CAST(m AS DOUBLE PRECISION) / 2^k (decimal value in a comment):")
        lines.append("PostgreSQL reads decimal literals as NUMERIC and SQLite 3.40 misreads some 17-digit decimals by one ulp.")
        lines.append("log1p and asinh are built from ln and sqrt (fdlibm's branches); exp(-|η|) is taken as 0 when |η| > 708.")
        lines.append("Rounding uses floor: ROUND differs between the engines and from Swift's half-away-from-zero.")
        return lines.map { "-- " + Self.commentSafe($0) }.joined(separator: "\n") + "\n"
    }

    /// Text safe inside a `--` comment (no line breaks).
    static func commentSafe(_ s: String) -> String {
        String(s.map { $0.isNewline ? " " : $0 })
    }
}
