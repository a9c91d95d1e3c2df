import Foundation
import ScoringCore

/// Reads a scoring file with the model's schema and returns the columns the scorer needs.
public enum ScoringInput {
    public static func read(path: String, model: ModelArtifact) throws -> (table: RawTable, columns: [String: ScoringColumn]) {
        var csv = CSVOptions()
        csv.naValues = Set(model.schema.naValues)
        csv.numberFormat = model.schema.numberFormat ?? .plain
        csv.allowsEmptyColumns = true
        csv.textColumns = Set(model.schema.features.filter { $0.kind == .categorical }.map(\.column)
                              + [model.schema.id, model.schema.time].compactMap { $0 })
        let table = try CSVReader.read(path: path, options: csv)
        return (table, columns(table, names: Scorer(model: model).requiredColumns, numberFormat: csv.numberFormat))
    }

    /// The named columns of a table as the scoring core takes them (absent names are left out, so
    /// the scorer reports them). A column read as text because of one bad cell keeps its other cells
    /// readable (in the model's number format too), so the scorer names the bad cell, not the first.
    public static func columns(_ table: RawTable, names: [String], numberFormat: NumberFormat = .plain) -> [String: ScoringColumn] {
        var columns: [String: ScoringColumn] = [:]
        for name in names {
            guard let c = table.column(named: name) else { continue }
            switch c.values {
            case .numeric(let v): columns[name] = .numbers(v)
            case .text:
                columns[name] = .strings((0..<table.rowCount).map { i in
                    let text = c.text(at: i)
                    guard numberFormat != .plain, var cell = text else { return text }
                    return cell.withUTF8 { numberFormat.value(of: $0) }.map { String($0) } ?? text
                })
            }
        }
        return columns
    }
}
