import ArgumentParser

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The HTTP scoring service (not written yet).")
    func run() throws { throw ValidationError("serve is not written yet") }
}
