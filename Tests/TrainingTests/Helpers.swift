import Foundation
import FitEngine
import Tabular
import TestSupport
@testable import Training

/// Writes `csv` to a fresh temporary file and runs the fit pipeline on it.
func fitCSV(_ csv: String, _ roles: ColumnRoles, options: FitOptions = FitOptions()) throws -> TrainingResult {
    let path = Fixtures.temporaryDirectory().appendingPathComponent("data.csv").path
    try Data(csv.utf8).write(to: URL(fileURLWithPath: path))
    var clock = Timings()
    return try FitPipeline.run(dataPath: path, roles: roles, options: options, timings: &clock)
}
