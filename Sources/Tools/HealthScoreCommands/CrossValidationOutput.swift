import ArgumentParser
import CommandSupport
import FitEngine
import Foundation
import ScoringCore
import Training

extension LambdaSelection: ExpressibleByArgument {}

/// `--lambda`: a number ≥ 0, or `auto` for cross-validation.
enum LambdaChoice: ExpressibleByArgument, Equatable {
    case value(Double)
    case auto

    init?(argument: String) {
        if argument.lowercased() == "auto" { self = .auto; return }
        guard let v = Double(argument), v.isFinite, v >= 0 else { return nil }
        self = .value(v)
    }
}

/// The cross-validated path, one line per λ, so the analyst sees how flat the curve is around the
/// chosen λ and how many metrics each λ keeps.
func printPathTable(_ cv: CVResult) {
    print("Cross-validation: \(cv.folds.count) folds, \(cv.lambdas.count) λ (* = λmin, ^ = λ1se)")
    print("  " + pad("lambda", 12) + pad("non-zero", 10) + pad("CV deviance", 14) + pad("± se", 12))
    for l in cv.lambdas.indices {
        let lambda = cv.lambdas[l]
        let mark = (lambda == cv.lambdaMin ? "*" : "") + (lambda == cv.lambda1se ? "^" : "")
        print("  " + pad(String(format: "%.4e", lambda), 12) + pad(String(cv.nonZero[l]), 10)
              + pad(String(format: "%.6f", cv.meanDeviance[l]), 14) + pad(String(format: "%.6f", cv.sdError[l]), 12) + mark)
    }
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
