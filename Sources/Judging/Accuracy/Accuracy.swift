// Accuracy measures for churn scores: ranking (ROC/AUC with DeLong inference, KS, average precision),
// probability accuracy (log loss, Brier), calibration (reliability, ECE, logistic recalibration,
// Hosmer–Lemeshow), lift/gains and per-band churn rates. Pure Swift + Foundation.
//
// Conventions shared by every metric:
// - a label is 1/true when the customer churned;
// - a higher score means more churn risk (no automatic direction flipping, unlike pROC's `direction = "auto"`);
// - bad input throws `AccuracyError` naming the first offending row instead of trapping or returning NaN.

/// A value usable as a churn outcome: `Bool`, or the numbers 0 and 1 (`Int` or `Double`).
///
/// Metrics accept `[Double]`, `[Int]` or `[Bool]` labels through this one protocol, so each metric is
/// written once; any number other than exactly 0 or 1 is rejected rather than silently thresholded.
public protocol ChurnLabel {
    /// `true` if churned, `false` if retained, `nil` if the value is not a valid binary label.
    var churnOutcome: Bool? { get }
}

extension Bool: ChurnLabel {
    public var churnOutcome: Bool? { self }
}

extension Double: ChurnLabel {
    public var churnOutcome: Bool? { self == 1 ? true : (self == 0 ? false : nil) }
}

extension Int: ChurnLabel {
    public var churnOutcome: Bool? { self == 1 ? true : (self == 0 ? false : nil) }
}
