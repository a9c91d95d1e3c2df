/// Why a metric could not be computed.
///
/// Metrics throw this instead of trapping or returning NaN so that a bad score file surfaces as a
/// message naming the problem (and, for per-row problems, the first offending 0-based row).
public enum AccuracyError: Error, CustomStringConvertible, Sendable {
    /// No rows at all.
    case empty
    /// Two per-row inputs have different lengths.
    case lengthMismatch(what: String, expected: Int, actual: Int)
    /// A label that is not 0/1 (or true/false).
    case invalidLabel(row: Int, value: String)
    /// A score that is NaN or infinite.
    case nonFiniteScore(row: Int, value: Double)
    /// A probability outside [0, 1] where a probability is required.
    case probabilityOutOfRange(row: Int, value: Double)
    /// A weight that is negative, NaN or infinite, or weights that sum to zero (row −1).
    case invalidWeight(row: Int, value: Double)
    /// The metric needs both churners and non-churners (at least `needed` of each).
    case notEnoughOfEachClass(metric: String, churners: Int, nonChurners: Int, needed: Int)
    /// An option or argument outside its valid range.
    case invalidArgument(String)
    /// The data do not determine the quantity (e.g. constant predictions for a slope).
    case degenerate(String)
    /// An iterative fit or series did not converge.
    case didNotConverge(String)

    public var description: String {
        switch self {
        case .empty:
            return "no rows: metrics need at least one scored row"
        case let .lengthMismatch(what, expected, actual):
            return "\(what) has \(actual) values but labels have \(expected); each row needs exactly one of each"
        case let .invalidLabel(row, value):
            return "label at row \(row) is \(value); labels must be 0/1 or true/false (1 = churned)"
        case let .nonFiniteScore(row, value):
            return "score at row \(row) is \(value); scores must be finite numbers"
        case let .probabilityOutOfRange(row, value):
            return "score at row \(row) is \(value); this metric needs probabilities in [0, 1]"
        case let .invalidWeight(row, value):
            return row < 0
                ? "weights sum to \(value); at least one weight must be positive"
                : "weight at row \(row) is \(value); weights must be finite and non-negative"
        case let .notEnoughOfEachClass(metric, churners, nonChurners, needed):
            return "\(metric) needs at least \(needed) churner\(needed == 1 ? "" : "s") and \(needed) "
                + "non-churner\(needed == 1 ? "" : "s"); the data have \(churners) and \(nonChurners)"
        case let .invalidArgument(message), let .degenerate(message), let .didNotConverge(message):
            return message
        }
    }
}
