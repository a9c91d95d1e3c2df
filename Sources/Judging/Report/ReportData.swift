import BatchScoring
import Evaluation
import Foundation
import ScoringCore
import Tabular
import Training
import Support

/// What the report shows of a labelled file, gathered in two streamed passes so memory follows the
/// number of customers listed, not the file's length: the first pass keeps per judged row its
/// label, probability, score and band (`ScoredSample`), each metric's moments, range and level
/// counts, and per customer their latest snapshot; the second draws the metric histograms on the
/// ranges the first found and explains the customers listed as most at risk.
struct ReportData {
    var sample: ScoredSample
    /// Rows with a label the model codes (judged or not): the metric summaries describe them.
    var labelledRows = 0
    var metrics: [MetricSummary]
    /// Customers most at risk, highest churn probability first.
    var atRisk: [AtRiskRow]
    /// With an id and a snapshot time: each customer at their latest snapshot.
    var customers: CustomerView?

    struct MetricSummary {
        var name: String
        var moments = Moments()
        var missing = 0
        /// Categorical: judged rows per level.
        var levels: [String: Int]? = nil
        /// Numeric: 20 bins over [minimum, maximum], retained and churned rows.
        var retained: [Double] = []
        var churned: [Double] = []
    }

    struct AtRiskRow {
        var id: String
        var snapshot: String?
        var explanation: Explanation
        var churned: Bool
    }

    struct CustomerView {
        var count = 0
        /// Customers whose latest snapshot is labelled churned: gone, so never listed as current.
        var churned = 0
        /// Customers whose latest snapshot the model could not score (a missing value under `drop`):
        /// not listed, not counted in a band.
        var unscored = 0
        var firstLatest = "", lastLatest = ""
        /// Per band (the model's order): customers at their latest snapshot, and how many churned after it.
        var bandCounts: [(customers: Int, churned: Int)] = []
    }

    static let bins = 20

