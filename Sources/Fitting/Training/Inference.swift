import Foundation
import Support

/// Wald inference and likelihood-ratio statistics from a fitted log-likelihood.
public enum Inference {
    /// Φ⁻¹(0.975): the 95% two-sided normal quantile.
    public static let z95 = 1.959963984540054

    /// Two-sided normal p-value 2·Φ(−|z|) = erfc(|z|/√2), accurate far into the tail.
    public static func twoSidedP(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

    /// Upper tail of χ²_k at x: the regularised incomplete gamma Q(k/2, x/2).
    public static func chiSquaredUpperTail(_ x: Double, degreesOfFreedom k: Int) -> Double {
        guard x > 0, k > 0 else { return 1 }
        // In the domain by the guard; a series that failed to converge would be NaN, never a trap.
        return (try? SpecialFunctions.regularizedGammaQ(Double(k) / 2, x / 2)) ?? .nan
    }
}
