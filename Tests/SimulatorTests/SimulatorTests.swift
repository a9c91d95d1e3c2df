import Foundation
import Testing
@testable import Simulator

/// A CSV parsed column-wise with a byte-level reader: debug builds are too slow for
/// `String.split` + `Double(String)` over the ~120k-row fixture.
struct ParsedCSV: Sendable {
    var header: [String] = []
    var customerIDs: [String] = []
    var customerNumbers: [Int] = []
    /// year × 12 + (month − 1), for checking that snapshots are consecutive.
    var monthKeys: [Int] = []
    var dayFields: [String] = []
    var plans: [String] = []
    var segments: [String] = []
    /// Numeric columns by header index; NaN marks an empty field.
    var numeric: [Int: [Double]] = [:]
    /// Number of fraction digits seen per numeric column (empty fields not counted).
    var decimals: [Int: Set<Int>] = [:]
    var fieldCountMismatches = 0
    var rowCount: Int { customerIDs.count }

    func column(_ name: String) -> [Double] {
        numeric[header.firstIndex(of: name)!]!
    }

    static func parse(_ bytes: [UInt8]) -> ParsedCSV {
        var result = ParsedCSV()
        guard let headerEnd = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return result }
        result.header = String(decoding: bytes[..<headerEnd], as: UTF8.self)
            .split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let width = result.header.count
        for index in 4..<width {
            result.numeric[index] = []
            result.decimals[index] = []
        }

        var lineStart = headerEnd + 1
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var fields: [Range<Int>] = []
            var fieldStart = lineStart
            for position in lineStart...lineEnd where position == lineEnd || bytes[position] == UInt8(ascii: ",") {
                fields.append(fieldStart..<position)
                fieldStart = position + 1
            }
            if fields.count != width {
                result.fieldCountMismatches += 1
            } else {
                let id = String(decoding: bytes[fields[0]], as: UTF8.self)
                result.customerIDs.append(id)
                result.customerNumbers.append(Int(id.dropFirst()) ?? -1)
                let date = String(decoding: bytes[fields[1]], as: UTF8.self)
                let dateParts = date.split(separator: "-").compactMap { Int($0) }
                result.monthKeys.append(dateParts.count == 3 ? dateParts[0] * 12 + dateParts[1] - 1 : -1)
                result.dayFields.append(date.count == 10 ? String(date.suffix(2)) : "")
                result.plans.append(String(decoding: bytes[fields[2]], as: UTF8.self))
                result.segments.append(String(decoding: bytes[fields[3]], as: UTF8.self))
                for index in 4..<width {
                    let (value, places) = parseDecimal(bytes, fields[index])
                    result.numeric[index]!.append(value)
                    if let places { result.decimals[index]!.insert(places) }
                }
            }
            lineStart = lineEnd + 1
        }
        return result
    }

    /// Exact for the simulator's output: mantissa / 10^k is the correctly rounded decimal value.
    static func parseDecimal(_ bytes: [UInt8], _ range: Range<Int>) -> (Double, Int?) {
        if range.isEmpty { return (.nan, nil) }
        var position = range.lowerBound
        var negative = false
        if bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var mantissa = 0
        var places: Int? = nil
        while position < range.upperBound {
            let byte = bytes[position]
            if byte == UInt8(ascii: ".") {
                places = 0
            } else if byte >= 48 && byte <= 57 {
                mantissa = mantissa * 10 + Int(byte - 48)
                if places != nil { places! += 1 }
            } else {
                return (.nan, -1)
            }
            position += 1
        }
        var scale = 1.0
        for _ in 0..<(places ?? 0) { scale *= 10 }
        let value = Double(mantissa) / scale
        return (negative ? -value : value, places ?? 0)
    }
}