    static func load(model: ModelArtifact, dataPath: String, atRisk count: Int) throws -> ReportData {
        let header = try CSVReader.headerNames(path: dataPath)
        let id = model.schema.id.flatMap { header.contains($0) ? $0 : nil }
        let time = model.schema.time.flatMap { header.contains($0) ? $0 : nil }
        let keys = [id, time].compactMap { $0 }
        var metricNames: [String] = []
        for f in model.schema.features {
            for name in f.kind == .group ? (f.members ?? []).map(\.column) : [f.column] where !metricNames.contains(name) {
                metricNames.append(name)
            }
        }
        var metrics = metricNames.map { MetricSummary(name: $0) }

        // Pass 1: moments, level counts, and the candidates for the at-risk list.
        var latest: [String: Latest] = [:]
        var top = TopRows(capacity: count)
        var labelledRows = 0
        let sample = try ScoredSample.load(model: model, dataPath: dataPath, keyColumns: keys) { piece, y, judged in
            labelledRows += y.reduce(0) { $1.isNaN ? $0 : $0 + 1 }
            var buffer = [Double](repeating: .nan, count: piece.rowCount)
            for m in metrics.indices {
                guard let c = piece.table.column(named: metrics[m].name) else { continue }
                let missing = c.missingMask()
                switch c.values {
                case .numeric(let v):
                    var n = 0
                    for i in 0..<piece.rowCount where !y[i].isNaN { buffer[n] = missing[i] ? .nan : v[i]; n += 1 }
                    let part = Moments(Array(buffer[0..<n]))
                    metrics[m].moments.merge(part)
                    metrics[m].missing += n - part.count
                case .text(let codes, let levels):
                    var counts = metrics[m].levels ?? [:]
                    for i in 0..<piece.rowCount where !y[i].isNaN {
                        if codes[i] >= 0, !missing[i] { counts[levels[Int(codes[i])], default: 0] += 1 } else { metrics[m].missing += 1 }
                    }
                    metrics[m].levels = counts
                }
            }
            let p = piece.scored.probability
            if let id, let time {
                // Every labelled snapshot counts for "latest", scored or not.
                let ids = piece.table.column(named: id)!, times = piece.table.column(named: time)!
                // The time column is read as text: each distinct stamp of the piece is parsed once.
                var parsedLevels: [SnapshotTime?] = []
                if case .text(_, let levels) = times.values { parsedLevels = levels.map { SnapshotTime.parse($0)?.time } }
                func snapshot(_ i: Int) -> SnapshotTime? {
                    if case .text(let codes, _) = times.values { return codes[i] >= 0 ? parsedLevels[Int(codes[i])] : nil }
                    return times.text(at: i).flatMap { SnapshotTime.parse($0)?.time }
                }
                for i in 0..<piece.rowCount where !y[i].isNaN {
                    let key = ids.text(at: i) ?? ""
                    guard let parsed = snapshot(i) else {
                        let stamp = times.text(at: i) ?? ""
                        throw Diagnostic(.data, file: dataPath, row: piece.firstRecord + i + 1, line: piece.line(ofRow: i), column: time,
                                        problem: "'\(stamp)' is not a snapshot time (the model was fitted on dates or periods here)",
                                        fix: "write the time as the training file did (e.g. 2024-03-31 or 202403)")
                    }
                    let row = Latest(time: parsed, record: piece.firstRecord + i, probability: judged[i] ? p[i] : .nan,
                                     band: judged[i] ? Int16(piece.scored.band[i]) : -1, churned: y[i] == 1)
                    if let seen = latest[key], !row.isLater(than: seen) { continue }
                    latest[key] = row
                }
            } else {
                for i in 0..<piece.rowCount where judged[i] { top.offer(p[i], record: piece.firstRecord + i) }
            }
        }

        var customers: CustomerView? = nil
        if id != nil, time != nil {
            var view = CustomerView()
            view.bandCounts = Array(repeating: (0, 0), count: max(sample.bandLabels.count, 1))
            var first: Latest? = nil, last: Latest? = nil
            for row in latest.values {
                view.count += 1
                if row.churned { view.churned += 1 } else if row.probability.isNaN { view.unscored += 1 } else {
                    top.offer(row.probability, record: row.record)
                }
                if row.band >= 0 {
                    view.bandCounts[Int(row.band)].customers += 1
                    if row.churned { view.bandCounts[Int(row.band)].churned += 1 }
                }
                if first.map({ $0.isLater(than: row) }) ?? true { first = row }
                if last.map({ row.isLater(than: $0) }) ?? true { last = row }
            }
            view.firstLatest = first?.time.description ?? ""
            view.lastLatest = last?.time.description ?? ""
            customers = view
            latest = [:]
        }

        // Pass 2: histograms on the ranges pass 1 found; the listed customers explained.
        let wanted = Set(top.records)
        var listed: [Int: AtRiskRow] = [:]
        for m in metrics.indices where metrics[m].levels == nil {
            metrics[m].retained = Array(repeating: 0, count: bins)
            metrics[m].churned = Array(repeating: 0, count: bins)
        }
        let scorer = Scorer(model: model)
        _ = try ScoredSample.load(model: model, dataPath: dataPath, keyColumns: keys) { piece, y, _ in
            for m in metrics.indices where metrics[m].levels == nil && metrics[m].moments.count > 0 {
                guard let c = piece.table.column(named: metrics[m].name), case .numeric(let v) = c.values else { continue }
                let missing = c.missingMask()
                let lo = metrics[m].moments.minimum, hi = metrics[m].moments.maximum
                let width = hi > lo ? (hi - lo) / Double(bins) : 1
                for i in 0..<piece.rowCount where !y[i].isNaN && !missing[i] {
                    let b = min(max(Int((v[i] - lo) / width), 0), bins - 1)
                    if y[i] == 1 { metrics[m].churned[b] += 1 } else { metrics[m].retained[b] += 1 }
                }
            }
            let rows = (0..<piece.rowCount).filter { wanted.contains(piece.firstRecord + $0) }
            guard !rows.isEmpty else { return }
            let part = piece.table.subset(rows: rows)
            let explained = try scorer.explain(rowCount: part.rowCount,
                                               columns: ScoringInput.columns(part, names: scorer.requiredColumns,
                                                                             numberFormat: model.schema.numberFormat ?? .plain),
                                               reasons: 3)
            for (k, i) in rows.enumerated() {
                listed[piece.firstRecord + i] = AtRiskRow(
                    id: id.flatMap { piece.table.column(named: $0)?.text(at: i) } ?? "row \(piece.firstRecord + i + 1)",
                    snapshot: time.flatMap { piece.table.column(named: $0)?.text(at: i) },
                    explanation: explained[k], churned: y[i] == 1)
            }
        }
        let atRisk = top.records.compactMap { listed[$0] }
        return ReportData(sample: sample, labelledRows: labelledRows, metrics: metrics, atRisk: atRisk, customers: customers)
    }

    /// A customer's latest judged snapshot so far (kept small: one per customer of the file).
    struct Latest {
        var time: SnapshotTime
        var record: Int
        var probability: Double
        var band: Int16
        var churned: Bool

        /// Later in time; the later record on a tie.
        func isLater(than other: Latest) -> Bool {
            time != other.time ? time > other.time : record > other.record
        }
    }

    /// The `capacity` highest probabilities offered, highest first (the earlier record on a tie).
    struct TopRows {
        let capacity: Int
        private var entries: [(p: Double, record: Int)] = []
        init(capacity: Int) { self.capacity = max(capacity, 0) }

        var records: [Int] { entries.map(\.record) }

        mutating func offer(_ p: Double, record: Int) {
            guard capacity > 0 else { return }
            func before(_ a: (p: Double, record: Int), _ b: (p: Double, record: Int)) -> Bool {
                a.p != b.p ? a.p > b.p : a.record < b.record
            }
            if entries.count == capacity, let last = entries.last, !before((p, record), last) { return }
            let at = entries.firstIndex { before((p, record), $0) } ?? entries.count
            entries.insert((p, record), at: at)
            if entries.count > capacity { entries.removeLast() }
        }
    }
}
