import Foundation
import Support

/// One split of the design rows: fit on `train`, score `test`. Both sorted ascending.
public struct CVFold: Sendable {
    public var train: [Int]
    public var test: [Int]

    public init(train: [Int], test: [Int]) {
        self.train = train
        self.test = test
    }
}

public enum CVFolds {
    /// K folds; rows with the same group code are always in the same fold; stratified on the label as
    /// far as grouping allows; deterministic for a seed.
    ///
    /// Groups (a row each when `groups` is nil) are put in a seeded random order, then taken largest
    /// first, each into the fold where it least raises Σ over folds and classes of (class count in
    /// the fold / class total)² — that sum is smallest when every fold holds 1/K of each class.
    /// Largest first keeps the big groups from unbalancing the folds at the end.
    public static func make(rows: Int, k: Int, groups: [UInt64]?, response: [Double], seed: UInt64) -> [CVFold] {
        precondition(response.count == rows, "one response per row")
        precondition(groups == nil || groups!.count == rows, "one group code per row")
        // Dense group index per row, numbered by first appearance so the result never depends on
        // the process's hash seed.
        var groupOf = [Int](repeating: 0, count: rows)
        var groupCount = 0
        if let groups {
            var index: [UInt64: Int] = [:]
            index.reserveCapacity(rows / 2)
            for i in 0..<rows {
                if let g = index[groups[i]] {
                    groupOf[i] = g
                } else {
                    index[groups[i]] = groupCount
                    groupOf[i] = groupCount
                    groupCount += 1
                }
            }
        } else {
            for i in 0..<rows { groupOf[i] = i }
            groupCount = rows
        }
        precondition(k >= 2 && k <= groupCount, "need 2 ≤ K ≤ number of groups (\(groupCount))")

        var positives = [Int](repeating: 0, count: groupCount)
        var sizes = [Int](repeating: 0, count: groupCount)
        for i in 0..<rows {
            sizes[groupOf[i]] += 1
            if response[i] > 0.5 { positives[groupOf[i]] += 1 }
        }
        var rng = SplitMix64(seed: seed)
        var rank = Array(0..<groupCount)
        for i in stride(from: groupCount - 1, to: 0, by: -1) {
            rank.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        var position = [Int](repeating: 0, count: groupCount)
        for (r, g) in rank.enumerated() { position[g] = r }
        let order = (0..<groupCount).sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : position[$0] < position[$1] }

        let totalPositive = Double(positives.reduce(0, +))
        let totalNegative = Double(rows) - totalPositive
        var foldPositive = [Double](repeating: 0, count: k)
        var foldNegative = [Double](repeating: 0, count: k)
        var foldRows = [Int](repeating: 0, count: k)
        var foldOf = [Int](repeating: 0, count: groupCount)
        for g in order {
            let a = Double(positives[g]), b = Double(sizes[g] - positives[g])
            var best = 0
            var bestCost = Double.infinity
            for f in 0..<k {
                let p = totalPositive > 0 ? a * (2 * foldPositive[f] + a) / (totalPositive * totalPositive) : 0
                let q = totalNegative > 0 ? b * (2 * foldNegative[f] + b) / (totalNegative * totalNegative) : 0
                let cost = p + q
                if cost < bestCost || (cost == bestCost && foldRows[f] < foldRows[best]) { bestCost = cost; best = f }
            }
            foldOf[g] = best
            foldPositive[best] += a
            foldNegative[best] += b
            foldRows[best] += sizes[g]
        }

        var tests = [[Int]](repeating: [], count: k)
        for i in 0..<rows { tests[foldOf[groupOf[i]]].append(i) }
        return tests.indices.map { f in
            var train: [Int] = []
            train.reserveCapacity(rows - tests[f].count)
            for (h, other) in tests.enumerated() where h != f { train.append(contentsOf: other) }
            train.sort()
            return CVFold(train: train, test: tests[f])
        }
    }
}

public struct CVResult: Sendable {
    /// Decreasing.
    public var lambdas: [Double]
    /// Per λ: the folds' mean test deviance per row, averaged over folds weighted by their test weight.
    public var meanDeviance: [Double]
    /// Standard error of `meanDeviance` across folds.
    public var sdError: [Double]
    /// Non-zero slopes per λ on the full-data path.
    public var nonZero: [Int]
    public var lambdaMin: Double
    public var lambda1se: Double
    public var folds: [CVFold]
    /// The full-data fit per λ, for callers that want the whole path.
    public var path: [PenalizedFit]
}

