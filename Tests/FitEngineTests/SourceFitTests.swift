import Foundation
import Testing
import TestSupport
@testable import FitEngine
import Support

/// An in-memory design served as blocks of uneven sizes, visited by `concurrency` workers at once;
/// `shard`/`shards` keeps every `shards`-th block, as one process of a distributed fit would.
final class MatrixRowSource: RowBlockSource, @unchecked Sendable {
    let design: Matrix
    let response: [Double]
    let weights: [Double]?
    let concurrency: Int
    let blocks: [Range<Int>]
    let exchange: ShardExchange?
    let shard: Int

    init(_ problem: LogisticProblem, blockSizes: [Int] = [997, 1_513, 64, 2_049], concurrency: Int = 2,
         exchange: ShardExchange? = nil, shard: Int = 0) {
        design = problem.design
        response = problem.response
        weights = problem.weights
        self.concurrency = concurrency
        self.exchange = exchange
        self.shard = shard
        var ranges: [Range<Int>] = []
        var start = 0, b = 0
        while start < design.rows {
            let end = min(design.rows, start + blockSizes[b % blockSizes.count])
            ranges.append(start..<end)
            start = end
            b += 1
        }
        let shards = exchange?.shards ?? 1
        blocks = ranges.enumerated().filter { $0.offset % shards == shard }.map(\.element)
    }

    var columnCount: Int { design.cols }

    func forEachBlock(_ body: (Int, DesignBlock) throws -> Void) throws {
        let n = design.rows
        let failure = NSLock()
        var firstError: Error?
        design.storage.withUnsafeBufferPointer { x in
            response.withUnsafeBufferPointer { y in
                withOptionalPointer(weights) { w in
                    // Worker t takes blocks t, t + concurrency, …: never two at once.
                    DispatchQueue.concurrentPerform(iterations: concurrency) { t in
                        for r in stride(from: t, to: blocks.count, by: concurrency).map({ blocks[$0] }) {
                            let block = DesignBlock(x: x.baseAddress! + r.lowerBound, stride: n, rows: r.count,
                                                    y: y.baseAddress! + r.lowerBound, weights: w.map { $0 + r.lowerBound })
                            do { try body(t, block) } catch { failure.withLock { firstError = firstError ?? error } }
                        }
                    }
                }
            }
        }
        if let firstError { throw firstError }
    }

    func sumAcrossProcesses(_ values: inout [Double]) throws {
        if let exchange { values = exchange.allReduce(values, from: shard) }
    }
}

/// An all-reduce between shards that run as threads of one process, standing in for MPI ranks:
/// each call blocks until every shard has contributed, then all receive the same sum.
final class ShardExchange: @unchecked Sendable {
    let shards: Int
    private let condition = NSCondition()
    private var pending: [[Double]?]
    private var result: [Double] = []
    private var round = 0

    init(shards: Int) {
        self.shards = shards
        pending = Array(repeating: nil, count: shards)
    }

    func allReduce(_ values: [Double], from shard: Int) -> [Double] {
        condition.lock()
        defer { condition.unlock() }
        let myRound = round
        pending[shard] = values
        if pending.allSatisfy({ $0 != nil }) {
            // Summed in shard order, so every shard gets bit-identical totals.
            result = [Double](repeating: 0, count: values.count)
            for part in pending { for i in result.indices { result[i] += part![i] } }
            pending = Array(repeating: nil, count: shards)
            round += 1
            condition.broadcast()
        } else {
            while round == myRound { condition.wait() }
        }
        return result
    }
}

