import Foundation
import ScoringCore
import Support

public enum Simulator {
    public static let labelColumn = "churned_next_month"

    /// Writes the CSV and the truth JSON atomically (temp file in the same directory + rename); returns rows written.
    @discardableResult
    public static func write(config: SimulationConfig, csvPath: String, truthPath: String) throws -> Int {
        try validate(config)
        let truth = trueModel(config: config)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var json = try encoder.encode(truth)
        json.append(UInt8(ascii: "\n"))

        // Both files are complete on disk before either is renamed into place, so a failure while
        // generating leaves both destinations untouched.
        let (csvTemp, rows) = try writeTemporary(besides: csvPath) { handle in
            try writeCSV(config: config, to: handle)
        }
        do {
            let (truthTemp, _) = try writeTemporary(besides: truthPath) { handle in
                try handle.write(contentsOf: json)
            }
            do {
                try moveIntoPlace(csvTemp, path: csvPath)
            } catch {
                try? FileManager.default.removeItem(at: truthTemp)
                throw error
            }
            try moveIntoPlace(truthTemp, path: truthPath)
        } catch {
            try? FileManager.default.removeItem(at: csvTemp)
            throw error
        }
        return rows
    }

    public static func trueModel(config: SimulationConfig) -> TrueModel {
        let coefficients = Coefficients(extraMetrics: max(0, config.extraMetrics))
        return TrueModel(
            label: labelColumn,
            horizonMonths: 1,
            intercept: coefficients.intercept,
            weights: coefficients.terms,
            seed: config.seed,
            customers: config.customers,
            months: config.months,
            extraMetrics: config.extraMetrics
        )
    }

    /// CSV header for a config, in file order.
    public static func columns(config: SimulationConfig) -> [String] {
        ["customer_id", "snapshot_date", "plan", "segment"]
            + Coefficients.numericColumns
            + Coefficients.usageColumnNames(max(0, config.extraMetrics))
            + [labelColumn]
    }

    static func validate(_ config: SimulationConfig) throws {
        guard config.customers >= 0 else { throw Diagnostic(.simulation, problem: "invalid simulation config: customers must be ≥ 0") }
        guard config.months >= 1 else { throw Diagnostic(.simulation, problem: "invalid simulation config: months must be ≥ 1") }
        guard config.extraMetrics >= 0 else { throw Diagnostic(.simulation, problem: "invalid simulation config: extraMetrics must be ≥ 0") }
        guard (1...12).contains(config.startMonth) else {
            throw Diagnostic(.simulation, problem: "invalid simulation config: startMonth must be in 1...12")
        }
        guard (1...9999).contains(config.startYear),
              config.months <= (9999 - config.startYear) * 12 + (13 - config.startMonth)
        else { throw Diagnostic(.simulation, problem: "invalid simulation config: snapshot dates must stay within the years 1...9999") }
    }

    static func snapshotDates(config: SimulationConfig) -> [[UInt8]] {
        (0..<config.months).map { offset in
            let monthsSinceYearZero = config.startYear * 12 + (config.startMonth - 1) + offset
            let year = monthsSinceYearZero / 12
            let month = monthsSinceYearZero % 12 + 1
            let yearText = String(year)
            let monthText = month < 10 ? "0\(month)" : String(month)
            return Array((String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + monthText + "-01").utf8)
        }
    }

    static func writeCSV(config: SimulationConfig, to handle: FileHandle) throws -> Int {
        let generator = HistoryGenerator(config: config)
        let sink = ByteSink(handle: handle)
        let header = columns(config: config).joined(separator: ",") + "\n"
        let headerBytes = Array(header.utf8)
        try sink.reserve(headerBytes.count)
        sink.bytes(headerBytes)

        let dates = snapshotDates(config: config)
        let plans = Plan.allCases.map { Array($0.name.utf8) }
        let segments = Segment.allCases.map { Array($0.name.utf8) }
        let idWidth = max(6, String(config.customers).count)
        let usageCount = generator.coefficients.usage.count
        // Generous per-row bound: ids, dates and names are short; every number fits in 21 bytes.
        let rowBound = 96 + idWidth + 24 * (Coefficients.numericColumns.count + usageCount + 1)

        var rows = 0
        try generator.forEachRow { row in
            try sink.reserve(rowBound)
            sink.byte(UInt8(ascii: "C"))
            sink.unsigned(UInt(row.customer), width: idWidth)
            sink.comma()
            sink.bytes(dates[row.monthIndex])
            sink.comma()
            sink.bytes(plans[row.plan.rawValue])
            sink.comma()
            sink.bytes(segments[row.segment.rawValue])
            sink.comma()
            sink.integer(row.logins)
            sink.comma()
            sink.integer(row.activeDays)
            sink.comma()
            sink.fixed(row.featureAdoptionMilli, decimals: 3)
            sink.comma()
            sink.integer(row.supportTickets)
            sink.comma()
            sink.integer(row.highSeverityTickets)
            sink.comma()
            if !row.csatMissing {
                sink.fixed(row.csatDeci, decimals: 1)
            }
            sink.comma()
            sink.integer(row.nps)
            sink.comma()
            sink.integer(row.referrals)
            sink.comma()
            sink.fixed(row.roiCenti, decimals: 2)
            sink.comma()
            sink.integer(row.daysLate)
            sink.comma()
            sink.fixed(row.sentimentMilli, decimals: 3)
            sink.comma()
            for k in 0..<usageCount {
                sink.fixed(row.usage[k], decimals: 4)
                sink.comma()
            }
            sink.byte(row.churned ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            sink.newline()
            rows += 1
        }
        try sink.flush()
        return rows
    }

    /// Fills a hidden temp file in the destination's directory, so the final rename stays on one
    /// file system and is atomic: readers see the old file or the complete new one, never a part.
    static func writeTemporary<T>(besides path: String, _ body: (FileHandle) throws -> T) throws -> (URL, T) {
        let destination = URL(fileURLWithPath: path)
        let directory = destination.deletingLastPathComponent()
        let tempURL = directory.appendingPathComponent(
            ".\(destination.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: tempURL.path, contents: nil) else {
            throw Diagnostic.cannotWrite(path, errno: errno)
        }
        do {
            let handle = try FileHandle(forWritingTo: tempURL)
            let result: T
            do {
                result = try body(handle)
                try handle.synchronize()  // the data reaches the disk before the rename publishes it
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            return (tempURL, result)
        } catch {
            try? FileManager.default.removeItem(at: tempURL)
            throw error
        }
    }

    static func moveIntoPlace(_ tempURL: URL, path: String) throws {
        guard rename(tempURL.path, path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: tempURL)
            throw Diagnostic.cannotWrite(path, errno: code)
        }
        AtomicFile.syncDirectory((path as NSString).deletingLastPathComponent)
    }
}
