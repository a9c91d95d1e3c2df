import DistributedFitting
import FitEngine
import Foundation
import ScoringCore
import Simulator
import Tabular
import Testing
import TestSupport
import Training

/// `fit --distributed` with threads standing in for MPI ranks: every rank must return the artifact
/// of the single-process, in-memory fit.
@Suite struct DistributedPipelineTests {
    static let simulated: String = {
        let dir = Fixtures.temporaryDirectory()
        let csv = dir.appendingPathComponent("history.csv").path
        _ = try! Simulator.write(config: SimulationConfig(customers: 600, months: 6, seed: 11), csvPath: csv,
                                 truthPath: dir.appendingPathComponent("truth.json").path)
        return csv
    }()

    static func roles() -> ColumnRoles {
        ColumnRoles(target: "churned_next_month", id: "customer_id", time: "snapshot_date")
    }

    static func inMemory(_ path: String, _ roles: ColumnRoles) throws -> ModelArtifact {
        var clock = Timings()
        return try FitPipeline.fit(FitSpec(roles: roles), .file(path), timings: &clock).model
    }

    /// Small chunks, so each rank's range spans several pieces and the cuts fall inside records.
    static func distributed(_ path: String, _ roles: ColumnRoles, ranks: Int) throws -> [ModelArtifact] {
        try onRanks(ranks) { group in
            var clock = Timings()
            return try DistributedPipeline.fit(FitSpec(roles: roles), group: group, dataPaths: [path], chunkBytes: 16 << 10,
                                               timings: &clock).model
        }
    }

    /// `sameFile`: false when `b` was fitted on the concatenation of the files `a` was given as a list.
    static func expectSame(_ a: ModelArtifact, _ b: ModelArtifact, tolerance: Double, sameFile: Bool = true) {
        #expect(a.coefficients.map(\.term) == b.coefficients.map(\.term))
        for (x, y) in zip(a.coefficients, b.coefficients) {
            #expect(relativeError(x.estimate, y.estimate) <= tolerance, "\(x.term) estimate")
            #expect(relativeError(x.standardError!, y.standardError!) <= tolerance, "\(x.term) standard error")
        }
        #expect(relativeError(a.fit.deviance, b.fit.deviance) <= 1e-12)
        #expect(a.fit.nObservations == b.fit.nObservations && a.fit.nEvents == b.fit.nEvents)
        #expect(a.training.rows == b.training.rows && (a.training.sha256 == b.training.sha256) == sameFile)
        // The checks that need every row's fitted value at once are not run over a row source
        // (as with --streaming in one process).
        let everyRow: Set = ["extreme_probabilities", "separation", "quasi_separation"]
        #expect(a.warnings.map(\.code).filter { !everyRow.contains($0) } == b.warnings.map(\.code).filter { !everyRow.contains($0) })
        #expect(a.scoring?.bands.count == b.scoring?.bands.count)
        for (x, y) in zip(a.scoring?.bands ?? [], b.scoring?.bands ?? []) {
            #expect(x.label == y.label)
            #expect(relativeError(x.minScore ?? 0, y.minScore ?? 0) <= tolerance)
        }
    }

    @Test(arguments: [1, 2, 3])
    func everyRankReturnsTheSingleProcessArtifact(_ ranks: Int) throws {
        let reference = try Self.inMemory(Self.simulated, Self.roles())
        let models = try Self.distributed(Self.simulated, Self.roles(), ranks: ranks)
        #expect(models.count == ranks)
        // The simulated history repeats customers: the warning needs the distinct count of all ranks.
        #expect(reference.warnings.contains { $0.code == "repeated_ids" })
        for model in models { Self.expectSame(model, reference, tolerance: 1e-10) }
        var clock = Timings()
        let streamed = try FitPipeline.fit(FitSpec(roles: Self.roles()), .file(Self.simulated), run: FitRun(streaming: StreamingOptions()),
                                           timings: &clock).model
        for model in models { #expect(model.warnings.map(\.message) == streamed.warnings.map(\.message)) }
    }

    /// mlc_churn's charge columns are its minute columns times a rate (VIF up to 1e7), so another
    /// order of the same sums moves the standard errors of those terms by about VIF·ε.
    @Test func mlcChurnOnTwoRanksMatchesWithinItsConditioning() throws {
        let path = Fixtures.dataset("mlc_churn.csv")
        let roles = ColumnRoles(target: "churn")
        let reference = try Self.inMemory(path, roles)
        for model in try Self.distributed(path, roles, ranks: 2) { Self.expectSame(model, reference, tolerance: 1e-8) }
    }

    @Test func badInputIsReportedOnceByTheRankThatReadIt() throws {
        let dir = Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("data.csv").path
        var text = "customer,logins,plan,churned\n"
        for i in 0..<200 { text += "C\(i),\(i % 7),\(i % 3 == 0 ? "pro" : "basic"),\(i % 5 == 0 ? 1 : 0)\n" }
        text += "C200,Inf,pro,1\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let messages = try onRanks(2) { group -> String in
            var clock = Timings()
            do {
                _ = try DistributedPipeline.fit(FitSpec(roles: ColumnRoles(target: "churned", id: "customer")), group: group,
                                                dataPaths: [path], timings: &clock)
                return "fitted"
            } catch { return "\(error)" }
        }
        // The last record lies in rank 1's range: rank 1 alone reads it and reports it; rank 0,
        // which never saw the row, stops at the exchange of statistics without a message of its own.
        #expect(messages[1].contains("row 201") && messages[1].contains("logins") && messages[1].contains("Inf"))
        #expect(messages[0] == "\(DistributedError.peerFailed(rank: 1))")
    }

    #if !MPI
    @Test func theDefaultBuildSaysHowToBuildWithMPI() throws {
        let r = try CLI.run(["fit", "--distributed", Fixtures.dataset("mlc_churn.csv"), "--target", "churn"])
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("--traits MPI") && r.stderr.contains("mpirun"))
    }
    #endif
}
