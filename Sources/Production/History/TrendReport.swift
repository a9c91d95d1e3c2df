import Foundation
import ScoringCore

/// What changed between two runs, as the lists customer-success teams work from.
///
/// Rules (customers are matched by id; "healthy" = the best band, band_rank 0):
/// - worsened: in both runs, and the score fell by more than `drop` points, or the band got worse
///   (band_rank rose) with a fall of more than the median absolute change of the customers in both
///   runs. Worst first: largest score fall, then lowest new score, then id (the fall rather
///   than the bands lost leads, because bands are of unequal width: on the probability scale the
///   best band is a few points wide, and a fall of 48 points within one band step matters more than
///   a fall of 4 points across two).
///   Complete (not cut at `top`): every customer on it needs a call.
/// - advocates: healthy in the latest run, not on the worsened list and not late on invoices (when a
///   late column was stored). Highest score first, at most `top`.
/// - upsell: healthy in the latest run, scored in the previous run too, and the score rose (new > old;
///   a customer can have risen within the best band or into it), not late on invoices. Largest rise
///   first, then highest score; at most `top`.
///   Advocates and upsell candidates may overlap: a healthy customer who is still improving is both.
/// - late invoices: only when the latest run stored a late column; days late > 0, most late first
///   (then highest churn probability). Complete.
/// - forecast: `ChurnForecast` of every customer in the latest run.
/// - what changed (worsened and upsell entries): the `changesShown` metrics that moved the score most
///   between the runs in the direction of the customer's change (at least 0.05 points), matched by
///   metric name. A metric's move is its change in log-odds scaled by the customer's score change
///   over η's change, so the moves of all metrics add up to the score change on either scale; nil
///   when either run kept no per-metric parts.
public struct TrendReport: Codable, Sendable {
    public struct Options: Sendable {
        /// Points a score must fall by (strictly more) to make the worsened list without a band change;
        /// nil: `dropMultiple` × the median absolute change of the customers in both runs whose score
        /// moved, so the rule follows the model's scale (0–100 or points) and the month's usual movement.
        public var drop: Double?
        /// Length of the advocate and upsell lists (the text report also cuts the others there).
        public var top: Int = 10
        public var exactLimit: Int = PoissonBinomial.exactLimit
        public init(drop: Double? = nil, top: Int = 10) { self.drop = drop; self.top = top }
        public static let dropMultiple = 3.0
    }

    /// A customer in the latest run, with the previous run's score when they were in it.
    public struct Entry: Codable, Sendable, Equatable {
        public var customerID: String
        public var score: Double
        public var band: String?
        /// 0 = the best band.
        public var bandRank: Int?
        public var churnProbability: Double
        public var previousScore: Double?
        public var previousBand: String?
        /// score − previousScore.
        public var change: Double?
        /// Bands lost since the previous run (negative: gained); nil without bands in either run.
        public var bandsWorsened: Int?
        public var reasons: [Reason]
        public var revenue: Double?
        public var daysLate: Double?
        /// On the worsened and upsell lists: the metrics whose points moved most since the previous
        /// run, in the direction of the change first; nil when a run kept no per-metric points.
        public var changes: [Change]? = nil
    }

    /// One metric's move between the runs: "csat 4.1 → 2.3: −9.0 points".
    public struct Change: Codable, Sendable, Equatable {
        public var metric: String
        public var name: String
        public var before: String
        public var now: String
        /// Score points of the customer's change that this metric's move accounts for.
        public var points: Double
    }

    /// Metrics listed per customer under "what changed".
    public static let changesShown = 3

    /// One reason, as stored with the latest run.
    public struct Reason: Codable, Sendable, Equatable {
        public var metric: String
        public var name: String
        public var value: String
        public var points: Double
    }

