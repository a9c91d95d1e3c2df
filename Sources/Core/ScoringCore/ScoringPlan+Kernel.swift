import Foundation
import Support

extension ScoringPlan {
    /// Scores a block of rows: η, probability, score and band per row, and with `reasons > 0` the
    /// metrics costing the most points (actionable ones only), worst first. `columns` follow
    /// `inputs`; an absent one (nil) fails the block, since no row could be scored. A row that
    /// cannot be scored (a missing value under `--missing drop`, an unseen level, a cell that is no
    /// number, a value outside a transform's domain) is listed in `problems` and the rest go on.
    /// `threads` splits the rows; the result does not depend on it.
    /// `contributionsInLogOdds`: each feature's term less its average (the log-odds part of η)
    /// instead of its points, for comparing runs (points on the probability scale are not additive).
    public func score(_ columns: [PlanColumn?], rowCount: Int, reasons k: Int = 0, contributions: Bool = false,
                      contributionsInLogOdds: Bool = false, threads: Int = 1) throws -> ScoredRows {
        precondition(columns.count == inputs.count, "one column per plan input")
        for (i, c) in columns.enumerated() {
            guard let c else {
                throw Diagnostic(.scoring, row: nil, column: inputs[i], problem: "the model needs this column and the input has none",
                                   fix: "add the column '\(inputs[i])' to the input (same name as in training)")
            }
            precondition(c.count >= rowCount, "a column shorter than the block")
        }
        let bound = features.map { self.bound($0, columns) }
        let p = features.count
        var out = ScoredRows(count: rowCount, eta: .init(repeating: .nan, count: rowCount),
                             probability: .init(repeating: .nan, count: rowCount), score: .init(repeating: .nan, count: rowCount),
                             band: .init(repeating: -1, count: rowCount), problems: [], reasons: k,
                             reasonFeature: .init(repeating: -1, count: rowCount * k),
                             reasonPoints: .init(repeating: 0, count: rowCount * k),
                             contributions: contributions ? .init(repeating: .nan, count: rowCount * p) : [])
        let parts = max(1, min(threads, rowCount / 2048 + 1))
        var problems = [[RowProblem]](repeating: [], count: parts)
        let needsPoints = k > 0 || contributions || scale.rounds
        out.eta.withUnsafeMutableBufferPointer { eta in
        out.probability.withUnsafeMutableBufferPointer { prob in
        out.score.withUnsafeMutableBufferPointer { score in
        out.band.withUnsafeMutableBufferPointer { band in
        out.reasonFeature.withUnsafeMutableBufferPointer { rf in
        out.reasonPoints.withUnsafeMutableBufferPointer { rp in
        out.contributions.withUnsafeMutableBufferPointer { contrib in
        problems.withUnsafeMutableBufferPointer { found in
            let sink = Sink(eta: .init(eta), probability: .init(prob), score: .init(score), band: .init(band),
                            reasonFeature: .init(rf), reasonPoints: .init(rp),
                            contributions: contributions ? .init(contrib) : nil, logOdds: contributionsInLogOdds)
            let found = DisjointWrites(found)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let lo = rowCount * part / parts, hi = rowCount * (part + 1) / parts
                found[part] = scoreRows(lo..<hi, bound: bound, reasons: k, needsPoints: needsPoints, into: sink)
            }
        }}}}}}}}
        out.problems = problems.flatMap { $0 }
        return out
    }

    /// A feature's inputs bound for one block (a group's members in order).
    func bound(_ f: Feature, _ columns: [PlanColumn?]) -> [Bound] {
        switch f.kind {
        case .numeric: return [bind(columns[f.input]!, numeric: true, feature: nil)]
        case .categorical: return [bind(columns[f.input]!, numeric: false, feature: f)]
        case .group: return f.members.map { bind(columns[$0.input]!, numeric: true, feature: nil) }
        }
    }

    /// Feature `j`'s term per row (rows with a problem in this feature hold 0).
    func terms(ofFeature j: Int, _ columns: [PlanColumn?], rowCount: Int) -> [Double] {
        let bound = self.bound(features[j], columns)
        var out = [Double](repeating: 0, count: rowCount)
        var problem = [Int32](repeating: -1, count: rowCount)
        out.withUnsafeMutableBufferPointer { t in
            problem.withUnsafeMutableBufferPointer { p in
                featureTerms(j, bound, rows: 0..<rowCount, terms: t.baseAddress!, problem: p.baseAddress!)
            }
        }
        return out
    }

    /// Output pointers of one call; parts write disjoint rows.
    struct Sink: Sendable {
        var eta, probability, score: DisjointWrites<Double>
        var band: DisjointWrites<Int32>
        var reasonFeature: DisjointWrites<Int32>
        var reasonPoints: DisjointWrites<Double>
        var contributions: DisjointWrites<Double>?
        var logOdds = false
    }

    /// A numeric cell: its value, missing, or text that is no number.
    enum Cell {
        case value(Double)
        case missing
        case problem(RowProblem.Kind, String)
    }

    @inline(__always)
    func cell(_ b: Bound, _ i: Int) -> Cell {
        switch b {
        case .numbers(let x):
            let v = x[i]
            if v.isNaN { return .missing }
            return v.isFinite ? .value(v) : .problem(.infinite, "\(v)")
        case .levelNumbers(let codes, let values, _):
            let c = codes[i]
            if c < 0 { return .missing }
            switch values[Int(c)] {
            case .value(let v): return .value(v)
            case .problem(let kind, let text): return .problem(kind, text)
            }
        case .strings(let s):
            guard let text = s[i] else { return .missing }
            switch number(fromText: text) {
            case .value(let v): return .value(v)
            case .problem(let kind, let text): return .problem(kind, text)
            }
        case .levelTerms:
            preconditionFailure("a categorical input read as a number")
        }
    }

    @inline(__always)
    func transformed(_ v: Double, _ chain: [MetricTransform]) -> Double? {
        chain.isEmpty ? v : MetricTransform.apply(chain, to: v)
    }

    /// One feature's term for row `i`, or its problem.
    @inline(__always)
    func term(_ j: Int, _ f: Feature, _ b: [Bound], _ i: Int) -> Term {
        switch f.kind {
        case .numeric:
            switch cell(b[0], i) {
            case .value(let v):
                guard let t = transformed(v, f.transforms) else { return .problem(.outsideDomain, "\(v)") }
                return .value(f.slope * t)
            case .missing:
                return f.imputeTerm.map(Term.value) ?? .problem(.missing, "")
            case .problem(let kind, let text):
                return .problem(kind, text)
            }
        case .group:
            var sum = 0.0
            for (m, member) in f.members.enumerated() {
                let t: Double
                switch cell(b[m], i) {
                case .value(let v):
                    guard let x = transformed(v, member.transforms) else { return .problem(.outsideDomain, "\(v)") }
                    t = x
                case .missing:
                    guard let fill = member.imputeValue else { return .problem(.missing, "") }
                    t = fill
                case .problem(let kind, let text):
                    return .problem(kind, text)
                }
                sum += member.spec.standardScore(t)
            }
            return .value(f.slope * (sum / Double(max(f.members.count, 1))))
        case .categorical:
            switch b[0] {
            case .levelTerms(let codes, let terms, let missing):
                let c = codes[i]
                return c < 0 ? missing : terms[Int(c)]
            case .strings(let s):
                return categoricalTerm(f, level: s[i])
            default:
                preconditionFailure("a categorical input bound as numbers")
            }
        }
    }

    /// The column a problem of feature `f` names (a group's failing member).
    func problemColumn(_ f: Feature, _ b: [Bound], _ i: Int) -> String {
        guard f.kind == .group else { return f.column }
        for (m, member) in f.members.enumerated() {
            switch cell(b[m], i) {
            case .value(let v): if transformed(v, member.transforms) == nil { return member.column }
            case .missing: if member.imputeValue == nil { return member.column }
            case .problem: return member.column
            }
        }
        return f.column
    }

    /// Feature `j`'s term for every row of `rows`, feature after feature, into `terms` (offset by
    /// `rows.lowerBound`); a row whose cell has a problem gets `problem[i] = j` unless an earlier
    /// feature already set one. Tight loops per kind of input: the per-row path (`term`) is kept
    /// for JSON strings and for describing a problem.
    func featureTerms(_ j: Int, _ b: [Bound], rows: Range<Int>, terms: UnsafeMutablePointer<Double>,
                      problem: UnsafeMutablePointer<Int32>) {
        let f = features[j]
        let lo = rows.lowerBound
        func mark(_ i: Int) { if problem[i - lo] < 0 { problem[i - lo] = Int32(j) } }
        func generic() {
            for i in rows {
                switch term(j, f, b, i) {
                case .value(let t): terms[i - lo] = t
                case .problem: mark(i)
                }
            }
        }
        switch f.kind {
        case .numeric:
            let slope = f.slope, chain = f.transforms
            switch b[0] {
            case .numbers(let x):
                x.withUnsafeBufferPointer { x in
                    for i in rows {
                        let v = x[i]
                        if v.isNaN {
                            if let t = f.imputeTerm { terms[i - lo] = t } else { mark(i) }
                        } else if !v.isFinite {
                            mark(i)
                        } else if chain.isEmpty {
                            terms[i - lo] = slope * v
                        } else if let t = MetricTransform.apply(chain, to: v) {
                            terms[i - lo] = slope * t
                        } else {
                            mark(i)
                        }
                    }
                }
            default: generic()
            }
        case .categorical:
            switch b[0] {
            case .levelTerms(let codes, let levelTerms, let missing):
                let values = levelTerms.map { t -> Double in if case .value(let v) = t { return v } else { return .nan } }
                let missingValue: Double
                if case .value(let v) = missing { missingValue = v } else { missingValue = .nan }
                codes.withUnsafeBufferPointer { codes in
                    values.withUnsafeBufferPointer { values in
                        for i in rows {
                            let c = codes[i]
                            let t = c < 0 ? missingValue : values[Int(c)]
                            if t.isNaN { mark(i) } else { terms[i - lo] = t }
                        }
                    }
                }
            default: generic()
            }
        case .group:
            generic()
        }
    }

    func scoreRows(_ rows: Range<Int>, bound: [[Bound]], reasons k: Int, needsPoints: Bool, into out: Sink) -> [RowProblem] {
        let p = features.count
        let n = rows.count
        let lo = rows.lowerBound
        var problems: [RowProblem] = []
        var termStore = [Double](repeating: 0, count: max(n * p, 1))
        var problemStore = [Int32](repeating: -1, count: max(n, 1))
        var slotFeature = [Int32](repeating: -1, count: max(k, 1))
        var slotPoints = [Double](repeating: 0, count: max(k, 1))
        let factor = scale.factor
        let points = scale.kind == .points
        let rounds = scale.rounds
        let banded = !bandCuts.isEmpty
        termStore.withUnsafeMutableBufferPointer { termBuffer in
        problemStore.withUnsafeMutableBufferPointer { problemBuffer in
        averages.withUnsafeBufferPointer { averages in
        actionable.withUnsafeBufferPointer { actionable in
            let terms = termBuffer.baseAddress!, problem = problemBuffer.baseAddress!
            for j in 0..<p {
                featureTerms(j, bound[j], rows: rows, terms: terms + j * n, problem: problem)
            }
            for i in rows {
                let r = i - lo
                if problem[r] >= 0 {
                    problems.append(describe(Int(problem[r]), bound[Int(problem[r])], row: i))
                    continue
                }
                var eta = intercept
                for j in 0..<p { eta += terms[j * n + r] }
                let plain = Scorer.score(eta: eta)
                var health = banded || points ? scale.score(eta: eta) : plain.healthScore
                var band: Int32 = banded ? bandIndex(health) : -1
                if needsPoints {
                    var used = 0
                    var pointsSum = 0.0
                    let contributionBase = i * p
                    for j in 0..<p {
                        let delta = terms[j * n + r] - averages[j]
                        var v: Double
                        if points {
                            v = -factor * delta
                            if rounds { v = v.rounded() }
                            pointsSum += v
                        } else {
                            v = plain.healthScore - Scorer.score(eta: eta - delta).healthScore
                        }
                        out.contributions?[contributionBase + j] = out.logOdds ? delta : v
                        // Worst first; a tie keeps the earlier metric first.
                        if k > 0 && v < 0 && actionable[j] && (used < k || v < slotPoints[k - 1]) {
                            var pos = min(used, k - 1)
                            while pos > 0 && v < slotPoints[pos - 1] {
                                slotPoints[pos] = slotPoints[pos - 1]; slotFeature[pos] = slotFeature[pos - 1]
                                pos -= 1
                            }
                            slotPoints[pos] = v; slotFeature[pos] = Int32(j)
                            used = min(used + 1, k)
                        }
                    }
                    if rounds, let base = basePoints {
                        health = base + pointsSum
                        band = bandIndex(health)
                    }
                    for q in 0..<k {
                        out.reasonFeature[i * k + q] = q < used ? slotFeature[q] : -1
                        out.reasonPoints[i * k + q] = q < used ? slotPoints[q] : 0
                    }
                }
                out.eta[i] = eta
                out.probability[i] = plain.churnProbability
                out.score[i] = health
                out.band[i] = band
            }
        }}}}
        return problems
    }

    /// The problem of feature `j` at row `i`, with the column that has it.
    func describe(_ j: Int, _ b: [Bound], row i: Int) -> RowProblem {
        let f = features[j]
        guard case .problem(let kind, let text) = term(j, f, b, i) else {
            preconditionFailure("a row marked unscored scores")
        }
        let column = problemColumn(f, b, i)
        let chain = (f.kind == .group ? f.members.first { $0.column == column }?.transforms : f.transforms) ?? []
        return RowProblem(row: i, column: column, kind: kind, value: text, transforms: chain.map(\.name).joined(separator: " then "))
    }
}
