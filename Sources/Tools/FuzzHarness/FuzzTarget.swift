import Foundation

/// An input that broke a property the parser promises (beyond "does not crash"): the fuzzer turns it
/// into a crash so libFuzzer saves the input, and the test suite reports it as a failure.
public struct PropertyViolation: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "property violated: \(message)" }
}

/// The parsers fed untrusted bytes: a customer's CSV export, a model file, the two YAML files an analyst
/// edits by hand, and the body of a scoring request. Each `run` must return or throw
/// `PropertyViolation`; a trap inside it is a bug in the parser.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case csv, model, config, scorecard, request

    public func run(_ input: [UInt8]) throws {
        switch self {
        case .csv: try CSVFuzz.run(input)
        case .model: try ModelFuzz.run(input)
        case .config: try ConfigFuzz.run(input)
        case .scorecard: try ScorecardFuzz.run(input)
        case .request: try RequestFuzz.run(input)
        }
    }
}

/// Throws a violation unless `condition` holds.
func expect(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) throws {
    if !condition() { throw PropertyViolation(message()) }
}

/// Either the value or the error's text: two parses agree when these are equal.
enum Outcome<T> {
    case value(T)
    case failure(String)

    init(_ body: () throws -> T) {
        do { self = .value(try body()) } catch { self = .failure("\(error)") }
    }

    var value: T? { if case .value(let v) = self { return v } else { return nil } }
    var failure: String? { if case .failure(let f) = self { return f } else { return nil } }
}
