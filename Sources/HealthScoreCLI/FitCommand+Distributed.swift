import DistributedFitting
import FitEngine
import Foundation
import ScoringCore
import Training

extension Fit {
    /// `fit --distributed` under `mpirun -np K`: every rank reads its share of the rows, the ranks
    /// sum their statistics each pass, and rank 0 prints and writes what a single process would.
    func runDistributed() -> Never {
        let group: ProcessGroup
        do { group = try ProcessGroup.world() } catch { fail(error) }
        var clock = Timings()
        let result: TrainingResult
        do {
            do {
                try distributedScopeCheck()
                var options = FitOptions()
                options.maxIterations = maxIterations
                var columnRoles = try roles.resolved()
                columnRoles.scoring = try scoring.choice()
                result = try DistributedPipeline.run(group: group, dataPath: data, roles: columnRoles, naValues: roles.naValues,
                                                     options: options, bounds: bound.compactMap(TermBound.init(parsing:)),
                                                     timings: &clock)
            } catch {
                // Bad input fails every rank alike (each reads the whole file to learn the design):
                // the lowest failing rank reports it once and the others leave quietly.
                try group.agree(error)
                throw error
            }
        } catch DistributedError.peerFailed {
            group.finish()
            Foundation.exit(1)
        } catch {
            group.finish()
            fail(error)
        }
        if group.rank == 0 { reportDistributed(result, timings: clock, ranks: group.size) }
        group.finish()
        Foundation.exit(0)
    }

    /// What the distributed solver covers (maximum likelihood, model standard errors, bounds); the
    /// rest is refused before any rank reads a row.
    private func distributedScopeCheck() throws {
        let unsupported: [(Bool, String)] = [
            (penalty != .none, "--penalty \(penalty.rawValue)"),
            (correlations != nil, "--correlations"),
            (covariance != "model", "--covariance \(covariance)"),
            (streaming, "--streaming (distributed fits always stream)"),
        ]
        if let (_, flag) = unsupported.first(where: { $0.0 }) {
            throw DistributedError.unsupported(flag)
        }
    }

    private func reportDistributed(_ result: TrainingResult, timings clock: Timings, ranks: Int) {
        let encoded: Data
        do { encoded = try result.model.encoded() } catch { fail(error) }
        if let out {
            do { try AtomicFile.write(encoded, to: out) } catch { fail(error) }
        }
        if json {
            FileHandle.standardOutput.write(encoded)
            print()
        } else if !quiet {
            print(ModelSummary.render(result.model), terminator: "")
            if let out { print("Model written to \(out) (\(ranks) ranks)") }
        }
        if timings {
            for (name, seconds) in clock.phases { printError("timing \(name)_seconds=\(String(format: "%.4f", seconds))") }
            let perIteration = result.fit.history.map { String(format: "%.4f", $0.seconds) }.joined(separator: ",")
            printError("timing newton_iteration_seconds=\(perIteration)")
            printError("timing ranks=\(ranks) iterations=\(result.model.fit.iterations)")
        }
    }
}
