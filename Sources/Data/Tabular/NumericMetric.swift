import Foundation
import ScoringCore
import Support

/// A numeric metric as the fit sees it: its transforms, moments and fill for missing cells, all
/// learned on the rows the fit uses, then frozen.
public struct NumericMetric: Sendable {
    var chain: [MetricTransform]
    var mean: Double
    /// 1/n standard deviation.
    var sd: Double
    /// `roles.impute` of the present values (mean or median), on the transformed scale.
    var fill: Double
    /// Fitted rows without a value.
    var missing: Int

    /// The design value of one raw cell; nil outside the transforms' domain.
    @inline(__always) func value(_ x: Double) -> Double? {
        if x.isNaN { return fill }
        if chain.isEmpty { return x }
        return MetricTransform.apply(chain, to: x)
    }

    /// Mean and 1/n standard deviation of the present values.
    public static func moments(_ values: [Double]) -> (mean: Double, sd: Double) {
        let m = Moments(values)
        return (m.mean, m.sd)
    }
}

/// What the design learns about one numeric column, piece by piece.
///
/// Moments merge across pieces. Two statistics do not: clip percentiles and the median fill. A
/// column that needs either keeps its fitted rows' raw values (8 bytes a row) until `finish`.
struct NumericStatistics: Sendable {
    enum Plan: Sendable {
        /// Known transforms (possibly none), applied as the rows arrive.
        case chain([MetricTransform])
        /// `--auto-transform`: the raw moments and both candidates', chosen from at the end.
        case auto
        /// Clip or median: keep the values.
        case values([MetricTransform.Kind])
    }
    /// Values scanned for "more than two distinct values" before a metric counts as skewed.
    static let distinctProbe = 1_000

    let column: String
    let plan: Plan
    let median: Bool
    var missing = 0
    /// Of the transformed values (chain plan) or of the raw values (auto plan).
    var moments = Moments()
    var log1pMoments = Moments(), asinhMoments = Moments()
    var firstPresent: [Double] = []
    var values: [Double] = []

    init(column: String, roles: ColumnRoles) {
        self.column = column
        median = roles.missing == .impute && roles.impute == .median
        let requested = roles.transforms[column]
        if median || requested?.contains(.clip) == true {
            plan = .values(requested ?? [])
        } else if requested == nil && roles.autoTransform {
            plan = .auto
        } else {
            plan = .chain((requested ?? []).map { MetricTransform(kind: $0) })
        }
    }

    /// Adds the fitted rows (`kept`, nil for all) of one piece.
    mutating func observe(_ v: UnsafeBufferPointer<Double>, kept: [Int]?, place: PieceLocation, scratch: inout [Double]) throws {
        switch plan {
        case .values:
            if let kept { for i in kept { values.append(v[i]) } } else { values.append(contentsOf: v) }
            for x in values[(values.count - (kept?.count ?? v.count))...] where x.isNaN { missing += 1 }
        case .chain(let chain):
            if kept == nil && chain.isEmpty {
                let m = Moments(v)
                missing += v.count - m.count
                moments.merge(m)
                return
            }
            let count = kept?.count ?? v.count
            if scratch.count < count { scratch = [Double](repeating: 0, count: count) }
            if chain.isEmpty, let kept {
                // The kept rows' values as they are: a plain gather, missing cells left NaN.
                scratch.withUnsafeMutableBufferPointer { out in
                    kept.withUnsafeBufferPointer { k in
                        var absent = 0
                        for r in 0..<count { let x = v[k[r]]; out[r] = x; if x.isNaN { absent &+= 1 } }
                        missing += absent
                    }
                    moments.merge(Moments(UnsafeBufferPointer(rebasing: out[0..<count])))
                }
                return
            }
            try scratch.withUnsafeMutableBufferPointer { out in
                for r in 0..<count {
                    let i = kept?[r] ?? r
                    let x = v[i]
                    if x.isNaN { out[r] = .nan; missing += 1; continue }
                    guard let t = MetricTransform.apply(chain, to: x) else {
                        throw place.error(column, Self.domainProblem(x, chain: chain, inRow: place.recordOffset + i + 1), Self.domainFix, row: i)
                    }
                    out[r] = t
                }
                moments.merge(Moments(UnsafeBufferPointer(rebasing: out[0..<count])))
            }
        case .auto:
            let count = kept?.count ?? v.count
            if scratch.count < count { scratch = [Double](repeating: 0, count: count) }
            scratch.withUnsafeMutableBufferPointer { out in
                for r in 0..<count { out[r] = v[kept?[r] ?? r] }
                let raw = UnsafeBufferPointer(rebasing: out[0..<count])
                for x in raw where firstPresent.count < Self.distinctProbe && !x.isNaN { firstPresent.append(x) }
                let m = Moments(raw, thirdMoment: true)
                missing += count - m.count
                moments.merge(m)
                // The candidates are only used when the whole column qualifies (log1p: no negatives).
                if m.minimum >= 0 {
                    for r in 0..<count { out[r] = Foundation.log1p(out[r]) }
                    log1pMoments.merge(Moments(UnsafeBufferPointer(rebasing: out[0..<count])))
                    for r in 0..<count { out[r] = v[kept?[r] ?? r] }
                }
                for r in 0..<count { out[r] = Foundation.asinh(out[r]) }
                asinhMoments.merge(Moments(UnsafeBufferPointer(rebasing: out[0..<count])))
            }
        }
    }

