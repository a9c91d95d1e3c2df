import ArgumentParser
import DistributedFitting
import FitEngine
import CommandSupport
import Foundation
import ScoringCore
import Training

extension Fit {
    /// `fit --distributed` under `mpirun -np K`: every rank reads its share of the rows (or, for
    /// `--lambda auto`, fits its share of the folds), the ranks sum their statistics, and rank 0
    /// prints and writes what a single process would. Every rank leaves through `ExitCode` (the
    /// ranks that only follow another's error, quietly), so none runs the single-process ending.
    func runDistributed() throws -> Never {
        let group: ProcessGroup
        group = try ProcessGroup.world()
        var clock = Timings()
        let outcome: FitOutcome
        do {
            do {
                try distributedScopeCheck()
                let progressLine = Progress(enabled: !quiet && !json && group.rank == 0)
                outcome = try DistributedPipeline.fit(
                    try spec(), group: group, dataPaths: [data] + moreData,
                    progress: { started, _ in progressLine.update("cross-validation on \(group.size) ranks: rank 0's fold \(started) of \(((folds ?? 10) + group.size - 1) / group.size): λ path") },
                    timings: &clock)
                progressLine.finish()
            } catch {
                // Errors found after the ranks exchanged their statistics hit every rank alike, and
                // those found before were agreed on then: the rank whose error it is reports it once
                // and the others leave quietly.
                try group.agree(error)
                throw error
            }
        } catch DistributedError.peerFailed {
            group.finish()
            throw ExitCode.failure
        } catch {
            group.finish()
            throw error
        }
        if group.rank == 0 {
            try emit(outcome.model, clock: clock, iterationSeconds: outcome.iterationSeconds, written: " (\(group.size) ranks)",
                 timingTail: "ranks=\(group.size)") {
                if let cv = outcome.cv { printPathTable(cv) }
            }
        }
        group.finish()
        throw ExitCode.success
    }

    /// What the distributed solvers cover — maximum likelihood with model standard errors and
    /// bounds (rows split across ranks), and elastic-net cross-validation (folds split across
    /// ranks) — the rest is refused before any rank reads a row.
    private func distributedScopeCheck() throws {
        let crossValidating = lambda == .auto
        let unsupported: [(Bool, String, String?)] = [
            (penalty == .firth, "--penalty firth", nil),
            (penalty != .none && !crossValidating,
             "--penalty \(penalty.rawValue) with a fixed --lambda", "use --lambda auto (its folds run on the ranks), or fit in one process"),
            (correlations != nil, "--correlations", nil),
            (covariance != "model", "--covariance \(covariance)", nil),
            (streaming, "--streaming (distributed fits always stream)", nil),
        ]
        if let (_, flag, fix) = unsupported.first(where: { $0.0 }) {
            throw DistributedError.unsupported(flag, fix: fix)
        }
    }
}
