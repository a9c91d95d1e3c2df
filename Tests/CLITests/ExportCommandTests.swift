import Foundation
import Testing
import TestSupport

/// The scale can be chosen at export time: the band cut points move with it, so every customer
/// keeps their band.
@Suite struct ExportCommandTests {
    @Test func rescaledExportKeepsEveryCustomersBand() throws {
        let dir = Fixtures.temporaryDirectory()
        let data = Fixtures.dataset("mlc_churn.csv")
        let model = dir.appendingPathComponent("m.json").path, points = dir.appendingPathComponent("points.json").path
        #expect(try CLI.run(["fit", data, "--target", "churn", "--out", model]).status == 0)
        let export = try CLI.run(["export", model, "--format", "json", "--scale", "points", "--pdo", "40", "--out", points])
        #expect(export.status == 0, "\(export.stderr)")
        let a = try CLI.run(["score", model, data, "--reasons", "0"]), b = try CLI.run(["score", points, data, "--reasons", "0"])
        #expect(a.status == 0 && b.status == 0, "\(b.stderr)")
        let rowsA = a.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let rowsB = b.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rowsA.count == 5000 && rowsB.count == 5000)
        let factor = 40 / log(2.0), offset = 600 - factor * log(50.0)
        for (x, y) in zip(rowsA, rowsB) {
            #expect(x[1] == y[1] && x[3] == y[3])  // same probability, same band
            let p = Double(x[1])!
            #expect(abs(Double(y[2])! - (offset - factor * log(p / (1 - p)))) < 0.006)  // printed to 2 decimals
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: points))) as? [String: Any]
        #expect((json?["checksum"] as? String)?.hasPrefix("sha256:") == true)
    }
}
