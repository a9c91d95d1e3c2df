import Foundation
import FitEngine
import ScoringCore
import Tabular
import Support

/// Phase timings for `--timings` and the benchmark.
public struct Timings: Sendable {
    public var phases: [(name: String, seconds: Double)] = []
    public init() {}
    public mutating func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = Timings.now()
        defer { record(name, since: start) }
        return try body()
    }

    /// For work that must not run inside a closure (a closure capture would keep a second
    /// reference to a large array that the work mutates in place).
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    public mutating func record(_ name: String, since start: UInt64) {
        phases.append((name, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
    }
}

public struct TrainingResult: Sendable {
    public var model: ModelArtifact
    public var fit: LogisticFit
    public var correlations: TermCorrelations? = nil
}

/// Fits a design and turns the result into a model artifact with its inference table.
public enum Trainer {
    public static let toolVersion = "0.1.0"

    public static func train(design: consuming Design, source: TrainingSource, options: FitOptions = FitOptions(),
                             bounds: [TermBound] = [], scoring: ScoringChoice = ScoringChoice(),
                             timings: inout Timings) throws -> TrainingResult {
        let facts = DesignFacts(names: design.termNames, sources: design.termSources, schema: design.schema,
                                nDropped: design.nDropped, nImputed: design.nImputedCells, dropReasons: design.dropReasons,
                                events: Int(design.response.reduce(0, +)), distinctIds: design.distinctIds, scoring: scoring)
        let names = facts.names
        var options = options
        if let box = try box(bounds, names: names) {
            options.lowerBounds = box.lower
            options.upperBounds = box.upper
        }
        var covarianceLabel = options.covariance.name
        var clusteredBy: String? = nil
        if case .cluster = options.covariance {
            guard let codes = design.clusterCodes, let column = facts.schema.clusterColumn else {
                preconditionFailure("cluster covariance needs ColumnRoles.cluster")
            }
            options.covariance = .cluster(codes: codes)
            clusteredBy = column
            covarianceLabel = "cluster:\(column) (\(design.clusterCount) clusters)"
        }
        var designStorage: [Double] = []
        swap(&designStorage, &design.storage)
        let problem = LogisticProblem(design: Matrix(rows: design.rows, cols: names.count, columnMajor: designStorage),
                                      response: design.response, weights: design.weights, termNames: names)
        designStorage = []
        // Handed over with `consume`: the fit standardises the design in place, without a copy.
        let started = Timings.now()
        let fit = LogisticRegression.fit(consume problem, options: options)
        timings.record("fit", since: started)
        let scores = fit.fittedProbabilities.map { p in facts.scoring.scale.score(eta: min(max(log(p) - log1p(-p), -745), 745)) }
        return finish(fit: fit, facts: facts, source: source, trainingScores: scores, covarianceLabel: covarianceLabel,
                      clusteredBy: clusteredBy, bounds: bounds, firth: options.firth)
    }

    /// What the artifact records of the design besides the fit.
    struct DesignFacts {
        var names: [String]
        var sources: [(column: String?, level: String?)]
        var schema: InputSchema
        var nDropped: Int, nImputed: Int
        var dropReasons: [String: Int]
        var events: Int
        var distinctIds: Int?
        var scoring: ScoringChoice
    }

    /// The artifact of a maximum-likelihood fit, in memory or streamed: inference table, warnings,
    /// bands cut at the training scores' quantiles. `clusteredBy`: the column of cluster-robust
    /// standard errors, if any.
    static func finish(fit: LogisticFit, facts: DesignFacts, source: TrainingSource, trainingScores: [Double],
                       covarianceLabel: String, clusteredBy: String? = nil, bounds: [TermBound], firth: Bool) -> TrainingResult {
        let names = facts.names
        var model = artifact(fit: fit, names: names, sources: facts.sources, schema: facts.schema, source: source,
                             nDropped: facts.nDropped, nImputed: facts.nImputed, dropReasons: facts.dropReasons,
                             events: facts.events)
        model.fit.covariance = covarianceLabel
        model.scoring = facts.scoring.spec(trainingScores: trainingScores)
        if let ids = facts.distinctIds, ids < model.fit.nObservations, let id = facts.schema.id, clusteredBy != id {
            model.warnings.append(ModelWarning(
                .repeatedIDs,
                message: "\(model.fit.nObservations) rows for \(ids) customers ('\(id)'): snapshots of one customer are not independent, so standard errors from --covariance \(covarianceLabel) are too small; refit with --covariance cluster:\(id)"))
        }
        if !fit.bindingTerms.isEmpty {
            model.warnings.append(bindingWarning(fit.bindingTerms.map { names[$0] }, kkt: fit.kktResidual))
        }
        if !bounds.isEmpty {
            model.fit.method += "; box-constrained (active-set Newton)"
            model.fit.constraints = describe(bounds, binding: Set(fit.bindingTerms.map { names[$0] }))
        }
        if firth {
            model.fit.penalty = "firth"
            model.fit.method = "Firth's bias-reduced likelihood ℓ* = ℓ + ½·log|I| (modified-score steps I⁻¹U*, backtracking on ℓ*; once the predicted gain is below ℓ*'s rounding, a step must shrink U*ᵀI⁻¹U* by a tenth)"
            model.fit.convergenceRule = "modified-score decrement U*ᵀI⁻¹U*/2 ≤ \(FitOptions().tolerance)·(|ℓ|+1) (the rounding of ℓ)"
        }
        return TrainingResult(model: model, fit: fit)
    }

    /// Per-term lower and upper bounds for the solvers (nil when there are none); the intercept stays free.
    public static func box(_ bounds: [TermBound], names: [String]) throws -> (lower: [Double], upper: [Double])? {
        guard !bounds.isEmpty else { return nil }
        var lower = [Double](repeating: -.infinity, count: names.count), upper = [Double](repeating: .infinity, count: names.count)
        for b in bounds {
            guard let j = names.firstIndex(of: b.term), j != 0 else {
                throw Diagnostic(.fit, problem: "--bound names '\(b.term)', which is not a term of this model (terms: \(names.dropFirst().prefix(10).joined(separator: ", "))\(names.count > 11 ? ", …" : "")). Fix: use a term name as printed in the summary, e.g. plan[pro]<=0")
            }
            if let l = b.lower { lower[j] = max(lower[j], l) }
            if let u = b.upper { upper[j] = min(upper[j], u) }
            guard lower[j] <= upper[j] else {
                throw Diagnostic(.fit, problem: "--bound gives '\(b.term)' an empty range [\(lower[j]), \(upper[j])]. Fix: check the bounds")
            }
        }
        return (lower, upper)
    }

    static func bindingWarning(_ terms: [String], kkt: Double) -> ModelWarning {
        ModelWarning(
            .bindingConstraint,
            message: "the data disagree with the business prior: \(terms.joined(separator: ", ")) held at \(terms.count == 1 ? "its bound" : "their bounds") (the likelihood pushes past \(terms.count == 1 ? "it" : "them")); no standard error is given for held terms and the others are conditional on them. KKT residual \(String(format: "%.1e", kkt))",
            terms: terms)
    }

    /// "term <= v" / "term >= v" / "l <= term <= u", marked when binding.
    static func describe(_ bounds: [TermBound], binding: Set<String>) -> [String] {
        bounds.map { b in
            var text: String
            switch (b.lower, b.upper) {
            case let (l?, u?): text = "\(l) <= \(b.term) <= \(u)"
            case let (l?, nil): text = "\(b.term) >= \(l)"
            case let (nil, u?): text = "\(b.term) <= \(u)"
            case (nil, nil): text = b.term
            }
            return binding.contains(b.term) ? text + " (binding)" : text
        }
    }

    /// An elastic-net fit at one λ (glmnet's objective). Standard errors, z, p and intervals are
    /// left out: they are not valid for penalised estimates, and the summary says so.
    public static func trainPenalized(design: consuming Design, source: TrainingSource, penalty: ElasticNetPenalty,
                                      bounds: [TermBound] = [], scoring: ScoringChoice = ScoringChoice(),
                                      timings: inout Timings) throws -> (model: ModelArtifact, fit: PenalizedFit) {
        let names = design.termNames
        var penalty = penalty
        if let box = try box(bounds, names: names) {
            penalty.lowerBounds = box.lower
            penalty.upperBounds = box.upper
        }
        let n = design.rows
        // Column means for the average customer of the business reading.
        var means = [Double](repeating: 0, count: names.count)
        var scales = [Double](repeating: 0, count: names.count)
        design.storage.withUnsafeBufferPointer { s in
            for j in names.indices {
                var m = 0.0
                for i in 0..<n { m += s[j * n + i] }
                m /= Double(max(n, 1))
                var ss = 0.0
                for i in 0..<n { let d = s[j * n + i] - m; ss += d * d }
                means[j] = m
                scales[j] = (ss / Double(max(n, 1))).squareRoot()
            }
        }
        var designStorage: [Double] = []
        swap(&designStorage, &design.storage)
        let problem = LogisticProblem(design: Matrix(rows: n, cols: names.count, columnMajor: designStorage),
                                      response: design.response, weights: design.weights, termNames: names)
        designStorage = []
        // Handed over: the fit standardises the design in place, without a copy.
        let started = Timings.now()
        let (fit, eta) = ElasticNet.fit(consuming: problem, penalty: penalty)
        timings.record("fit", since: started)
        var coefficients: [Coefficient] = []
        for (j, name) in names.enumerated() {
            let beta = fit.coefficients[j]
            coefficients.append(Coefficient(term: name, column: design.termSources[j].column, level: design.termSources[j].level,
                                            estimate: beta, standardError: nil, z: nil, pValue: nil, ciLower: nil, ciUpper: nil,
                                            oddsRatio: exp(beta).isFinite ? exp(beta) : nil))
        }
        let events = Int(design.response.reduce(0, +))
        let nullDeviance: Double = {
            let p = Double(events) / Double(n)
            return -2 * Double(n) * (p * log(p) + (1 - p) * log(1 - p))
        }()
        let k = fit.nonZero + 1
        let kind = penalty.alpha == 0 ? "l2 (ridge)" : (penalty.alpha == 1 ? "l1 (lasso)" : "elastic net")
        let summary = FitSummary(
            method: "penalised likelihood, glmnet's objective: IRLS + coordinate descent, Newton polish on the active set, KKT-checked",
            nObservations: n, nDropped: design.nDropped, nImputedCells: design.nImputedCells, nEvents: events,
            logLikelihood: -fit.deviance / 2, nullLogLikelihood: -nullDeviance / 2,
            deviance: fit.deviance, nullDeviance: nullDeviance,
            aic: fit.deviance + 2 * Double(k), bic: fit.deviance + log(Double(n)) * Double(k),
            pseudoR2: 1 - fit.deviance / nullDeviance, lrStatistic: max(0, nullDeviance - fit.deviance),
            lrDegreesOfFreedom: k - 1, lrPValue: Inference.chiSquaredUpperTail(max(0, nullDeviance - fit.deviance), degreesOfFreedom: k - 1),
            rank: k, iterations: fit.iterations, converged: fit.converged,
            convergenceRule: "KKT residual ≤ 1e-12 on the standardised scale (measured \(fit.kktViolation))",
            history: [])
        var warnings: [ModelWarning] = [ModelWarning(
            .penalisedInference,
            message: "\(kind) fit at λ = \(penalty.lambda), α = \(penalty.alpha): standard errors, z, p-values and intervals are not reported because they are not valid for penalised estimates; AIC/BIC count the \(k) non-zero terms")]
        if !fit.converged {
            warnings.append(ModelWarning(.notConverged, message: "the penalised fit did not reach its KKT tolerance (residual \(fit.kktViolation))"))
        }
        if design.nDropped > 0 {
            warnings.append(droppedRowsWarning(design.nDropped, reasons: design.dropReasons, schema: design.schema))
        }
        if let w = churnMajorityWarning(events: events, rows: n, schema: design.schema) { warnings.append(w) }
        if let w = datesAsCategoryWarning(schema: design.schema) { warnings.append(w) }
        var model = ModelArtifact(
            toolVersion: toolVersion, createdAt: ISO8601DateFormatter().string(from: Date()), training: source,
            schema: design.schema, coefficients: coefficients, aliased: [], fit: summary, warnings: warnings,
            impacts: [])
        model.fit.penalty = "\(kind): alpha=\(penalty.alpha), lambda=\(penalty.lambda)"
        model.fit.penaltyAlpha = penalty.alpha
        model.fit.penaltyLambda = penalty.lambda
        model.fit.lambdaChoice = "value"
        if !bounds.isEmpty {
            model.fit.method += "; box-constrained"
            model.fit.constraints = describe(bounds, binding: Set(fit.bindingTerms.map { names[$0] }))
            if !fit.bindingTerms.isEmpty { model.warnings.append(bindingWarning(fit.bindingTerms.map { names[$0] }, kkt: fit.kktViolation)) }
        }
        model.fit.covariance = "not estimated (penalised)"
        model.impacts = impactsFrom(coefficients: fit.coefficients.map { Optional($0) }, means: means, scales: scales,
                                    names: names, sources: design.termSources, schema: design.schema)
        model.scoring = scoring.spec(trainingScores: eta.map(scoring.scale.score(eta:)))
        return (model, fit)
    }

    static func artifact(fit: LogisticFit, names: [String], sources: [(column: String?, level: String?)],
                         schema: InputSchema, source: TrainingSource, nDropped: Int, nImputed: Int,
                         dropReasons: [String: Int], events: Int) -> ModelArtifact {
        var coefficients: [Coefficient] = []
        for (j, name) in names.enumerated() {
            guard let beta = fit.coefficients[j] else { continue }
            let se = fit.standardErrors[j]
            let z = se.flatMap { $0 > 0 ? beta / $0 : nil }
            coefficients.append(Coefficient(
                term: name, column: sources[j].column, level: sources[j].level, estimate: beta,
                standardError: se, z: z, pValue: z.map(Inference.twoSidedP),
                ciLower: se.map { beta - Inference.z95 * $0 }, ciUpper: se.map { beta + Inference.z95 * $0 },
                oddsRatio: exp(beta).isFinite ? exp(beta) : nil))
            coefficients[coefficients.count - 1].vif = fit.varianceInflation.indices.contains(j) ? fit.varianceInflation[j] : nil
        }
        let n = Double(fit.nObservations)
        let k = fit.rank
        let lr = max(0, fit.nullDeviance - fit.deviance)
        let summary = FitSummary(
            method: fit.sampledIterations > 0
                ? "maximum likelihood (Newton/IRLS, Cholesky, Armijo backtracking; \(fit.sampleStartIterations > 0 ? "started at the optimum of a small fixed row sample (\(fit.sampleStartIterations) Newton steps), then " : "")\(fit.sampledIterations) of \(fit.iterations) steps on XᵀWX of 1/8 row samples (a different eighth each step, summed since the last large step), the last step and the covariance on the exact information)"
                : "maximum likelihood (Newton/IRLS, Cholesky, Armijo backtracking)",
            nObservations: fit.nObservations, nDropped: nDropped, nImputedCells: nImputed, nEvents: events,
            logLikelihood: fit.logLikelihood, nullLogLikelihood: fit.nullLogLikelihood,
            deviance: fit.deviance, nullDeviance: fit.nullDeviance,
            aic: fit.deviance + 2 * Double(k), bic: fit.deviance + log(n) * Double(k),
            pseudoR2: 1 - fit.logLikelihood / fit.nullLogLikelihood,
            lrStatistic: lr, lrDegreesOfFreedom: k - 1,
            lrPValue: Inference.chiSquaredUpperTail(lr, degreesOfFreedom: k - 1),
            rank: k, iterations: fit.iterations, converged: fit.converged,
            convergenceRule: "Newton decrement gᵀH⁻¹g/2 ≤ \(FitOptions().tolerance)·(|ℓ|+1) (the rounding of ℓ)",
            history: fit.history.map {
                IterationSummary(iteration: $0.iteration, deviance: $0.deviance, decrement: $0.decrement,
                                 stepSize: $0.stepSize, halvings: $0.halvings)
            })
        var warnings = fit.warnings.map { warning(for: $0, names: names, schema: schema, rows: fit.nObservations) }
        let collinear = coefficients.filter { ($0.vif ?? 0) > 10 }
        if !collinear.isEmpty {
            let listed = collinear.sorted { $0.vif! > $1.vif! }.prefix(8)
                .map { "\($0.term) (VIF \(ModelSummary.fixed($0.vif!, 0)))" }.joined(separator: ", ")
            warnings.append(ModelWarning(
                .collinear,
                message: "\(collinear.count) term(s) have variance inflation above 10: \(listed)\(collinear.count > 8 ? ", …" : ""); their individual weights and Δ churn cannot be read on their own — \(collinearFix(collinear.map(\.term), schema: schema))",
                terms: collinear.map(\.term)))
        }
        if nDropped > 0 { warnings.append(droppedRowsWarning(nDropped, reasons: dropReasons, schema: schema)) }
        if let w = churnMajorityWarning(events: events, rows: fit.nObservations, schema: schema) { warnings.append(w) }
        if let w = datesAsCategoryWarning(schema: schema) { warnings.append(w) }
        return ModelArtifact(
            toolVersion: toolVersion, createdAt: ISO8601DateFormatter().string(from: Date()), training: source,
            schema: schema, coefficients: coefficients, aliased: fit.aliasedTerms.map { names[$0] },
            fit: summary, warnings: warnings,
            impacts: impacts(fit: fit, names: names, sources: sources, schema: schema))
    }

    /// The fix for separating terms: Firth always works. A separating category level can instead be
    /// pooled into (other) with the column's other rare levels, when some `--rare-levels` share
    /// leaves no level (the pool included) whose rows all carry one label; that share is named,
    /// else the message says pooling cannot help.
    static func separationFix(_ terms: [String], schema: InputSchema?, rows n: Int) -> String {
        var fix = "Fix: refit with --penalty firth (finite, bias-reduced weights)"
        let columns = (schema?.features ?? []).filter { f in
            f.kind == .categorical && (f.levels ?? []).contains { terms.contains(FeatureSpec.levelTerm(f.column, $0)) }
        }
        guard !columns.isEmpty, n > 0 else { return fix + ", or remove the terms" }
        var shares: [Double] = []
        for f in columns {
            guard let levelShares = f.levelShares, let churners = f.levelChurners else { return fix }
            let counts = levelShares.map { Int(($0 * Double(n)).rounded()) }
            guard let share = separationFreePoolingShare(counts: counts, churners: churners, rows: n) else {
                let separating = zip(f.levels ?? [], counts).filter { terms.contains(FeatureSpec.levelTerm(f.column, $0.0)) }
                let sizes = separating.prefix(3).map { "\(FeatureSpec.levelTerm(f.column, $0.0)) has \($0.1) row\($0.1 == 1 ? "" : "s")" }
                    .joined(separator: ", ") + (separating.count > 3 ? ", …" : "")
                let typo = separating.contains { $0.1 <= 2 } ? " (a level with one or two rows is often a misspelling: correct it in the data)" : ""
                return fix + "; pooling rare levels cannot remove it (\(sizes), and no pool of at most a tenth of the rows holds both churners and stayers)\(typo), so otherwise --exclude \(f.column)"
            }
            shares.append(share)
        }
        return fix + ", or pool rare levels with --rare-levels \(shares.max()!) (then no level of \(columns.map { "'\($0.column)'" }.joined(separator: ", ")) has rows of one label only)"
    }

    /// The smallest `--rare-levels` share (two significant digits) after which every level of a
    /// column, and the pool of the rare ones, has rows of both labels; nil when none does.
    static func separationFreePoolingShare(counts: [Int], churners: [Int], rows n: Int) -> Double? {
        func separates(_ count: Int, _ events: Int) -> Bool { count > 0 && (events == 0 || events == count) }
        // Candidate cuts: just above each level's count, smallest first.
        for cut in Set(counts.map { $0 + 1 }).sorted() where cut <= n {
            var pooled = 0, pooledEvents = 0, bad = false
            for (c, e) in zip(counts, churners) {
                if c < cut { pooled += c; pooledEvents += e } else if separates(c, e) { bad = true; break }
            }
            // The pool may take the rare levels only: at most a tenth of the rows (more would pool
            // the metric away, as a typo's one row would with the next-largest level).
            if bad || separates(pooled, pooledEvents) || pooled * 10 > n { continue }
            var scale = 1.0
            let share = Double(cut) / Double(n)
            while share * scale < 10 { scale *= 10 }
            return (share * scale).rounded(.up) / scale
        }
        return nil
    }

    /// Category levels compared with a rare reference level inflate each other's variance (each is
    /// nearly "not the others"): a common reference is the fix there; correlated numbers want a group.
    static func collinearFix(_ terms: [String], schema: InputSchema) -> String {
        var fixes: [String] = []
        for f in schema.features where f.kind == .categorical {
            guard let levels = f.levels, let shares = f.levelShares, shares.count == levels.count,
                  levels.dropFirst().contains(where: { terms.contains(FeatureSpec.levelTerm(f.column, $0)) }),
                  shares[0] < 0.05, let common = zip(levels, shares).max(by: { $0.1 < $1.1 }), common.0 != levels[0] else { continue }
            fixes.append("'\(f.column)' is compared with its rare level '\(levels[0])' (\(String(format: "%.1f", 100 * shares[0]))% of rows): --reference \(f.column)=\(common.0) (its most common level) removes that")
        }
        let numeric = "drop or combine one of each correlated group (a config group, or --group-correlated 0.9)"
        return fixes.isEmpty ? numeric : fixes.joined(separator: "; ") + "; for correlated numbers, " + numeric
    }

    /// Rows left out, by reason; `--missing impute` is advised only where it would keep them.
    static func droppedRowsWarning(_ count: Int, reasons: [String: Int], schema: InputSchema) -> ModelWarning {
        let listed = reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        let metricGaps = reasons.keys.contains { $0.hasPrefix("missing ") && $0 != "missing label" && !$0.hasSuffix("(weight)") && !$0.hasSuffix("(cluster)") }
        var advice = schema.missingPolicy == .drop && metricGaps ? "; pass --missing impute to keep rows with missing metrics" : ""
        // A category whose "missing" cells are a real value spelled like a missing one (NA for North America).
        let categories = schema.features.filter { $0.kind == .categorical }.map(\.column)
        if let blank = categories.first(where: { reasons["missing \($0)"] != nil }), schema.naValues.count > 1 {
            advice += "; if a spelling such as NA or NULL is a real value of '\(blank)' (NA for North America), pass --no-default-na"
        }
        return ModelWarning(.droppedRows, message: "\(count) rows dropped (\(listed))\(advice)")
    }

    /// A category whose levels are calendar dates is almost always the snapshot column without
    /// `--time`: its weights learn the training months, which next month's customers never share.
    static func datesAsCategoryWarning(schema: InputSchema) -> ModelWarning? {
        let dated = schema.features.filter { f in
            guard f.kind == .categorical else { return false }
            let levels = (f.levels ?? []) + (f.pooledLevels ?? [])
            let named = levels.filter { $0 != FeatureSpec.otherLevel && $0 != FeatureSpec.missingLevel }
            return named.count >= 3 && named.filter(looksLikeDate).count * 10 >= named.count * 9
        }
        guard let first = dated.first else { return nil }
        let example = (first.levels ?? []).first(where: looksLikeDate) ?? ""
        let columns = dated.map { "'\($0.column)'" }.joined(separator: ", ")
        return ModelWarning(.datesAsCategory,
                            message: "\(columns) hold\(dated.count == 1 ? "s" : "") calendar dates (such as \(example)) and \(dated.count == 1 ? "was" : "were") fitted as a category: its weights describe the training months, which later customers never share — refit with --time \(first.column) (the snapshot date), or --exclude it",
                            terms: dated.map(\.column))
    }

    /// 2024-01-31, 2024-01, 2024/01/31, 31/01/2024 or 01/31/2024, optionally followed by a time.
    static func looksLikeDate(_ text: String) -> Bool {
        let head = text.split(whereSeparator: { $0 == "T" || $0 == " " }).first.map(String.init) ?? ""
        let parts = head.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." }).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil }) else { return false }
        let numbers = parts.compactMap { Int($0) }
        let yearFirst = parts[0].count == 4, yearLast = parts.count == 3 && parts[2].count == 4
        guard yearFirst || yearLast else { return false }
        let year = yearFirst ? numbers[0] : numbers[2]
        let rest = yearFirst ? Array(numbers.dropFirst()) : Array(numbers.dropLast())
        return (1900...2100).contains(year) && rest.allSatisfy { (1...31).contains($0) } && rest.contains { $0 <= 12 }
    }

    /// Churn is the rarer outcome in nearly every customer base: a majority of "churners" usually
    /// means `--positive` names the customers who stayed, which flips every weight's sign.
    static func churnMajorityWarning(events: Int, rows: Int, schema: InputSchema) -> ModelWarning? {
        guard rows > 0, events * 2 > rows else { return nil }
        let share = String(format: "%.1f%%", 100 * Double(events) / Double(rows))
        return ModelWarning(.churnMajority,
                            message: "\(share) of the fitted rows are labelled churned ('\(schema.target.positive)'); churn is usually the rarer outcome — if '\(schema.target.positive)' means the customer stayed, refit with --positive naming the churned value")
    }

    static func warning(for w: FitWarning, names: [String], schema: InputSchema? = nil, rows n: Int = 0) -> ModelWarning {
        switch w {
        case .aliased(let terms):
            let t = terms.map { names[$0] }
            return ModelWarning(.aliased, message: "\(t.count) term(s) are linear combinations of earlier terms and were left out (like R's NA coefficients): \(t.joined(separator: ", "))", terms: t)
        case .separation(let complete, let terms, let rows):
            let t = terms.map { names[$0] }
            let kind = complete ? "complete separation" : "quasi-complete separation"
            return ModelWarning(complete ? .separation : .quasiSeparation,
                                message: "\(kind): \(t.isEmpty ? "a combination of terms" : t.joined(separator: ", ")) predict churn perfectly for \(rows) row(s); the maximum-likelihood weights do not exist and these estimates and standard errors are not trustworthy. \(separationFix(t, schema: schema, rows: n))",
                                terms: t)
        case .extremeFittedProbabilities(let rows):
            return ModelWarning(.extremeProbabilities, message: "\(rows) row(s) have fitted probabilities numerically 0 or 1; check them for data errors")
        case .notConverged(let iterations, let decrement, let limit):
            let advice = iterations >= limit
                ? "it reached the iteration limit: raise --max-iterations (now \(limit)) or check for separation"
                : "it stopped before the limit of \(limit) because no step lowered the objective further: check for separation or near-collinear terms"
            return ModelWarning(.notConverged, message: "the fit did not converge after \(iterations) iterations (Newton decrement \(decrement)); \(advice)")
        case .singularInformation(let ridge):
            return ModelWarning(.singularInformation, message: "the information matrix became numerically singular during the fit; a ridge of \(ridge)×max diagonal was added to take steps — usually a sign of separation")
        }
    }

    /// Churn probability of the average customer, and after moving one metric: +1 sd for a number,
    /// switching from the reference level for a category level.
    static func impacts(fit: LogisticFit, names: [String], sources: [(column: String?, level: String?)],
                        schema: InputSchema) -> [MetricImpact] {
        impactsFrom(coefficients: fit.coefficients, means: fit.columnMeans, scales: fit.columnScales,
                    names: names, sources: sources, schema: schema)
    }

    static func impactsFrom(coefficients: [Double?], means: [Double], scales: [Double], names: [String],
                            sources: [(column: String?, level: String?)], schema: InputSchema) -> [MetricImpact] {
        var etaBar = 0.0
        for j in names.indices { if let b = coefficients[j] { etaBar += b * (j == 0 ? 1 : means[j]) } }
        func prob(_ eta: Double) -> Double { Scorer.score(eta: eta).churnProbability }
        let base = prob(etaBar)
        var out: [MetricImpact] = []
        for j in names.indices.dropFirst() {
            guard let beta = coefficients[j], let column = sources[j].column,
                  let spec = schema.features.first(where: { $0.column == column }) else { continue }
            if sources[j].level != nil {
                // Remove this column's average dummy mix, then set the one level.
                var etaRef = etaBar
                for l in names.indices where sources[l].column == column && sources[l].level != nil {
                    etaRef -= (coefficients[l] ?? 0) * means[l]
                }
                out.append(MetricImpact(term: names[j], change: "vs \(spec.reference ?? "reference")",
                                        baseProbability: prob(etaRef), newProbability: prob(etaRef + beta)))
            } else if names[j] == column {
                out.append(MetricImpact(term: names[j], change: "+1 sd",
                                        baseProbability: base, newProbability: prob(etaBar + beta * scales[j])))
            }
        }
        return out
    }
}