/// One medium-sized dataset shared by the statistical tests, generated and parsed once.
struct Fixture: Sendable {
    static let config: SimulationConfig = {
        var config = SimulationConfig(customers: 12_000, months: 18, seed: 20_240_601, extraMetrics: 2)
        config.startYear = 2023
        config.startMonth = 11
        return config
    }()

    let csv: ParsedCSV
    let truth: TrueModel
    let truthJSON: Data
    let rowsReported: Int
    let leftoverFiles: [String]
    /// Values of each truth term per row, aligned with `truth.weights`.
    let termValues: [[Double]]

    static let shared = Result { try Fixture.make() }

    static func make() throws -> Fixture {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csvURL = directory.appendingPathComponent("history.csv")
        let truthURL = directory.appendingPathComponent("truth.json")
        let rows = try Simulator.write(config: config, csvPath: csvURL.path, truthPath: truthURL.path)
        let csv = ParsedCSV.parse([UInt8](try Data(contentsOf: csvURL)))
        let json = try Data(contentsOf: truthURL)
        let truth = try JSONDecoder().decode(TrueModel.self, from: json)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()

        func indicator(_ values: [String], _ level: String) -> [Double] {
            values.map { $0 == level ? 1 : 0 }
        }
        let termValues: [[Double]] = truth.weights.map { weight in
            switch weight.term {
            case "plan[enterprise]": return indicator(csv.plans, "enterprise")
            case "plan[pro]": return indicator(csv.plans, "pro")
            case "segment[mid_market]": return indicator(csv.segments, "mid_market")
            case "segment[smb]": return indicator(csv.segments, "smb")
            default:
                guard let index = csv.header.firstIndex(of: weight.term) else {
                    return [Double](repeating: .nan, count: csv.rowCount)
                }
                return csv.numeric[index]!
            }
        }
        return Fixture(
            csv: csv, truth: truth, truthJSON: json, rowsReported: rows,
            leftoverFiles: files, termValues: termValues)
    }

    static func get() throws -> Fixture {
        try shared.get()
    }

    /// η recomputed from the CSV text and the truth JSON alone; nil when csat is missing.
    func etaFromCSV(row: Int) -> Double? {
        var eta = truth.intercept
        for (term, weight) in truth.weights.enumerated() {
            let value = termValues[term][row]
            if value.isNaN { return nil }
            eta += weight.weight * value
        }
        return eta
    }
}

