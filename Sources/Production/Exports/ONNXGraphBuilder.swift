import Foundation

/// The arithmetic type of the graph's numeric path. The export ships `.double`; `.float` is the
/// all-float32 graph (float inputs, a LinearClassifier over the feature vector with float32
/// coefficients), kept so the tests can measure what float32 arithmetic would cost.
enum ONNXPrecision: String, Sendable {
    case double
    case float

    var elementType: ONNXElementType { self == .double ? .double : .float }
}

/// Collects nodes and initializers and hands out value names that cannot clash with each other.
struct ONNXGraphBuilder {
    static let internalPrefix = "hs__"

    let precision: ONNXPrecision
    private(set) var nodes: [ONNXNode] = []
    private(set) var initializers: [ONNXTensor] = []
    private var counter = 0

    init(precision: ONNXPrecision) { self.precision = precision }

    /// A new internal value name; `hint` only helps a person reading the graph.
    mutating func fresh(_ hint: String) -> String {
        counter += 1
        let cleaned = String(hint.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }.prefix(40))
        return "\(Self.internalPrefix)\(counter)_\(cleaned)"
    }

    /// Adds a node with one output (named `output`, or a fresh name) and returns that name.
    @discardableResult
    mutating func op(_ type: String, _ inputs: [String], domain: String = "", attributes: [ONNXAttribute] = [],
                     hint: String, output: String? = nil, doc: String? = nil) -> String {
        let out = output ?? fresh(hint)
        add(type, inputs, outputs: [out], domain: domain, attributes: attributes, doc: doc)
        return out
    }

    mutating func add(_ type: String, _ inputs: [String], outputs: [String], domain: String = "",
                      attributes: [ONNXAttribute] = [], doc: String? = nil) {
        nodes.append(ONNXNode(opType: type, domain: domain, inputs: inputs, outputs: outputs,
                              name: "node\(nodes.count)_\(type)", attributes: attributes, doc: doc))
    }

    /// An initializer in the graph's numeric type (double, or float rounded from the doubles).
    mutating func numbers(_ values: [Double], dims: [Int64], hint: String) -> String {
        let name = fresh(hint)
        let v: ONNXTensor.Values = precision == .double ? .doubles(values) : .floats(values.map { Float($0) })
        initializers.append(ONNXTensor(name: name, dims: dims, values: v))
        return name
    }

    /// A scalar (shape []) in the graph's numeric type.
    mutating func scalar(_ value: Double, hint: String) -> String {
        numbers([value], dims: [], hint: hint)
    }

    mutating func int64s(_ values: [Int64], dims: [Int64], hint: String) -> String {
        let name = fresh(hint)
        initializers.append(ONNXTensor(name: name, dims: dims, values: .int64s(values)))
        return name
    }

    // MARK: - Attribute shorthands

    static func attr(_ name: String, _ v: Int64) -> ONNXAttribute { ONNXAttribute(name: name, value: .int(v)) }
    static func attr(_ name: String, _ v: Float) -> ONNXAttribute { ONNXAttribute(name: name, value: .float(v)) }
    static func attr(_ name: String, _ v: String) -> ONNXAttribute { ONNXAttribute(name: name, value: .string(v)) }
    static func attr(_ name: String, floats v: [Float]) -> ONNXAttribute { ONNXAttribute(name: name, value: .floats(v)) }
    static func attr(_ name: String, ints v: [Int64]) -> ONNXAttribute { ONNXAttribute(name: name, value: .ints(v)) }
    static func attr(_ name: String, strings v: [String]) -> ONNXAttribute { ONNXAttribute(name: name, value: .strings(v)) }
}
