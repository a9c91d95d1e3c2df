import ArgumentParser
import CommandSupport
import Foundation
import Simulator

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a simulated customer-health history whose churn follows a known logistic model.")

    @Option(help: "Distinct customers.")
    var customers: Int = 2_000

    @Option(help: "Months of monthly snapshots.")
    var months: Int = 12

    @Option(help: "Random seed; the same seed writes the same file.")
    var seed: UInt64 = 1

    @Option(help: "Extra generic usage metrics (usage_01 …) for wide designs.")
    var extraMetrics: Int = 0

    @Option(help: "Output CSV.")
    var out: String

    @Option(help: "Where to write the true model JSON (default: OUT with .truth.json).")
    var truth: String?

    func validate() throws {
        guard customers >= 1 else { throw ValidationError("--customers must be at least 1") }
        guard months >= 1 else { throw ValidationError("--months must be at least 1") }
        guard extraMetrics >= 0 else { throw ValidationError("--extra-metrics cannot be negative") }
    }

    func run() throws {
        let truthPath = truth ?? ((out as NSString).deletingPathExtension + ".truth.json")
        let rows = try Simulator.write(config: SimulationConfig(customers: customers, months: months, seed: seed,
                                                                extraMetrics: extraMetrics),
                                       csvPath: out, truthPath: truthPath)
        print("Wrote \(rows) snapshot rows to \(out) and the true model to \(truthPath)")
    }
}