public enum CrossValidatedElasticNet {
    /// Path on the full data (its λ sequence from λmax down to 1e-4·λmax, 100 values by default, ended early as
    /// glmnet does unless `stopEarly` is false), then per fold the
    /// same λ sequence on the training rows; test deviance per row (binomial deviance, prior weights respected) per λ;
    /// λmin = argmin mean; λ1se = largest λ whose mean ≤ min + its standard error (glmnet's rules).
    ///
    /// Fold summaries follow cv.glmnet with grouped = TRUE: the mean is weighted by each fold's test weight and
    /// the standard error is √(weighted variance of the fold means / (K − 1)).
    /// `lowerBounds`/`upperBounds`: box constraints as in `ElasticNetPenalty`, applied on every fold.
    ///
    /// `pathTolerance`: every path here (the folds' and the full one that sets the grid) is fitted to this KKT
    /// residual rather than `options.kktTolerance`: only test deviances are read from them, and a gradient error g
    /// moves the objective by O(g²), far below the spread between folds. glmnet's paths stop at a similar accuracy
    /// (thresh 1e-7). The caller's final fit at the chosen λ is a plain `ElasticNet.fit`, held to `kktTolerance`.
    /// `stopEarly`: glmnet's early exit on the full path (see `ElasticNet.path`); false keeps every λ.
    /// `progress` is called once per fold as it starts.
    public static func run(_ problem: LogisticProblem, alpha: Double, folds: [CVFold], lambdas: [Double]? = nil,
                           lowerBounds: [Double]? = nil, upperBounds: [Double]? = nil,
                           options: ElasticNetOptions = .init(), pathTolerance: Double = 1e-7, stopEarly: Bool = true,
                           progress: (Int, Int) -> Void = { _, _ in }) -> CVResult {
        run(problem, alpha: alpha, folds: folds, lambdas: lambdas, lowerBounds: lowerBounds, upperBounds: upperBounds,
            options: options, pathTolerance: pathTolerance, stopEarly: stopEarly, progress: progress,
            computesFold: { _ in true }, sumAcrossProcesses: { _ in })
    }

