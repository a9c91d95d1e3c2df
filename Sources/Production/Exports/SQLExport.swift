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

}
