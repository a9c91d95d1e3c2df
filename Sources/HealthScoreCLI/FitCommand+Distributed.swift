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
        emit(result.model, clock: clock, iterationSeconds: result.fit.history.map(\.seconds),
             written: " (\(ranks) ranks)", timingTail: "ranks=\(ranks)")
    }
}