    public struct Counts: Codable, Sendable, Equatable {
        public var latest: Int
        public var previous: Int
        /// In both runs (the only ones that can be compared).
        public var matched: Int
        /// In the latest run only.
        public var new: Int
        /// In the previous run only (neither scored nor unscored in the latest).
        public var gone: Int
        /// In the latest run's file but not scored (a missing value, an unseen level, …).
        public var unscored: Int
        public init(latest: Int, previous: Int, matched: Int, new: Int, gone: Int, unscored: Int = 0) {
            self.latest = latest; self.previous = previous; self.matched = matched; self.new = new; self.gone = gone
            self.unscored = unscored
        }
    }

    public struct Rules: Codable, Sendable, Equatable {
        public var worsened: String
        public var advocates: String
        public var upsell: String
        public var lateInvoices: String
    }

    public var latest: RunInfo
    public var previous: RunInfo
    public var customers: Counts
    public var sameModel: Bool
    public var drop: Double
    /// How `drop` was set: "--drop 10", or the multiple of the median change it is.
    public var dropRule: String
    public var top: Int
    public var rules: Rules
    public var notes: [String]
    public var worsened: [Entry]
    public var advocates: [Entry]
    /// How many qualified before the list was cut at `top`.
    public var advocatesTotal: Int
    public var upsell: [Entry]
    public var upsellTotal: Int
    /// Nil when the latest run stored no late column.
    public var lateInvoices: [Entry]?
    public var forecast: ChurnForecast

    /// A listed customer's reasons and per-metric cells in one run.
    public struct Details: Sendable {
        public var reasons: [Contribution]
        public var metricCells: [Float]
        public init(reasons: [Contribution], metricCells: [Float]) { self.reasons = reasons; self.metricCells = metricCells }
    }

    /// Where the listed customers' details come from: the latest run's and the previous run's, by
    /// customer id. Without it, from the records themselves.
    public typealias DetailSource = (latest: (String) throws -> Details, previous: (String) throws -> Details)

