import Foundation
import ScoringCore
import FitEngine
import Tabular
import TestSupport
@testable import Training

/// Writes `csv` to a fresh temporary file and runs the fit pipeline on it.
func fitCSV(_ csv: String, _ roles: ColumnRoles, covariance: CovarianceChoice = .model) throws -> FitOutcome {
    let path = Fixtures.temporaryDirectory().appendingPathComponent("data.csv").path
    try Data(csv.utf8).write(to: URL(fileURLWithPath: path))
    var clock = Timings()
    return try FitPipeline.fit(FitSpec(roles: roles, covariance: covariance), .file(path), timings: &clock)
}
