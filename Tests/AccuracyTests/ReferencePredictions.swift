import Foundation
import TestSupport

/// Tests/Reference/mlc_insample_predictions.csv: y and the in-sample probabilities of R's full glm
/// (p_full) and of the glm without `state` (p_nostate).
struct ReferencePredictions {
    struct ReadError: Error, CustomStringConvertible { var description: String }

    var y: [Double]
    var pFull: [Double]
    var pNoState: [Double]

    /// The mlc file, read once per process: plain comma-separated numbers, optionally quoted or written
    /// as `np.float64(…)`.
    static func mlc() throws -> ReferencePredictions { try cached.get() }

    private static let cached = Result { try load("mlc_insample_predictions.csv") }

    static func load(_ name: String) throws -> ReferencePredictions {
        let text = try String(contentsOfFile: Fixtures.reference(name), encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline)
        func cells(_ line: Substring) -> [String] {
            line.split(separator: ",", omittingEmptySubsequences: false).map { raw in
                var cell = raw.trimmingCharacters(in: CharacterSet(charactersIn: "\" \r"))
                if cell.hasPrefix("np.float64("), cell.hasSuffix(")") {
                    cell = String(cell.dropFirst("np.float64(".count).dropLast())
                }
                return cell
            }
        }
        let header = cells(lines[0])
        guard let iy = header.firstIndex(of: "y"), let ifull = header.firstIndex(of: "p_full"),
              let inostate = header.firstIndex(of: "p_nostate") else {
            throw ReadError(description: "\(name): missing y/p_full/p_nostate in \(header)")
        }
        var out = ReferencePredictions(y: [], pFull: [], pNoState: [])
        for line in lines.dropFirst() {
            let c = cells(line)
            guard let y = Double(c[iy]), let full = Double(c[ifull]), let nostate = Double(c[inostate]) else {
                throw ReadError(description: "\(name): unreadable row \(line)")
            }
            out.y.append(y)
            out.pFull.append(full)
            out.pNoState.append(nostate)
        }
        return out
    }
}
