import Foundation
import ScoringCore
import Support

/// The SQL expressions of one input: number and missing tests, transforms, level weights; and the
/// header comment of the SELECT.
extension SQLRenderer {
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