    /// Compares `latestScores` (run `latest`) with `previousScores` (run `previous`). The lists are
    /// drawn from the scores alone; reasons and metric cells are read (through `details`, when the
    /// records were read without them) only for the customers listed.
    public init(latest: RunInfo, latestScores: [ScoreRecord], previous: RunInfo, previousScores: [ScoreRecord],
                latestUnscored: [UnscoredRecord] = [], options: Options = Options(), details: DetailSource? = nil) throws {
        self.latest = latest
        self.previous = previous
        top = options.top
        sameModel = latest.modelChecksum == previous.modelChecksum
        var before: [String: Int] = [:]
        before.reserveCapacity(previousScores.count)
        for (k, s) in previousScores.enumerated() { before[s.customerID] = k }
        // Per latest customer, their row in the previous run.
        let old: [Int?] = latestScores.map { before[$0.customerID] }
        let matched = old.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
        var nowIDs = Set<String>(minimumCapacity: latestScores.count + latestUnscored.count)
        for s in latestScores { nowIDs.insert(s.customerID) }
        for u in latestUnscored { nowIDs.insert(u.customerID) }
        customers = Counts(latest: latestScores.count, previous: previousScores.count, matched: matched,
                           new: latestScores.count - matched, gone: previousScores.reduce(0) { $0 + (nowIDs.contains($1.customerID) ? 0 : 1) },
                           unscored: latestUnscored.count)
        let hasLate = latest.lateColumn != nil
        func change(_ i: Int) -> Double? { old[i].map { latestScores[i].healthScore - previousScores[$0].healthScore } }
        // Customers whose score did not move say nothing about a typical move: with most of them
        // unchanged the median would be 0 and every fall, however small, news.
        let changes = latestScores.indices.compactMap { change($0).map(abs) }.filter { $0 > 0 }.sorted()
        let typical = changes.isEmpty ? 0 : (changes[(changes.count - 1) / 2] + changes[changes.count / 2]) / 2
        let drop = options.drop ?? Self.rounded(Options.dropMultiple * typical)
        self.drop = drop
        dropRule = options.drop != nil ? "--drop \(Self.number(drop))"
            : "\(Self.number(Options.dropMultiple)) × the median absolute change of the customers in both runs whose score moved (\(String(format: "%.2f", typical)) points); --drop sets it"
        let dropText = Self.number(drop)
        rules = Rules(
            worsened: "in both runs, and the score fell by more than \(dropText) points (\(dropRule)), or fell into a worse band by more than the median change (\(String(format: "%.2f", typical)) points); largest fall first",
            advocates: "in the best band\(latest.bands.first.map { " (\($0))" } ?? ""), not on the worsened list\(hasLate ? ", not late on invoices" : ""); highest score first, top \(options.top)",
            upsell: "in the best band now, scored in the previous run too, and the score rose\(hasLate ? "; not late on invoices" : ""); largest rise first, top \(options.top)",
            lateInvoices: hasLate ? "days late (\(latest.lateColumn!)) above 0 in the latest run; most late first"
                                  : "no late column stored: score with --late COLUMN")

        var notes: [String] = []
        if !sameModel {
            notes.append("the runs were scored by different models (\(Self.short(previous.modelChecksum)) then \(Self.short(latest.modelChecksum))): changes mix customer changes with model changes")
        }
        if latest.bands.isEmpty { notes.append("the latest run's model has no bands: no advocate or upsell lists, and worsened means the score fell") }
        else if latest.bands != previous.bands && !previous.bands.isEmpty {
            notes.append("the runs' band labels differ (\(previous.bands.joined(separator: "/")) then \(latest.bands.joined(separator: "/"))): bands are compared by rank")
        }
        if let first = latestUnscored.first {
            notes.append("\(latestUnscored.count) customers of the latest run could not be scored and are on no list (e.g. \(first.customerID): \(first.problem)); fix their rows and score the date again")
        }
        if latest.metrics.isEmpty || previous.metrics.isEmpty {
            let old = [previous, latest].filter { $0.metrics.isEmpty }.map(\.asOf).joined(separator: " and ")
            notes.append("the run of \(old) was recorded without per-metric points (an older healthscore): no \"what changed\"; score that date again to add them")
        }
        if latest.scale != previous.scale {
            notes.append("the runs use different score scales (\(previous.scale) then \(latest.scale)): score changes are not comparable")
        }

        let latestDetails: (String) throws -> Details
        let previousDetails: (String) throws -> Details
        if let details {
            (latestDetails, previousDetails) = details
        } else {
            func inMemory(_ records: [ScoreRecord]) -> (String) -> Details {
                let byID = Dictionary(records.map { ($0.customerID, $0) }, uniquingKeysWith: { a, _ in a })
                return { id in byID[id].map { Details(reasons: $0.reasons, metricCells: $0.metricCells) } ?? Details(reasons: [], metricCells: []) }
            }
            (latestDetails, previousDetails) = (inMemory(latestScores), inMemory(previousScores))
        }
        func entry(_ i: Int) throws -> Entry {
            let s = latestScores[i]
            let o = old[i].map { previousScores[$0] }
            var worsened: Int? = nil
            if let r = s.bandRank, let b = o?.bandRank { worsened = r - b }
            return Entry(customerID: s.customerID, score: s.healthScore, band: s.band, bandRank: s.bandRank,
                         churnProbability: s.churnProbability,
                         previousScore: o?.healthScore, previousBand: o?.band,
                         change: change(i), bandsWorsened: worsened,
                         reasons: try latestDetails(s.customerID).reasons.map { Reason(metric: $0.metric, name: $0.displayName, value: $0.value, points: $0.points) },
                         revenue: s.revenue, daysLate: s.daysLate)
        }
        let all = Array(latestScores.indices)

        // (a) Worsened.
        let worsenedRows = all.filter { i in
            guard let c = change(i) else { return false }
            // A band crossing counts when the fall is more than the usual month's movement: a score
            // a hair above a cut that ends a hair below it is noise, not news.
            let fall = -c
            let lost = latestScores[i].bandRank.flatMap { r in previousScores[old[i]!].bandRank.map { r - $0 } } ?? 0
            return (lost > 0 && fall > typical) || fall > drop
        }.sorted { a, b in
            let ca = change(a)!, cb = change(b)!
            if ca != cb { return ca < cb }
            let sa = latestScores[a].healthScore, sb = latestScores[b].healthScore
            if sa != sb { return sa < sb }
            return latestScores[a].customerID < latestScores[b].customerID
        }
        worsened = try worsenedRows.map(entry)
        let worsenedSet = Set(worsenedRows)
        let late: (Int) -> Bool = { hasLate && (latestScores[$0].daysLate ?? 0) > 0 }
        func byScore(_ descending: Bool) -> (Int, Int) -> Bool {
            { a, b in
                let sa = latestScores[a].healthScore, sb = latestScores[b].healthScore
                if sa != sb { return descending ? sa > sb : sa < sb }
                return latestScores[a].customerID < latestScores[b].customerID
            }
        }

        // (b) Advocates.
        let advocates = all.filter { i in
            latestScores[i].bandRank == 0 && !worsenedSet.contains(i) && !late(i)
        }
        advocatesTotal = advocates.count
        self.advocates = try Self.first(options.top, of: advocates, by: byScore(true)).map(entry)

        // (c) Upsell.
        let upsell = all.filter { i in latestScores[i].bandRank == 0 && (change(i) ?? 0) > 0 && !late(i) }
        upsellTotal = upsell.count
        self.upsell = try Self.first(options.top, of: upsell) { a, b in
            let ca = change(a)!, cb = change(b)!
            return ca != cb ? ca > cb : byScore(true)(a, b)
        }.map(entry)

        // What changed, for the customers on the two lists that compare runs.
        let previousIndex = Dictionary(previous.metrics.enumerated().map { ($1.metric, $0) }, uniquingKeysWith: { a, _ in a })
        func moved(_ e: Entry, worse: Bool) throws -> [Change]? {
            guard let change = e.change else { return nil }
            let now = MetricRecorder.parts(try latestDetails(e.customerID).metricCells, metrics: latest.metrics)
            let old = MetricRecorder.parts(try previousDetails(e.customerID).metricCells, metrics: previous.metrics)
            guard !now.isEmpty, !old.isEmpty else { return nil }
            // Each metric's move in log-odds, in score points by the run's own ratio of the score's
            // change to η's: the moves add up to the change on every scale, and a metric whose value
            // stayed moves nothing.
            var deltas: [(Int, Int, Double)] = []
            var eta = 0.0
            for (j, m) in latest.metrics.enumerated() {
                guard let k = previousIndex[m.metric] else { continue }
                let d = now[j].logOdds - old[k].logOdds
                deltas.append((j, k, d))
                eta += d
            }
            guard abs(eta) > 1e-9 else { return [] }
            var moves: [Change] = []
            for (j, k, d) in deltas {
                let points = d * change / eta
                // Only moves that show at one decimal, in the direction of the customer's change.
                guard abs(points) >= 0.05, (points < 0) == worse else { continue }
                moves.append(Change(metric: latest.metrics[j].metric, name: latest.metrics[j].name, before: old[k].value,
                                    now: now[j].value, points: points))
            }
            return Array(moves.sorted { abs($0.points) != abs($1.points) ? abs($0.points) > abs($1.points) : $0.metric < $1.metric }
                .prefix(Self.changesShown))
        }
        for i in worsened.indices { worsened[i].changes = try moved(worsened[i], worse: true) }
        for i in self.upsell.indices { self.upsell[i].changes = try moved(self.upsell[i], worse: false) }

        // (d) Late invoices.
        lateInvoices = hasLate
            ? try all.filter(late).sorted { a, b in
                let da = latestScores[a].daysLate!, db = latestScores[b].daysLate!
                if da != db { return da > db }
                let pa = latestScores[a].churnProbability, pb = latestScores[b].churnProbability
                if pa != pb { return pa > pb }
                return latestScores[a].customerID < latestScores[b].customerID
            }.map(entry)
            : nil

        // (e) Forecast.
        forecast = ChurnForecast(latestScores, exactLimit: options.exactLimit)
        if let w = forecast.revenue?.warning { notes.append(w) }
        if let r = forecast.revenue, r.customersWithoutRevenue > 0 {
            notes.append("\(r.customersWithoutRevenue) customers have no revenue value and are left out of the revenue at risk")
        }
        self.notes = notes
    }

