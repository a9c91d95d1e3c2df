// Input checks shared by the metrics. Each returns early with the first offending row so messages
// point at something the user can find in their file.

/// What a metric requires of its scores.
enum ScoreRequirement {
    /// Any finite number (ranking metrics).
    case finite
    /// A probability in [0, 1] (log loss, Brier, calibration).
    case probability
}

/// Labels converted to `Bool` with the class counts.
struct CheckedLabels {
    var churned: [Bool]
    var churners: Int
    var count: Int { churned.count }
    var nonChurners: Int { churned.count - churners }
}

func checkLabels<L: ChurnLabel>(_ labels: [L]) throws -> CheckedLabels {
    guard !labels.isEmpty else { throw AccuracyError.empty }
    guard labels.count <= Int(Int32.max) else {
        throw AccuracyError.invalidArgument("\(labels.count) rows is more than the 2,147,483,647 the metrics support")
    }
    var churned = [Bool](repeating: false, count: labels.count)
    var churners = 0
    for (row, label) in labels.enumerated() {
        guard let outcome = label.churnOutcome else {
            throw AccuracyError.invalidLabel(row: row, value: "\(label)")
        }
        churned[row] = outcome
        if outcome { churners += 1 }
    }
    return CheckedLabels(churned: churned, churners: churners)
}

func checkScores(_ scores: [Double], count: Int, requirement: ScoreRequirement, what: String = "scores") throws {
    guard scores.count == count else {
        throw AccuracyError.lengthMismatch(what: what, expected: count, actual: scores.count)
    }
    for (row, s) in scores.enumerated() {
        guard s.isFinite else { throw AccuracyError.nonFiniteScore(row: row, value: s) }
        if requirement == .probability, !(s >= 0 && s <= 1) {
            throw AccuracyError.probabilityOutOfRange(row: row, value: s)
        }
    }
}

func checkWeights(_ weights: [Double]?, count: Int) throws {
    guard let weights else { return }
    guard weights.count == count else {
        throw AccuracyError.lengthMismatch(what: "weights", expected: count, actual: weights.count)
    }
    var total = 0.0
    for (row, w) in weights.enumerated() {
        guard w.isFinite, w >= 0 else { throw AccuracyError.invalidWeight(row: row, value: w) }
        total += w
    }
    guard total > 0 else { throw AccuracyError.invalidWeight(row: -1, value: total) }
}

func requireClasses(_ labels: CheckedLabels, atLeast needed: Int, metric: String) throws {
    guard labels.churners >= needed, labels.nonChurners >= needed else {
        throw AccuracyError.notEnoughOfEachClass(
            metric: metric, churners: labels.churners, nonChurners: labels.nonChurners, needed: needed)
    }
}

/// Labels and scores checked together, the common entry of every public metric.
func checkInputs<L: ChurnLabel>(
    labels: [L], scores: [Double], requirement: ScoreRequirement, minimumPerClass: Int, metric: String
) throws -> CheckedLabels {
    let checked = try checkLabels(labels)
    try checkScores(scores, count: checked.count, requirement: requirement)
    if minimumPerClass > 0 { try requireClasses(checked, atLeast: minimumPerClass, metric: metric) }
    return checked
}
