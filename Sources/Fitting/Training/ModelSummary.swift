import Foundation
import ScoringCore

/// The statsmodels-style text summary of a fitted model.
public enum ModelSummary {
    public static func render(_ model: ModelArtifact) -> String {
        let f = model.fit
        let width = 100
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        func pair(_ a: String, _ b: String, _ c: String, _ d: String) {
            line(pad(a, 18) + pad(b, 32) + pad(c, 22) + d)
        }
        let rule = String(repeating: "=", count: width)
        let thin = String(repeating: "-", count: width)
        line("healthscore logistic regression: P(\(model.schema.target.column) = \(model.schema.target.positive))")
        let untrustworthy = model.warnings.filter(\.makesModelUntrustworthy)
        if !untrustworthy.isEmpty {
            line("NOT TRUSTWORTHY: \(untrustworthy.map(\.code).joined(separator: ", ")) — see the warnings below the table.")
        }
        line(rule)
        pair("Data:", model.training.file, "SHA-256:", String(model.training.sha256.prefix(16)) + "…")
        pair("Observations:", "\(f.nObservations)", "Churners:", "\(f.nEvents) (\(fixed(100 * Double(f.nEvents) / Double(max(f.nObservations, 1)), 1))%)")
        pair("Rows dropped:", "\(f.nDropped)", "Imputed cells:", "\(f.nImputedCells)")
        if let unlisted = model.schema.unlistedColumns {
            line("Left out:         \(unlisted.count) column(s) not listed in the config (metrics_only): \(unlisted.prefix(8).joined(separator: ", "))\(unlisted.count > 8 ? ", …" : "")")
        }
        pair("Converged:", f.converged ? "yes, \(f.iterations) iterations" : "NO (\(f.iterations) iterations)", "Rank:", "\(f.rank) (\(model.aliased.count) aliased)")
        pair("Log-likelihood:", fixed(f.logLikelihood, 4), "LL-null:", fixed(f.nullLogLikelihood, 4))
        pair("Deviance:", fixed(f.deviance, 4), "Null deviance:", fixed(f.nullDeviance, 4))
        pair("AIC:", fixed(f.aic, 4), "BIC:", fixed(f.bic, 4))
        pair("Pseudo R² (McF.):", fixed(f.pseudoR2, 4), "LR χ²(\(f.lrDegreesOfFreedom)):", "\(fixed(f.lrStatistic, 2)), p \(pValue(f.lrPValue))")
        pair("Covariance:", f.covariance, "Penalty:", f.penalty)
        let transformed = model.schema.features.compactMap { f in f.transforms.map { "\(f.column): \($0.map(\.name).joined(separator: " then "))" } }
        if !transformed.isEmpty { line("Transforms:       " + transformed.joined(separator: "; ")) }
        if let spec = model.scoring {
            let scale = spec.scale.kind == .points
                ? "points (\(setting(spec.scale.pointsToDoubleOdds ?? 20)) to double the odds, \(setting(spec.scale.referenceScore ?? 600)) at \(setting(spec.scale.referenceOdds ?? 50)):1\(spec.scale.rounds ? ", rounded" : ""))"
                : "probability (100 × retention probability)"
            let bands = spec.bands.map { b in b.minScore.map { "\(b.label) ≥ \(fixed($0, 2))" } ?? b.label }.joined(separator: " > ")
            line("Score:            \(scale); bands \(bands) (\(spec.bandMethod))")
            // 100 × retention crowds the cuts near 100 when churn is rare; points spread the same bands.
            if spec.scale.kind == .probability, let top = spec.bands.compactMap(\.minScore).filter(\.isFinite).max(), top >= 90 {
                line("                  (cuts near 100 are hard to read: 'healthscore export MODEL --format json --scale points --out")
                line("                  points.json' gives the same bands in points, 20 points doubling the odds of staying)")
            }
        }
        let groups = model.schema.features.filter { $0.kind == .group }
        for g in groups {
            let members = (g.members ?? []).map { ($0.sign < 0 ? "−" : "") + "z(\($0.column))" }.joined(separator: ", ")
            line("Group:            \(g.column) = mean of \(members)")
        }
        for c in model.schema.features where c.pooledLevels != nil {
            line("Pooled levels:    \(c.column): \(c.pooledLevels!.joined(separator: ", ")) → \(FeatureSpec.otherLevel)")
        }
        if let constraints = f.constraints {
            line("Constraints:      " + constraints.joined(separator: "; "))
            if constraints.contains(where: { $0.hasSuffix("(binding)") }) {
                line("Validity: terms held at a bound have no standard error, z, p or interval; those of the free terms treat the")
                line("held terms as fixed and are approximate (at a boundary the usual asymptotics do not hold). ℓ, AIC and BIC are")
                line("those of the constrained fit.")
            }
        }
        if f.penalty != "none" && f.penalty != "firth" {
            line("Validity: penalised estimates are biased toward zero by design; standard errors, z, p-values and intervals")
            line("are not reported because they would mislead (for L1 no plain p-value exists). Compare models by CV deviance.")
        }
        if f.penalty == "firth" {
            line("Firth fit: estimates maximise ℓ + ½·log|I|; the log-likelihood, AIC, BIC and LR test above use the plain ℓ at these estimates.")
        }
        line(rule)
        let header = pad("term", 30) + lpad("coef", 11) + lpad("std err", 11) + lpad("z", 9) + lpad("P>|z|", 9)
            + lpad("[0.025", 11) + lpad("0.975]", 10) + lpad("Δ churn", 16)
        line(header)
        line(thin)
        var impact: [String: MetricImpact] = [:]
        for i in model.impacts { impact[i.term] = i }
        for c in model.coefficients {
            var row = pad(truncate(c.term, 29), 30) + lpad(num(c.estimate), 11)
            row += lpad(c.standardError.map(num) ?? "n/a", 11)
            row += lpad(c.z.map { fixed($0, 3) } ?? "n/a", 9)
            row += lpad(c.pValue.map { $0 < 0.001 ? "<0.001" : fixed($0, 3) } ?? "n/a", 9)
            row += lpad(c.ciLower.map(num) ?? "n/a", 11) + lpad(c.ciUpper.map(num) ?? "n/a", 10)
            if let i = impact[c.term] {
                row += lpad((i.deltaProbability >= 0 ? "+" : "") + fixed(100 * i.deltaProbability, 2) + " pp", 16)
            }
            out += row + "\n"
        }
        for a in model.aliased { line(pad(truncate(a, 29), 30) + lpad("aliased", 11)) }
        line(thin)
        if let base = model.impacts.first(where: { $0.change == "+1 sd" })?.baseProbability {
            // That customer's churn is not the churn rate (the mean of p over customers): say both.
            let observed = model.fit.nObservations > 0 ? " — not the observed churn rate, \(fixed(100 * Double(model.fit.nEvents) / Double(model.fit.nObservations), 1))%" : ""
            line("Δ churn: change in churn probability (percentage points) for a customer with every metric at its")
            line("training average (categories at their level shares), whose churn probability is \(fixed(100 * base, 1))%\(observed),")
            line("when a metric rises by one standard deviation, or a category moves from its reference level.")
        }
        if let pairs = model.fit.strongCorrelations, !pairs.isEmpty {
            line()
            line("Strongly correlated terms (|r| ≥ 0.8):")
            for p in pairs.prefix(12) { line("  r = \(fixed(p.r, 4))  \(p.a) ~ \(p.b)") }
            if pairs.count > 12 { line("  … \(pairs.count - 12) more in the model file") }
        }
        if !model.warnings.isEmpty {
            line()
            line("Warnings:")
            for (i, w) in model.warnings.enumerated() { line("[\(i + 1)] \(w.code): \(w.message)") }
        }
        return out
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
    static func truncate(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    public static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        return String(format: "%.\(digits)f", x)
    }

    /// Four significant decimals, switching to exponent form for very large or small magnitudes.
    /// A setting the analyst typed (20, 600, 1.5): as given, without padding zeros.
    static func setting(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    static func num(_ x: Double) -> String {
        let a = abs(x)
        if a != 0 && (a >= 1e6 || a < 1e-4) { return String(format: "%.3e", x) }
        return String(format: "%.4f", x)
    }

    static func pValue(_ p: Double) -> String { p < 1e-16 ? "< 1e-16" : (p < 0.001 ? String(format: "= %.2e", p) : "= " + fixed(p, 4)) }
}