    /// `run` with the folds spread over processes: this one fits only the folds `computesFold`
    /// accepts, and the table of fold deviances and weights (zeros for the others) is summed across
    /// processes, so every process chooses λ from all folds, as one process would.
    public static func run(_ problem: LogisticProblem, alpha: Double, folds: [CVFold], lambdas: [Double]? = nil,
                           lowerBounds: [Double]? = nil, upperBounds: [Double]? = nil,
                           options: ElasticNetOptions = .init(), pathTolerance: Double = 1e-7, stopEarly: Bool = true,
                           progress: (Int, Int) -> Void = { _, _ in }, computesFold: (Int) -> Bool,
                           sumAcrossProcesses: (inout [Double]) throws -> Void) rethrows -> CVResult {
        precondition(folds.count >= 2, "cross-validation needs at least two folds")
        let pathOptions = {
            var o = options
            o.kktTolerance = max(options.kktTolerance, pathTolerance)
            o.polishTolerance = max(options.polishTolerance, pathTolerance)
            return o
        }()
        let full = ElasticNet.path(problem, alpha: alpha, lambdas: lambdas, lowerBounds: lowerBounds, upperBounds: upperBounds,
                                   options: pathOptions, stopEarly: stopEarly)
        let grid = full.map(\.lambda)
        let m = grid.count
        // The folds are independent: they run concurrently (each fold's passes split rows again when
        // a core is idle). Every fold writes only its own slot, so the result does not depend on the
        // schedule.
        var foldDeviance = [[Double]](repeating: [Double](repeating: 0, count: m), count: folds.count)
        var foldWeight = [Double](repeating: 0, count: folds.count)
        // `progress` runs under the lock, one fold at a time; `computesFold` only reads.
        let started = Locked(0)
        withoutActuallyEscaping(computesFold) { computesFold in
        withoutActuallyEscaping(progress) { progress in
        let callbacks = UncheckedShared((computesFold: computesFold, progress: progress))
        foldDeviance.withUnsafeMutableBufferPointer { deviances in
            foldWeight.withUnsafeMutableBufferPointer { weights in
                let deviances = DisjointWrites(deviances), weights = DisjointWrites(weights)
                DispatchQueue.concurrentPerform(iterations: folds.count) { f in
                    guard callbacks.value.computesFold(f) else { return }
                    started.withLock { count in
                        count += 1
                        callbacks.value.progress(count, folds.count)
                    }
                    let fold = folds[f]
                    let train = subset(problem, rows: fold.train)
                    let test = subset(problem, rows: fold.test)
                    let fits = ElasticNet.path(train, alpha: alpha, lambdas: grid, lowerBounds: lowerBounds,
                                               upperBounds: upperBounds, options: pathOptions)
                    let weight = test.weights?.reduce(0, +) ?? Double(test.response.count)
                    weights[f] = weight
                    deviances[f] = fits.map { weight > 0 ? deviance(test, coefficients: $0.coefficients) / weight : 0 }
                }
            }
        }
        }}
        var table = foldDeviance.flatMap { $0 } + foldWeight
        try sumAcrossProcesses(&table)
        for f in folds.indices {
            foldDeviance[f] = Array(table[f * m..<(f + 1) * m])
            foldWeight[f] = table[folds.count * m + f]
        }
        let totalWeight = foldWeight.reduce(0, +)
        let k = Double(folds.count)
        var mean = [Double](repeating: 0, count: m)
        var se = [Double](repeating: 0, count: m)
        for l in 0..<m {
            var s = 0.0
            for f in folds.indices { s += foldWeight[f] * foldDeviance[f][l] }
            let mu = s / totalWeight
            var v = 0.0
            for f in folds.indices { let d = foldDeviance[f][l] - mu; v += foldWeight[f] * d * d }
            mean[l] = mu
            se[l] = (v / totalWeight / (k - 1)).squareRoot()
        }
        // First index wins ties: with λ decreasing that is the largest λ at the minimum, as glmnet.
        var best = 0
        for l in 1..<max(m, 1) where mean[l] < mean[best] { best = l }
        let bound = mean[best] + se[best]
        var oneSE = best
        for l in 0..<m where mean[l] <= bound { oneSE = l; break }
        return CVResult(lambdas: grid, meanDeviance: mean, sdError: se, nonZero: full.map(\.nonZero),
                        lambdaMin: grid[best], lambda1se: grid[oneSE], folds: folds, path: full)
    }

    /// The rows' part of the problem, copied column by column.
    static func subset(_ problem: LogisticProblem, rows: [Int]) -> LogisticProblem {
        let n = problem.design.rows, p = problem.design.cols, r = rows.count
        var storage = [Double](repeating: 0, count: r * p)
        problem.design.storage.withUnsafeBufferPointer { src in
            storage.withUnsafeMutableBufferPointer { dst in
                for j in 0..<p {
                    let from = j * n, to = j * r
                    for (a, i) in rows.enumerated() { dst[to + a] = src[from + i] }
                }
            }
        }
        return LogisticProblem(design: Matrix(rows: r, cols: p, columnMajor: storage),
                               response: rows.map { problem.response[$0] },
                               weights: problem.weights.map { w in rows.map { w[$0] } },
                               termNames: problem.termNames)
    }

    /// Binomial deviance 2·Σ vᵢ·[softplus(ηᵢ) − yᵢηᵢ] of original-scale coefficients on the problem's rows.
    static func deviance(_ problem: LogisticProblem, coefficients beta: [Double]) -> Double {
        let n = problem.design.rows
        var eta = [Double](repeating: 0, count: n)
        problem.design.storage.withUnsafeBufferPointer { x in
            for j in 0..<problem.design.cols where beta[j] != 0 {
                let b = beta[j], base = j * n
                for i in 0..<n { eta[i] += b * x[base + i] }
            }
        }
        var total = 0.0
        for i in 0..<n {
            let e = eta[i]
            let softplus = e > 0 ? e + log1p(exp(-e)) : log1p(exp(e))
            total += (problem.weights?[i] ?? 1) * (softplus - problem.response[i] * e)
        }
        return 2 * total
    }
}