    /// Adds one piece's values to each column's statistics (`stats[i]` takes `values[i]`), the
    /// columns spread over the cores with a scratch buffer per thread. A domain error is thrown
    /// for the first failing column, as a loop over the columns would.
    static func observe(_ stats: inout [NumericStatistics], values: [[Double]], kept: [Int]?, place: PieceLocation) throws {
        let workers = min(ColumnWork.cores, stats.count)
        var scratch = [[Double]](repeating: [], count: max(workers, 1))
        try stats.withUnsafeMutableBufferPointer { s in
            try scratch.withUnsafeMutableBufferPointer { buffers in
                try ColumnWork.forEach(s.count, workers: workers) { i, worker in
                    try values[i].withUnsafeBufferPointer { try s[i].observe($0, kept: kept, place: place, scratch: &buffers[worker]) }
                }
            }
        }
    }

    /// Adds a later piece's statistics (pieces merge in file order).
    mutating func merge(_ other: NumericStatistics) {
        missing += other.missing
        moments.merge(other.moments)
        log1pMoments.merge(other.log1pMoments)
        asinhMoments.merge(other.asinhMoments)
        firstPresent.append(contentsOf: other.firstPresent.prefix(Self.distinctProbe - firstPresent.count))
        values.append(contentsOf: other.values)
    }

    /// The frozen metric.
    func finish(file: String) throws -> NumericMetric {
        switch plan {
        case .chain(let chain):
            return NumericMetric(chain: chain, mean: moments.mean, sd: moments.sd, fill: moments.mean, missing: missing)
        case .auto:
            let skewed = Set(firstPresent).count > 2 && moments.skewness > TransformRule.skewThreshold
            guard skewed else {
                return NumericMetric(chain: [], mean: moments.mean, sd: moments.sd, fill: moments.mean, missing: missing)
            }
            let log = moments.minimum >= 0
            let m = log ? log1pMoments : asinhMoments
            return NumericMetric(chain: [MetricTransform(kind: log ? .log1p : .asinh)], mean: m.mean, sd: m.sd, fill: m.mean,
                                 missing: missing)
        case .values(let kinds):
            var current = values
            var chain: [MetricTransform] = []
            for kind in kinds {
                var t = MetricTransform(kind: kind)
                if kind == .clip {
                    let sorted = current.filter { !$0.isNaN }.sorted()
                    guard !sorted.isEmpty else { continue }
                    t.lower = TransformRule.quantile(sorted, 0.01)
                    t.upper = TransformRule.quantile(sorted, 0.99)
                }
                for i in current.indices where !current[i].isNaN {
                    // The row is not known here: the values were collected without their records.
                    guard let next = t.apply(current[i]) else {
                        throw Diagnostic(.data, file: file, column: column, problem: Self.domainProblem(current[i], chain: [t], inRow: nil), fix: Self.domainFix)
                    }
                    current[i] = next
                }
                chain.append(t)
            }
            let m = Moments(current)
            var fill = m.mean
            if median {
                let present = current.filter { !$0.isNaN }.sorted()
                if !present.isEmpty { fill = TransformRule.quantile(present, 0.5) }
            }
            return NumericMetric(chain: chain, mean: m.mean, sd: m.sd, fill: fill, missing: missing)
        }
    }

    static func domainProblem(_ x: Double, chain: [MetricTransform], inRow row: Int?) -> String {
        let kind = chain.first { $0.apply(x) == nil }?.kind.rawValue ?? chain.first?.kind.rawValue ?? ""
        return "value \(x)\(row.map { " in row \($0)" } ?? "") is outside the domain of \(kind)"
    }

    static let domainFix = "use asinh for metrics that can be −1 or below"
}

/// Learns a numeric column's transforms from the rows the fit uses.
public enum TransformRule {
    /// Skewness above which `--auto-transform` logs a metric (counts such as logins or days late
    /// typically sit far above it; roughly symmetric metrics near 0).
    public static let skewThreshold = 2.0

    /// Type-7 quantile (linear interpolation), as R's default.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    public static func skewness(_ x: [Double]) -> Double { Moments(x, thirdMoment: true).skewness }
}