func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("simulator-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("SimulatorTests")
struct SimulatorTests {
    static let expectedCoreColumns = [
        "customer_id", "snapshot_date", "plan", "segment",
        "logins", "active_days", "feature_adoption", "support_tickets", "high_severity_tickets",
        "csat", "nps", "referrals", "roi_proxy", "days_late", "sentiment",
    ]

    @Test("same seed gives identical bytes, another seed differs")
    func determinism() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func run(_ seed: UInt64, _ name: String) throws -> (Data, Data) {
            let config = SimulationConfig(customers: 400, months: 6, seed: seed, extraMetrics: 3)
            let csv = directory.appendingPathComponent("\(name).csv")
            let truth = directory.appendingPathComponent("\(name).json")
            try Simulator.write(config: config, csvPath: csv.path, truthPath: truth.path)
            return (try Data(contentsOf: csv), try Data(contentsOf: truth))
        }
        let first = try run(7, "a")
        let second = try run(7, "b")
        let other = try run(8, "c")
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
        #expect(first.0 != other.0)
        #expect(first.0.count > 10_000)
    }

    /// A golden fingerprint of a small dataset. All arithmetic is IEEE basic operations in our own
    /// code, so this must hold on every platform; if the generator is changed on purpose, update
    /// the constant (stored benchmark datasets are then no longer reproducible).
    @Test("output fingerprint is stable across machines")
    func goldenFingerprint() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = SimulationConfig(customers: 300, months: 5, seed: 12_345, extraMetrics: 2)
        let csv = directory.appendingPathComponent("golden.csv")
        try Simulator.write(config: config, csvPath: csv.path, truthPath: directory.appendingPathComponent("golden.json").path)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in try Data(contentsOf: csv) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        #expect(String(hash, radix: 16) == "GOLDEN", "fingerprint \(String(hash, radix: 16))")
    }

    @Test("customer histories do not depend on how many customers follow")
    func customerStreamsAreIndependent() throws {
        var small: [String] = []
        var large: [String] = []
        HistoryGenerator(config: SimulationConfig(customers: 5, months: 4, seed: 99))
            .forEachRow { small.append("\($0.customer) \($0.monthIndex) \($0.logins) \($0.eta)") }
        HistoryGenerator(config: SimulationConfig(customers: 50, months: 4, seed: 99))
            .forEachRow { if $0.customer <= 5 { large.append("\($0.customer) \($0.monthIndex) \($0.logins) \($0.eta)") } }
        #expect(!small.isEmpty)
        #expect(small == large)
    }

    @Test("header, column order and value formats")
    func headerAndFormats() throws {
        let fixture = try Fixture.get()
        let csv = fixture.csv
        #expect(csv.header == Self.expectedCoreColumns + ["usage_01", "usage_02", "churned_next_month"])
        #expect(csv.header == Simulator.columns(config: Fixture.config))
        #expect(csv.fieldCountMismatches == 0)
        #expect(csv.rowCount == fixture.rowsReported)
        #expect(csv.rowCount > 80_000)

        #expect(csv.customerIDs.allSatisfy { $0.count == 7 && $0.hasPrefix("C") })
        #expect(Set(csv.plans) == ["basic", "pro", "enterprise"])
        #expect(Set(csv.segments) == ["smb", "mid_market", "enterprise"])
        #expect(csv.dayFields.allSatisfy { $0 == "01" })
        #expect(csv.monthKeys.min() == 2023 * 12 + 10)

        let expectedDecimals: [String: Int] = [
            "logins": 0, "active_days": 0, "feature_adoption": 3, "support_tickets": 0,
            "high_severity_tickets": 0, "csat": 1, "nps": 0, "referrals": 0, "roi_proxy": 2,
            "days_late": 0, "sentiment": 3, "usage_01": 4, "usage_02": 4, "churned_next_month": 0,
        ]
        for (name, places) in expectedDecimals {
            let index = csv.header.firstIndex(of: name)!
            #expect(csv.decimals[index] == [places], "\(name)")
        }

        func range(_ name: String) -> ClosedRange<Double> {
            let values = csv.column(name).filter { !$0.isNaN }
            return values.min()!...values.max()!
        }
        #expect(range("logins").lowerBound >= 0)
        #expect(range("logins").upperBound > 200)
        #expect(range("active_days") == 0...30)
        #expect(range("feature_adoption").lowerBound >= 0 && range("feature_adoption").upperBound <= 1)
        #expect(range("csat").lowerBound >= 1 && range("csat").upperBound <= 5)
        #expect(range("nps") == 0...10)
        #expect(range("roi_proxy").lowerBound > 0)
        #expect(range("sentiment").lowerBound >= -1 && range("sentiment").upperBound <= 1)
        #expect(range("churned_next_month") == 0...1)
        #expect(range("usage_01").lowerBound >= 0)

        let tickets = csv.column("support_tickets")
        let severe = csv.column("high_severity_tickets")
        #expect(zip(severe, tickets).allSatisfy { $0 <= $1 })

        let referrals = csv.column("referrals")
        #expect(Double(referrals.filter { $0 == 0 }.count) / Double(referrals.count) > 0.8)
        let late = csv.column("days_late")
        #expect(Double(late.filter { $0 == 0 }.count) / Double(late.count) > 0.75)
        #expect(late.max()! > 30)
    }

    @Test("about 3% of csat values are missing")
    func csatMissingShare() throws {
        let csat = try Fixture.get().csv.column("csat")
        let share = Double(csat.filter(\.isNaN).count) / Double(csat.count)
        #expect(share > 0.025 && share < 0.035, "missing share \(share)")
    }

    @Test("monthly churn rate is in the 2–6% band")
    func churnRate() throws {
        let csv = try Fixture.get().csv
        let labels = csv.column("churned_next_month")
        let overall = labels.reduce(0, +) / Double(labels.count)
        #expect(overall > 0.02 && overall < 0.06, "overall churn \(overall)")

        var byMonth: [Int: (rows: Double, churned: Double)] = [:]
        for (key, label) in zip(csv.monthKeys, labels) {
            byMonth[key, default: (0, 0)].rows += 1
            byMonth[key, default: (0, 0)].churned += label
        }
        #expect(byMonth.count == Fixture.config.months)
        for (month, tally) in byMonth {
            let rate = tally.churned / tally.rows
            #expect(rate > 0.015 && rate < 0.07, "month \(month): \(rate)")
        }
    }

    @Test("customers appear once, with consecutive months and nothing after churn")
    func histories() throws {
        let csv = try Fixture.get().csv
        let labels = csv.column("churned_next_month")
        var seen = Set<Int>()
        var startsAfterWindowOpens = 0
        var row = 0
        while row < csv.rowCount {
            let customer = csv.customerNumbers[row]
            #expect(seen.insert(customer).inserted, "customer \(customer) is not contiguous")
            if csv.monthKeys[row] > csv.monthKeys[0] { startsAfterWindowOpens += 1 }
            var end = row + 1
            while end < csv.rowCount && csv.customerNumbers[end] == customer {
                #expect(csv.monthKeys[end] == csv.monthKeys[end - 1] + 1)
                #expect(labels[end - 1] == 0, "snapshot after churn for customer \(customer)")
                #expect(csv.plans[end] == csv.plans[row] && csv.segments[end] == csv.segments[row])
                end += 1
            }
            row = end
        }
        #expect(seen.count == Fixture.config.customers)
        #expect(seen.min() == 1 && seen.max() == Fixture.config.customers)
        // Staggered starts: many customers join after the first month.
        #expect(startsAfterWindowOpens > Fixture.config.customers / 3)
    }

    @Test("truth JSON names every design term of the header")
    func truthMatchesHeader() throws {
        let fixture = try Fixture.get()
        let truth = fixture.truth
        let header = fixture.csv.header
        #expect(truth.label == "churned_next_month")
        #expect(truth.horizonMonths == 1)
        #expect(truth.seed == Fixture.config.seed)
        #expect(truth.customers == Fixture.config.customers)
        #expect(truth.months == Fixture.config.months)
        #expect(truth.extraMetrics == Fixture.config.extraMetrics)

        let numericColumns = Array(header.dropFirst(4).dropLast())
        let expectedTerms = ["plan[enterprise]", "plan[pro]", "segment[mid_market]", "segment[smb]"] + numericColumns
        #expect(truth.weights.map(\.term) == expectedTerms)
        #expect(truth.weights.allSatisfy { $0.weight != 0 && $0.weight.isFinite })
        #expect(header.last == truth.label)

        let decoded = try JSONDecoder().decode(TrueModel.self, from: fixture.truthJSON)
        #expect(decoded.weights == Simulator.trueModel(config: Fixture.config).weights)
        #expect(fixture.leftoverFiles == ["history.csv", "truth.json"])
    }

    @Test("true weights have business-sensible signs")
    func weightSigns() {
        let truth = Simulator.trueModel(config: SimulationConfig(customers: 1, months: 1, seed: 1))
        for term in ["logins", "active_days", "feature_adoption", "csat", "nps", "referrals", "roi_proxy", "sentiment"] {
            #expect(truth.weight(for: term)! < 0, "\(term)")
        }
        for term in ["support_tickets", "high_severity_tickets", "days_late"] {
            #expect(truth.weight(for: term)! > 0, "\(term)")
        }
    }

    @Test("the benchmark configuration yields about 50 design terms")
    func benchmarkShape() {
        let config = SimulationConfig(customers: 1_000_000, months: 1, seed: 1, extraMetrics: 36)
        let truth = Simulator.trueModel(config: config)
        #expect(truth.weights.count == 51)
        #expect(truth.weights.last?.term == "usage_36")
        #expect(Simulator.columns(config: config).count == 52)
    }

    @Test("one snapshot month gives exactly one row per customer")
    func singleMonth() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = SimulationConfig(customers: 1_500, months: 1, seed: 3, extraMetrics: 1)
        let csv = directory.appendingPathComponent("one.csv").path
        let rows = try Simulator.write(config: config, csvPath: csv, truthPath: directory.appendingPathComponent("one.json").path)
        #expect(rows == 1_500)
        // Rewriting over existing files must replace them cleanly.
        let again = try Simulator.write(config: config, csvPath: csv, truthPath: directory.appendingPathComponent("one.json").path)
        #expect(again == 1_500)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["one.csv", "one.json"])
    }

    @Test("invalid configurations are rejected")
    func invalidConfig() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("x.csv").path
        let truth = directory.appendingPathComponent("x.json").path
        #expect(throws: SimulatorError.self) {
            try Simulator.write(config: SimulationConfig(customers: 10, months: 0, seed: 1), csvPath: csv, truthPath: truth)
        }
        var badMonth = SimulationConfig(customers: 10, months: 2, seed: 1)
        badMonth.startMonth = 13
        #expect(throws: SimulatorError.self) {
            try Simulator.write(config: badMonth, csvPath: csv, truthPath: truth)
        }
        #expect(throws: (any Error).self) {
            try Simulator.write(
                config: SimulationConfig(customers: 10, months: 2, seed: 1),
                csvPath: directory.appendingPathComponent("missing/x.csv").path, truthPath: truth)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("labels follow η computed from the printed values")
    func etaFromPrintedValues() throws {
        let fixture = try Fixture.get()
        var generated: [Double] = []
        HistoryGenerator(config: Fixture.config).forEachRow { row in
            if generated.count < 5_000 { generated.append(row.csatMissing ? .nan : row.eta) }
        }
        var compared = 0
        for (row, eta) in generated.enumerated() where !eta.isNaN {
            let recomputed = try #require(fixture.etaFromCSV(row: row))
            #expect(abs(recomputed - eta) < 1e-9)
            compared += 1
        }
        #expect(compared > 4_500)
    }

    @Test("empirical churn rises monotonically across deciles of the true η")
    func decilesOfEta() throws {
        let fixture = try Fixture.get()
        let labels = fixture.csv.column("churned_next_month")
        var pairs: [(eta: Double, churned: Double)] = []
        pairs.reserveCapacity(fixture.csv.rowCount)
        for row in 0..<fixture.csv.rowCount {
            if let eta = fixture.etaFromCSV(row: row) { pairs.append((eta, labels[row])) }
        }
        pairs.sort { $0.eta < $1.eta }
        var rates: [Double] = []
        var predicted: [Double] = []
        for decile in 0..<10 {
            let slice = pairs[(decile * pairs.count / 10)..<((decile + 1) * pairs.count / 10)]
            rates.append(slice.reduce(0) { $0 + $1.churned } / Double(slice.count))
            predicted.append(slice.reduce(0) { $0 + 1 / (1 + exp(-$1.eta)) } / Double(slice.count))
        }
        for decile in 1..<10 {
            #expect(rates[decile] > rates[decile - 1], "deciles \(rates)")
        }
        // Calibration of the top decile, where counts are large enough for a tight check.
        #expect(abs(rates[9] - predicted[9]) < 0.2 * predicted[9], "top decile \(rates[9]) vs \(predicted[9])")
        #expect(rates[9] > 10 * rates[0])
    }
}