/// Runs one fit per shard on its own thread and returns them in shard order.
func fitShards(_ problem: LogisticProblem, shards: Int, options: FitOptions = FitOptions()) throws -> [LogisticFit] {
    let exchange = ShardExchange(shards: shards)
    let lock = NSLock()
    var results = [Result<LogisticFit, Error>?](repeating: nil, count: shards)
    let done = DispatchGroup()
    for s in 0..<shards {
        done.enter()
        let thread = Thread {
            let source = MatrixRowSource(problem, exchange: exchange, shard: s)
            let r = Result { try LogisticRegression.fit(source: source, termNames: problem.termNames, options: options) }
            lock.withLock { results[s] = r }
            done.leave()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
    done.wait()
    return try results.map { try $0!.get() }
}

/// The mlc_churn design R's glm sees for `churn ~ .`: numeric columns as they are, each factor as
/// treatment dummies against its first level in sorted order.
func mlcChurnProblem() throws -> LogisticProblem {
    let text = try String(contentsOfFile: Fixtures.dataset("mlc_churn.csv"), encoding: .utf8)
    let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map { $0.replacingOccurrences(of: "\"", with: "") } }
    let header = lines[0], rows = Array(lines.dropFirst())
    let target = header.firstIndex(of: "churn")!
    var columns: [[Double]] = [[Double](repeating: 1, count: rows.count)]
    var names = ["(Intercept)"]
    for (j, name) in header.enumerated() where j != target {
        if Double(rows[0][j]) != nil {
            columns.append(rows.map { Double($0[j])! })
            names.append(name)
        } else {
            for level in Set(rows.map { $0[j] }).sorted().dropFirst() {
                columns.append(rows.map { $0[j] == level ? 1 : 0 })
                names.append(name + level)
            }
        }
    }
    let y = rows.map { $0[target] == "yes" ? 1.0 : 0.0 }
    return LogisticProblem(design: Matrix(rows: rows.count, cols: columns.count, columnMajor: columns.flatMap { $0 }),
                           response: y, termNames: names)
}

func expectSameFit(_ a: LogisticFit, _ b: LogisticFit, tolerance: Double = 1e-10) {
    #expect(a.activeTerms == b.activeTerms)
    #expect(a.aliasedTerms == b.aliasedTerms)
    #expect(a.converged == b.converged)
    #expect(a.nObservations == b.nObservations)
    #expect(relativeError(a.weightSum, b.weightSum) <= 1e-14)
    #expect(relativeError(a.deviance, b.deviance) <= tolerance)
    #expect(relativeError(a.nullDeviance, b.nullDeviance) <= tolerance)
    for j in a.coefficients.indices {
        #expect((a.coefficients[j] == nil) == (b.coefficients[j] == nil))
        if let x = a.coefficients[j], let y = b.coefficients[j] {
            #expect(abs(x - y) <= tolerance * max(1, abs(y)), "coefficient \(a.termNames[j])")
        }
        if let x = a.standardErrors[j], let y = b.standardErrors[j] {
            // Summation order moves H by rounding, and H⁻¹ by that times the conditioning: a term's
            // variance by ~ε·VIF relative (mlc_churn's minutes and charge columns have VIF ≈ 1e7);
            // the original-scale intercept combines every slope, so it inherits the largest VIF.
            let inflation = j == 0 ? b.varianceInflation.compactMap { $0 }.max() ?? 1 : b.varianceInflation[j] ?? 1
            let floor = 16 * Double.ulpOfOne * inflation
            #expect(relativeError(x, y) <= max(tolerance, floor), "standard error \(a.termNames[j])")
        }
    }
}

@Suite struct SourceFitTests {
    @Test func mlcChurnOverBlocksEqualsTheInMemoryFit() throws {
        let problem = try mlcChurnProblem()
        let inMemory = LogisticRegression.fit(problem)
        let streamed = try LogisticRegression.fit(source: MatrixRowSource(problem), termNames: problem.termNames,
                                                  options: FitOptions())
        // The charge columns are minutes times a rounded tariff: nearly collinear with them.
        #expect(inMemory.varianceInflation.compactMap { $0 }.max()! > 1e6)
        #expect(inMemory.converged)
        expectSameFit(streamed, inMemory)
        #expect(streamed.fittedProbabilities.isEmpty)
        #expect(streamed.iterations == inMemory.iterations)
    }

    @Test func twoShardsEqualTheInMemoryFitAndEachOther() throws {
        let problem = try mlcChurnProblem()
        let inMemory = LogisticRegression.fit(problem)
        let shards = try fitShards(problem, shards: 2)
        expectSameFit(shards[0], inMemory)
        // Every rank takes the same steps from the same sums: identical results.
        #expect(shards[0].coefficients == shards[1].coefficients)
        #expect(shards[0].deviance == shards[1].deviance)
        #expect(shards[0].nObservations == problem.design.rows)
    }

    @Test func weightedSyntheticDataOverBlocksAndShards() throws {
        var problem = simulate(n: 20_000, beta: [-4, 0.08, -0.05, 0.03, 0.02, -0.01], seed: 17)
        var rng = SeededRandom(seed: 99)
        problem.weights = (0..<problem.design.rows).map { _ in Double(Int(rng.uniform() * 4)) }
        let inMemory = LogisticRegression.fit(problem)
        #expect(inMemory.converged)
        expectSameFit(try LogisticRegression.fit(source: MatrixRowSource(problem, blockSizes: [333, 4_097]),
                                                 termNames: problem.termNames, options: FitOptions()), inMemory)
        expectSameFit(try fitShards(problem, shards: 2)[1], inMemory)
    }

    @Test func boundsOverASourceMatchTheInMemoryFit() throws {
        let problem = simulate(n: 5_000, beta: [-3, 0.1, -0.05, 0.02], seed: 7)
        var options = FitOptions()
        // x1's weight is positive in the data; holding it ≤ 0.05 makes the bound bind.
        options.upperBounds = [.infinity, 0.05, .infinity, .infinity]
        let inMemory = LogisticRegression.fit(problem, options: options)
        let streamed = try LogisticRegression.fit(source: MatrixRowSource(problem), termNames: problem.termNames, options: options)
        #expect(inMemory.bindingTerms == [1])
        #expect(streamed.bindingTerms == [1])
        expectSameFit(streamed, inMemory)
        #expect(abs(streamed.kktResidual - inMemory.kktResidual) <= 1e-12)
    }

    @Test func optionsThatNeedEveryRowAreRefused() {
        let problem = simulate(n: 500, beta: [-1, 0.05], seed: 1)
        var firth = FitOptions()
        firth.firth = true
        #expect(throws: Diagnostic.self) {
            try LogisticRegression.fit(source: MatrixRowSource(problem), termNames: problem.termNames, options: firth)
        }
        var robust = FitOptions()
        robust.covariance = .hc0
        #expect(throws: Diagnostic.self) {
            try LogisticRegression.fit(source: MatrixRowSource(problem), termNames: problem.termNames, options: robust)
        }
        #expect(throws: Diagnostic.self) {
            try LogisticRegression.fit(source: MatrixRowSource(problem), termNames: ["(Intercept)"], options: FitOptions())
        }
    }
}
