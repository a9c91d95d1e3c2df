import Foundation
import Testing
import Support
@testable import Simulator

/// A CSV parsed column-wise by a byte-level reader over unsafe buffers: debug builds are far too
/// slow for `String.split` + `Double(String)` over the ~120k-row fixture.
struct ParsedCSV: Sendable {
    static let planLevels = ["basic", "pro", "enterprise"]
    static let segmentLevels = ["smb", "mid_market", "enterprise"]
    static let unknownLevel: UInt8 = 255
    // Plain constants: `UInt8(ascii:)` is a real call per byte in debug builds.
    static let comma: UInt8 = 0x2c, newline: UInt8 = 0x0a, minus: UInt8 = 0x2d, point: UInt8 = 0x2e
    static let zero: UInt8 = 0x30, nine: UInt8 = 0x39, letterC: UInt8 = 0x43

    var header: [String] = []
    var rowCount = 0
    var customerNumbers: [Int] = []
    /// year × 12 + (month − 1), for checking that snapshots are consecutive.
    var monthKeys: [Int] = []
    /// Indexes into `planLevels` / `segmentLevels`, `unknownLevel` for anything else.
    var plans: [UInt8] = []
    var segments: [UInt8] = []
    /// Columns from index 4 on; NaN marks an empty field.
    var numericColumns: [[Double]] = []
    /// Bit k set when some non-empty field of the column had k fraction digits (bit 15: not a number).
    var decimalMasks: [Int] = []
    var badIdentifiers = 0
    var badDates = 0
    var fieldCountMismatches = 0

    func column(_ name: String) -> [Double] {
        numericColumns[header.firstIndex(of: name)! - 4]
    }

    static func parse(_ bytes: [UInt8]) -> ParsedCSV {
        var result = ParsedCSV()
        let comma = Self.comma, newline = Self.newline
        guard let headerEnd = bytes.firstIndex(of: newline) else { return result }
        result.header = String(decoding: bytes[..<headerEnd], as: UTF8.self)
            .split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let width = result.header.count
        let numericWidth = width - 4
        var rows = 0
        bytes.withUnsafeBufferPointer { b in
            for position in (headerEnd + 1)..<b.count where b[position] == newline { rows += 1 }
        }
        result.rowCount = rows
        var flat = [Double](repeating: .nan, count: rows * numericWidth)
        var masks = [Int](repeating: 0, count: numericWidth)
        let planBytes = planLevels.map { Array($0.utf8) }
        let segmentBytes = segmentLevels.map { Array($0.utf8) }

        var customerNumbers = [Int](repeating: -1, count: rows)
        var monthKeys = [Int](repeating: -1, count: rows)
        var plans = [UInt8](repeating: unknownLevel, count: rows)
        var segments = [UInt8](repeating: unknownLevel, count: rows)
        var badIdentifiers = 0, badDates = 0, mismatches = 0
        bytes.withUnsafeBufferPointer { b in
            flat.withUnsafeMutableBufferPointer { out in
                var position = headerEnd + 1
                for row in 0..<rows {
                    var field = 0
                    var fieldStart = position
                    while true {
                        let byte = b[position]
                        if byte == comma || byte == newline {
                            let range = fieldStart..<position
                            switch field {
                            case 0: customerNumbers[row] = parseIdentifier(b, range, &badIdentifiers)
                            case 1: monthKeys[row] = parseDate(b, range, &badDates)
                            case 2: plans[row] = level(b, range, planBytes)
                            case 3: segments[row] = level(b, range, segmentBytes)
                            default:
                                if field < width {
                                    let (value, places) = parseDecimal(b, range)
                                    out[(field - 4) * rows + row] = value
                                    if places >= 0 { masks[field - 4] |= 1 << places }
                                }
                            }
                            field += 1
                            fieldStart = position + 1
                            if byte == newline { break }
                        }
                        position += 1
                    }
                    if field != width { mismatches += 1 }
                    position += 1
                }
            }
        }
        result.customerNumbers = customerNumbers
        result.monthKeys = monthKeys
        result.plans = plans
        result.segments = segments
        result.badIdentifiers = badIdentifiers
        result.badDates = badDates
        result.fieldCountMismatches = mismatches
        result.numericColumns = (0..<numericWidth).map { Array(flat[($0 * rows)..<(($0 + 1) * rows)]) }
        result.decimalMasks = masks
        return result
    }

    static func level(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ levels: [[UInt8]]) -> UInt8 {
        for index in 0..<levels.count where levels[index].count == range.count {
            var same = true
            for offset in 0..<range.count where levels[index][offset] != b[range.lowerBound + offset] {
                same = false
                break
            }
            if same { return UInt8(index) }
        }
        return unknownLevel
    }

    /// "C" followed by at least six digits.
    static func parseIdentifier(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ bad: inout Int) -> Int {
        guard range.count >= 7, b[range.lowerBound] == letterC else {
            bad += 1
            return -1
        }
        var number = 0
        for position in (range.lowerBound + 1)..<range.upperBound {
            let digit = Int(b[position]) - 48
            guard (0...9).contains(digit) else {
                bad += 1
                return -1
            }
            number = number * 10 + digit
        }
        return number
    }

