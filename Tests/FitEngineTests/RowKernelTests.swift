import CRowKernels
import Foundation
import Testing

/// The vectorised per-row arithmetic of a Newton pass (`CRowKernels`) against libm and against
/// Float80: each path's μ and 1 − μ (a product of two rounded values) and √w within 3 ulp of the exact value, softplus within 2.
@Suite struct RowKernelTests {
    /// η over every regime: tiny, moderate, where e^−|η| is far below 1 ulp of 1, and past the
    /// underflow of e^−|η| (|η| > 708).
    static func etas(count: Int, seed: UInt64) -> [Double] {
        var state = seed
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let special: [Double] = [0, -0.0, 1e-300, -1e-300, 1e-17, -1e-17, 0.5, -0.5, 36, -36, 37.5, -40,
                                 708.3, -708.3, 708.5, -708.5, 745, -745.2, 800, -800]
        return (0..<count).map { i in
            if i < special.count { return special[i] }
            let magnitude = [1e-6, 1, 4, 40, 750][i % 5]
            return (2 * uniform() - 1) * magnitude
        }
    }

    static func ulps(_ value: Double, _ exact: Float80) -> Double {
        let rounded = Double(exact)
        if value == rounded { return 0 }
        let ulp = rounded == 0 ? Double.leastNonzeroMagnitude : rounded.ulp
        return Double(abs(Float80(value) - exact) / Float80(ulp))
    }

    @Test func everyPathIsWithinAFewUlpOfTheExactValue() throws {
        #if arch(x86_64)
        let n = 4_003  // not a multiple of any lane count: the tails run too
        let eta = Self.etas(count: n, seed: 7)
        let lanes = [8, 4, 1].filter { $0 <= healthscore_logistic_lanes() }
        for width in lanes {
            for y in [0.0, 1.0] {
                let ys = [Double](repeating: y, count: n)
                var residual = [Double](repeating: .nan, count: n), root = residual
                _ = healthscore_logistic_rowsWithLanes(Int32(width), eta, ys, nil, n, &residual, &root)
                for i in 0..<n {
                    let a = Float80(abs(eta[i]))
                    let e = Foundation.exp(-a)
                    let s = 1 / (1 + e)
                    let mu = eta[i] >= 0 ? s : e * s, q = eta[i] >= 0 ? e * s : s
                    // Below 1e-300 (e^−|η| underflowing) only the absolute size matters.
                    let expected = y == 1 ? q : -mu
                    if abs(expected) < 1e-300 {
                        #expect(abs(residual[i]) < 1e-300, "η = \(eta[i]), \(width) lanes")
                    } else {
                        #expect(Self.ulps(residual[i], expected) <= 3, "residual at η = \(eta[i]), \(width) lanes: \(residual[i])")
                        if mu * q >= Float80(Double.leastNormalMagnitude) {
                            #expect(Self.ulps(root[i], (mu * q).squareRoot()) <= 3, "√w at η = \(eta[i]), \(width) lanes: \(root[i])")
                        } else {
                            // w is subnormal: it carries few bits, so compare w itself.
                            #expect(abs(Float80(root[i] * root[i]) - mu * q) <= 0x1p-1068, "w at η = \(eta[i]), \(width) lanes")
                        }
                    }
                }
            }
            // Softplus lane by lane: weight 1 on one row and 0 on the rest makes the sum that row's.
            for i in stride(from: 0, to: 200, by: 1) {
                let block = Array(eta[(i / 8 * 8)..<(i / 8 * 8 + 8)])
                var weights = [Double](repeating: 0, count: 8)
                weights[i % 8] = 1
                var residual = [Double](repeating: 0, count: 8), root = residual
                let half = healthscore_logistic_rowsWithLanes(Int32(width), block, [Double](repeating: 0, count: 8), weights, 8,
                                                              &residual, &root)
                let x = Float80(block[i % 8])
                let exact = max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x)))
                #expect(Self.ulps(half, exact) <= 2, "softplus(\(block[i % 8])), \(width) lanes: \(half)")
            }
        }
        #endif
    }

    @Test func weightsAndTheDevianceOnlyPathAgreeWithTheFullPass() {
        let n = 1_001
        let eta = Self.etas(count: n, seed: 11)
        let y = (0..<n).map { Double($0 % 3 == 0 ? 1 : 0) }
        let v = (0..<n).map { 0.25 + Double($0 % 7) }
        var residual = [Double](repeating: 0, count: n), root = residual
        var plainResidual = residual, plainRoot = residual
        let half = healthscore_logistic_rows(eta, y, v, n, &residual, &root)
        let plain = healthscore_logistic_rowsWithLanes(1, eta, y, v, n, &plainResidual, &plainRoot)
        #expect(abs(half - plain) <= 1e-13 * abs(plain))
        #expect(healthscore_logistic_halfDeviance(eta, y, v, n) == half)
        for i in 0..<n {
            #expect(abs(residual[i] - plainResidual[i]) <= 4 * plainResidual[i].magnitude.ulp + 1e-300)
            if plainRoot[i] >= Double.leastNormalMagnitude.squareRoot() {
                #expect(abs(root[i] - plainRoot[i]) <= 4 * plainRoot[i].ulp)
            } else {
                #expect(abs(root[i] * root[i] - plainRoot[i] * plainRoot[i]) <= v[i] * 0x1p-1068)
            }
        }
        // Weighted = weight × unweighted, row by row.
        var unitResidual = residual, unitRoot = root
        _ = healthscore_logistic_rows(eta, y, nil, n, &unitResidual, &unitRoot)
        for i in 0..<n {
            #expect(abs(residual[i] - v[i] * unitResidual[i]) <= 4 * abs(residual[i]).ulp + 1e-300)
        }
    }
}