    /// The first `k` of `rows` in the order `before`, without sorting the rest.
    static func first(_ k: Int, of rows: [Int], by before: (Int, Int) -> Bool) -> [Int] {
        guard rows.count > k, k <= 64 else { return Array(rows.sorted(by: before).prefix(k)) }
        var kept: [Int] = []
        kept.reserveCapacity(k + 1)
        for i in rows {
            if kept.count == k, let last = kept.last, !before(i, last) { continue }
            let at = kept.firstIndex { before(i, $0) } ?? kept.count
            kept.insert(i, at: at)
            if kept.count > k { kept.removeLast() }
        }
        return kept
    }

    static func short(_ checksum: String) -> String {
        let hex = checksum.hasPrefix("sha256:") ? String(checksum.dropFirst(7)) : checksum
        return String(hex.prefix(12))
    }

    /// Three significant digits: a threshold people read.
    static func rounded(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return 0 }
        return Double(String(format: "%.3g", x)) ?? x
    }

    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }
}

extension HistoryDatabase {
    /// The trend between two runs: `asOf` (default: the latest run) against `previous` (default: the
    /// run just before it). Errors name the runs there are.
    public func trend(asOf: String? = nil, previous: String? = nil, options: TrendReport.Options = .init()) throws -> TrendReport {
        if let asOf { try HistoryDate.validate(asOf, option: "--as-of") }
        if let previous { try HistoryDate.validate(previous, option: "--previous") }
        return try snapshot { db in
            let runs = try db.runs()
            let dates = runs.map(\.asOf)
            func list() -> String {
                dates.count <= 8 ? dates.joined(separator: ", ") : dates.prefix(3).joined(separator: ", ") + ", …, " + dates.suffix(3).joined(separator: ", ") + " (\(dates.count) runs)"
            }
            guard runs.count >= 2 else {
                throw HistoryError(path: path, problem: runs.isEmpty ? "the score history holds no runs" : "the score history holds one run (\(list())); a trend compares two",
                                   fix: "record another run with 'healthscore score MODEL DATA --db \(path) --as-of YYYY-MM-DD'")
            }
            let latestIndex: Int
            if let asOf {
                guard let i = dates.firstIndex(of: asOf) else {
                    throw HistoryError(path: path, problem: "no run as of \(asOf) (runs: \(list()))",
                                       fix: "pass one of the recorded dates to --as-of, or leave it out for the latest")
                }
                latestIndex = i
            } else {
                latestIndex = runs.count - 1
            }
            let previousIndex: Int
            if let previous {
                guard let i = dates.firstIndex(of: previous) else {
                    throw HistoryError(path: path, problem: "no run as of \(previous) (runs: \(list()))",
                                       fix: "pass one of the recorded dates to --previous, or leave it out for the run before --as-of")
                }
                guard i < latestIndex else {
                    throw HistoryError(path: path, problem: "--previous \(previous) is not before --as-of \(dates[latestIndex])",
                                       fix: "pass an earlier run to --previous")
                }
                previousIndex = i
            } else {
                guard latestIndex > 0 else {
                    throw HistoryError(path: path, problem: "no run before \(dates[latestIndex]) to compare with (runs: \(list()))",
                                       fix: "pass a later date to --as-of, or record an earlier run")
                }
                previousIndex = latestIndex - 1
            }
            let latest = runs[latestIndex], before = runs[previousIndex]
            // The lists come from the scores alone; reasons and metric cells are read per listed customer.
            return try TrendReport(latest: latest, latestScores: try db.scores(asOf: latest.asOf, details: false),
                                   previous: before, previousScores: try db.scores(asOf: before.asOf, details: false),
                                   latestUnscored: try db.unscored(asOf: latest.asOf), options: options,
                                   details: (try db.detailReader(asOf: latest.asOf), try db.detailReader(asOf: before.asOf)))
        }
    }
}
