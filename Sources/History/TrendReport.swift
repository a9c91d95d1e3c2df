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
        /// nil: `dropMultiple` × the median absolute change of the customers in both runs, so the rule
        /// follows the model's scale (0–100 or points) and the month's usual movement.
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

    /// Compares `latestScores` (run `latest`) with `previousScores` (run `previous`).
    public init(latest: RunInfo, latestScores: [ScoreRecord], previous: RunInfo, previousScores: [ScoreRecord],
                latestUnscored: [UnscoredRecord] = [], options: Options = Options()) {
        self.latest = latest
        self.previous = previous
        top = options.top
        sameModel = latest.modelChecksum == previous.modelChecksum
        var before: [String: ScoreRecord] = [:]
        for s in previousScores { before[s.customerID] = s }
        let nowIDs = Set(latestScores.map(\.customerID) + latestUnscored.map(\.customerID))
        let matched = latestScores.filter { before[$0.customerID] != nil }.count
        customers = Counts(latest: latestScores.count, previous: previousScores.count, matched: matched,
                           new: latestScores.count - matched, gone: previousScores.filter { !nowIDs.contains($0.customerID) }.count,
                           unscored: latestUnscored.count)
        let hasLate = latest.lateColumn != nil
        let changes = latestScores.compactMap { s in before[s.customerID].map { abs(s.healthScore - $0.healthScore) } }.sorted()
        let typical = changes.isEmpty ? 0 : (changes[(changes.count - 1) / 2] + changes[changes.count / 2]) / 2
        let drop = options.drop ?? Self.rounded(Options.dropMultiple * typical)
        self.drop = drop
        dropRule = options.drop != nil ? "--drop \(Self.number(drop))"
            : "\(Self.number(Options.dropMultiple)) × the median absolute change of the customers in both runs (\(String(format: "%.2f", typical)) points); --drop sets it"
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

        func entry(_ s: ScoreRecord) -> Entry {
            let old = before[s.customerID]
            var worsened: Int? = nil
            if let r = s.bandRank, let o = old?.bandRank { worsened = r - o }
            return Entry(customerID: s.customerID, score: s.healthScore, band: s.band, bandRank: s.bandRank,
                         churnProbability: s.churnProbability,
                         previousScore: old?.healthScore, previousBand: old?.band,
                         change: old.map { s.healthScore - $0.healthScore }, bandsWorsened: worsened,
                         reasons: s.reasons.map { Reason(metric: $0.metric, name: $0.displayName, value: $0.value, points: $0.points) },
                         revenue: s.revenue, daysLate: s.daysLate)
        }
        let entries = latestScores.map(entry)

        // (a) Worsened.
        worsened = entries.filter { e in
            guard e.previousScore != nil else { return false }
            // A band crossing counts when the fall is more than the usual month's movement: a score
            // a hair above a cut that ends a hair below it is noise, not news.
            let fall = -(e.change ?? 0)
            return ((e.bandsWorsened ?? 0) > 0 && fall > typical) || fall > drop
        }.sorted { a, b in
            if a.change! != b.change! { return a.change! < b.change! }
            if a.score != b.score { return a.score < b.score }
            return a.customerID < b.customerID
        }
        let worsenedIDs = Set(worsened.map(\.customerID))
        let late: (Entry) -> Bool = { hasLate && ($0.daysLate ?? 0) > 0 }

        // (b) Advocates.
        let advocates = entries.filter { e in
            e.bandRank == 0 && !worsenedIDs.contains(e.customerID) && !late(e)
        }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.customerID < $1.customerID }
        advocatesTotal = advocates.count
        self.advocates = Array(advocates.prefix(options.top))

        // (c) Upsell.
        let upsell = entries.filter { e in
            e.bandRank == 0 && (e.change ?? 0) > 0 && !late(e)
        }.sorted { a, b in
            if a.change! != b.change! { return a.change! > b.change! }
            if a.score != b.score { return a.score > b.score }
            return a.customerID < b.customerID
        }
        upsellTotal = upsell.count
        self.upsell = Array(upsell.prefix(options.top))

        // What changed, for the customers on the two lists that compare runs.
        let previousIndex = Dictionary(previous.metrics.enumerated().map { ($1.metric, $0) }, uniquingKeysWith: { a, _ in a })
        let latestByID = Dictionary(latestScores.map { ($0.customerID, $0) }, uniquingKeysWith: { a, _ in a })
        func moved(_ e: Entry, worse: Bool) -> [Change]? {
            guard let nowRecord = latestByID[e.customerID], let oldRecord = before[e.customerID], let change = e.change else { return nil }
            let now = MetricRecorder.parts(nowRecord.metricCells, metrics: latest.metrics)
            let old = MetricRecorder.parts(oldRecord.metricCells, metrics: previous.metrics)
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
        for i in worsened.indices { worsened[i].changes = moved(worsened[i], worse: true) }
        for i in self.upsell.indices { self.upsell[i].changes = moved(self.upsell[i], worse: false) }

        // (d) Late invoices.
        lateInvoices = hasLate
            ? entries.filter(late).sorted { a, b in
                if a.daysLate! != b.daysLate! { return a.daysLate! > b.daysLate! }
                if a.churnProbability != b.churnProbability { return a.churnProbability > b.churnProbability }
                return a.customerID < b.customerID
            }
            : nil

        // (e) Forecast.
        forecast = ChurnForecast(latestScores, exactLimit: options.exactLimit)
        if let w = forecast.revenue?.warning { notes.append(w) }
        if let r = forecast.revenue, r.customersWithoutRevenue > 0 {
            notes.append("\(r.customersWithoutRevenue) customers have no revenue value and are left out of the revenue at risk")
        }
        self.notes = notes
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
            return TrendReport(latest: latest, latestScores: try db.scores(asOf: latest.asOf),
                               previous: before, previousScores: try db.scores(asOf: before.asOf),
                               latestUnscored: try db.unscored(asOf: latest.asOf), options: options)
        }
    }
}
