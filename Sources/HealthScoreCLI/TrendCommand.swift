import ArgumentParser

struct Trend: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Customers whose health worsened between scoring runs (not written yet).")
    func run() throws { throw ValidationError("trend is not written yet") }
}
