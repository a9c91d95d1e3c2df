import Foundation
import FitEngine
import ScoringCore
import Tabular

/// CSV file → design → fit → artifact: the `fit` command without its printing, shared by tests.
public enum FitPipeline {
    public static let defaultNAValues = CSVOptions.defaultNAValues

    /// `correlations`: also compute the correlation matrix of the design's terms (returned, and its
    /// strong pairs stored in the model).
    public static func run(dataPath: String, roles: ColumnRoles, naValues: [String] = defaultNAValues,
                           options: FitOptions = FitOptions(), bounds: [TermBound] = [], correlations: Bool = false,
                           timings: inout Timings) throws -> TrainingResult {
        let (design, pending) = try prepare(dataPath: dataPath, roles: roles, naValues: naValues, timings: &timings)
        let allBounds = TermBound.implied(by: design.schema, explicit: bounds)
        let matrix = correlations ? timings.measure("correlations") { TermCorrelations(design) } : nil
        // The trainer only stores the source, so the digest is joined after the fit.
        var result: TrainingResult
        do {
            result = try Trainer.train(design: design, source: pending.unhashed, options: options, bounds: allBounds, timings: &timings)
        } catch { pending.digest.cancel(); throw error }
        result.model.training = try pending.resolved(timings: &timings)
        if let matrix {
            result.correlations = matrix
            result.model.fit.strongCorrelations = matrix.pairs(atLeast: TermCorrelations.strong)
        }
        return result
    }

    /// The same pipeline with an elastic-net penalty at one λ.
    public static func runPenalized(dataPath: String, roles: ColumnRoles, naValues: [String] = defaultNAValues,
                                    penalty: ElasticNetPenalty, bounds: [TermBound] = [],
                                    timings: inout Timings) throws -> (model: ModelArtifact, fit: PenalizedFit) {
        let (design, pending) = try prepare(dataPath: dataPath, roles: roles, naValues: naValues, timings: &timings)
        let allBounds = TermBound.implied(by: design.schema, explicit: bounds)
        var result: (model: ModelArtifact, fit: PenalizedFit)
        do {
            result = try Trainer.trainPenalized(design: design, source: pending.unhashed, penalty: penalty, bounds: allBounds, timings: &timings)
        } catch { pending.digest.cancel(); throw error }
        result.model.training = try pending.resolved(timings: &timings)
        return result
    }

    /// Reads and designs the file while its SHA-256 is computed on another thread; the caller joins
    /// the digest (`PendingSource.resolved`) when the artifact needs it.
    static func prepare(dataPath: String, roles: ColumnRoles, naValues: [String], timings: inout Timings) throws -> (Design, PendingSource) {
        let csv = csvOptions(roles: roles, naValues: naValues)
        let digest = FileDigest.start(path: dataPath)
        var started = Timings.now()
        let table: RawTable
        do { table = try CSVReader.read(path: dataPath, options: csv) } catch { digest.cancel(); throw error }
        timings.record("ingest", since: started)
        let records = table.rowCount
        // Handed over, not captured by a closure: the builder frees each raw column once it is in the design.
        started = Timings.now()
        let design: Design
        do { design = try DesignBuilder.build(consume table, roles: roles, naValues: naValues) } catch { digest.cancel(); throw error }
        timings.record("design", since: started)
        return (design, PendingSource(file: (dataPath as NSString).lastPathComponent, rows: records, digest: digest))
    }
}

/// The training file's name and record count, and its SHA-256 still being computed.
struct PendingSource {
    let file: String
    let rows: Int
    let digest: PendingDigest

    /// The source without its digest, for work that does not read it.
    var unhashed: TrainingSource { TrainingSource(file: file, sha256: "", rows: rows) }

    /// Waits for the digest; the `sha256` timing is the wait, not the hashing.
    func resolved(timings: inout Timings) throws -> TrainingSource {
        let hex = try timings.measure("sha256") { try digest.wait() }
        return TrainingSource(file: file, sha256: hex, rows: rows)
    }
}

/// Pearson correlations between the design's terms (intercept left out).
public struct TermCorrelations: Sendable {
    public static let strong = 0.8
    public var terms: [String]
    public var matrix: SymmetricMatrix

    init(_ design: Design) {
        terms = Array(design.termNames.dropFirst())
        matrix = Correlation.matrix(columnMajor: Array(design.storage[design.rows...]), rows: design.rows, cols: terms.count)
    }

    /// Pairs with |r| ≥ threshold, strongest first.
    public func pairs(atLeast threshold: Double) -> [CorrelatedPair] {
        var out: [CorrelatedPair] = []
        for j in terms.indices { for i in terms.indices where i > j && abs(matrix[i, j]) >= threshold {
            out.append(CorrelatedPair(a: terms[j], b: terms[i], r: matrix[i, j]))
        } }
        return out.sorted { abs($0.r) > abs($1.r) }
    }

    /// The matrix as CSV: a header of terms, then one row per term.
    public func csv() -> String {
        let q = CSVBytes.quoted
        var out = "term," + terms.map(q).joined(separator: ",") + "\n"
        for i in terms.indices {
            out += q(terms[i]) + "," + terms.indices.map { String(matrix[i, $0]) }.joined(separator: ",") + "\n"
        }
        return out
    }
}