    /// YYYY-MM-01 → year × 12 + month − 1.
    static func parseDate(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ bad: inout Int) -> Int {
        let s = range.lowerBound
        func digits(_ offset: Int, _ count: Int) -> Int? {
            var value = 0
            for i in 0..<count {
                let digit = Int(b[s + offset + i]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard range.count == 10, b[s + 4] == minus, b[s + 7] == minus,
              let year = digits(0, 4), let month = digits(5, 2), (1...12).contains(month), digits(8, 2) == 1
        else {
            bad += 1
            return -1
        }
        return year * 12 + month - 1
    }

    /// Returns the value and its number of fraction digits (−1 when empty). Exact for this data:
    /// mantissa / 10^k is the correctly rounded value of the decimal text.
    static func parseDecimal(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> (Double, Int) {
        if range.isEmpty { return (.nan, -1) }
        let minus = Self.minus, point = Self.point, zero = Self.zero, nine = Self.nine
        var position = range.lowerBound
        var negative = false
        if b[position] == minus {
            negative = true
            position += 1
        }
        var mantissa = 0
        var places = 0
        var seenPoint = false
        while position < range.upperBound {
            let byte = b[position]
            if byte == point && !seenPoint {
                seenPoint = true
            } else if byte >= zero && byte <= nine {
                mantissa = mantissa * 10 + Int(byte - 48)
                if seenPoint { places += 1 }
            } else {
                return (.nan, 15)
            }
            position += 1
        }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let value = Double(mantissa) / scale
        return (negative ? -value : value, places)
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

        func indicator(_ codes: [UInt8], _ levels: [String], _ level: String) -> [Double] {
            let code = UInt8(levels.firstIndex(of: level)!)
            return codes.map { $0 == code ? 1 : 0 }
        }
        let termValues: [[Double]] = truth.weights.map { weight in
            switch weight.term {
            case "plan[enterprise]": return indicator(csv.plans, ParsedCSV.planLevels, "enterprise")
            case "plan[pro]": return indicator(csv.plans, ParsedCSV.planLevels, "pro")
            case "segment[mid_market]": return indicator(csv.segments, ParsedCSV.segmentLevels, "mid_market")
            case "segment[smb]": return indicator(csv.segments, ParsedCSV.segmentLevels, "smb")
            default:
                guard csv.header.dropFirst(4).contains(weight.term) else {
                    return [Double](repeating: .nan, count: csv.rowCount)
                }
                return csv.column(weight.term)
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
        #expect(String(hash, radix: 16) == "3d3bdbe3b91b5b04", "fingerprint \(String(hash, radix: 16))")
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

        #expect(csv.badIdentifiers == 0)
        #expect(csv.badDates == 0)
        #expect(Set(csv.plans) == [0, 1, 2])
        #expect(Set(csv.segments) == [0, 1, 2])
        #expect(csv.monthKeys.min() == 2023 * 12 + 10)
        #expect(csv.monthKeys.max() == 2023 * 12 + 10 + Fixture.config.months - 1)

        let expectedDecimals: [String: Int] = [
            "logins": 0, "active_days": 0, "feature_adoption": 3, "support_tickets": 0,
            "high_severity_tickets": 0, "csat": 1, "nps": 0, "referrals": 0, "roi_proxy": 2,
            "days_late": 0, "sentiment": 3, "usage_01": 4, "usage_02": 4, "churned_next_month": 0,
        ]
        for (name, places) in expectedDecimals {
            let index = csv.header.firstIndex(of: name)! - 4
            #expect(csv.decimalMasks[index] == 1 << places, "\(name)")
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
        var interleaved = 0, gaps = 0, afterChurn = 0, attributeChanges = 0
        let windowOpen = csv.monthKeys.min()!
        var startsAfterWindowOpens = 0
        var row = 0
        while row < csv.rowCount {
            let customer = csv.customerNumbers[row]
            if !seen.insert(customer).inserted { interleaved += 1 }
            if csv.monthKeys[row] > windowOpen { startsAfterWindowOpens += 1 }
            var end = row + 1
            while end < csv.rowCount && csv.customerNumbers[end] == customer {
                if csv.monthKeys[end] != csv.monthKeys[end - 1] + 1 { gaps += 1 }
                if labels[end - 1] != 0 { afterChurn += 1 }
                if csv.plans[end] != csv.plans[row] || csv.segments[end] != csv.segments[row] { attributeChanges += 1 }
                end += 1
            }
            row = end
        }
        #expect(interleaved == 0, "customers whose rows are not contiguous")
        #expect(gaps == 0, "non-consecutive snapshot months")
        #expect(afterChurn == 0, "snapshots after a churn")
        #expect(attributeChanges == 0)
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

    @Test("truth JSON round-trips a full 64-bit seed")
    func seedRoundTrip() throws {
        let truth = Simulator.trueModel(config: SimulationConfig(customers: 3, months: 2, seed: .max, extraMetrics: 4))
        let decoded = try JSONDecoder().decode(TrueModel.self, from: JSONEncoder().encode(truth))
        #expect(decoded.seed == .max)
        #expect(decoded.weights == truth.weights)
        #expect(decoded.intercept == truth.intercept)
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
        #expect(throws: Diagnostic.self) {
            try Simulator.write(config: SimulationConfig(customers: 10, months: 0, seed: 1), csvPath: csv, truthPath: truth)
        }
        #expect(throws: Diagnostic.self) {
            try Simulator.write(config: SimulationConfig(customers: 10, months: .max, seed: 1), csvPath: csv, truthPath: truth)
        }
        var badMonth = SimulationConfig(customers: 10, months: 2, seed: 1)
        badMonth.startMonth = 13
        #expect(throws: Diagnostic.self) {
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
        struct Enough: Error {}
        var generated: [Double] = []
        do {
            try HistoryGenerator(config: Fixture.config).forEachRow { row in
                generated.append(row.csatMissing ? .nan : row.eta)
                if generated.count == 5_000 { throw Enough() }
            }
        } catch is Enough {}
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
