import Foundation

/// A minimal protocol-buffers wire-format writer: just what an ONNX model file needs (varints,
/// 64-bit and 32-bit little-endian scalars, length-delimited strings, bytes and sub-messages, packed
/// repeated scalars). Field numbers are those of onnx.proto (proto2), checked against the copy the
/// `onnx` Python package ships (`onnx/onnx-ml.proto`).
struct ONNXProtoWriter {
    private(set) var buffer: [UInt8] = []

    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    mutating func tag(_ field: Int, _ wire: WireType) {
        varint(UInt64(field) << 3 | wire.rawValue)
    }

    /// Base-128, least significant group first, high bit set on all but the last byte.
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }

    /// int64 / int32 / enum fields: two's complement as a 64-bit varint (negative values take 10 bytes).
    mutating func int64(_ field: Int, _ value: Int64) {
        tag(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    mutating func string(_ field: Int, _ value: String) {
        lengthDelimited(field, Array(value.utf8))
    }

    mutating func lengthDelimited(_ field: Int, _ value: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        buffer.append(contentsOf: value)
    }

    mutating func message(_ field: Int, _ body: (inout ONNXProtoWriter) -> Void) {
        var inner = ONNXProtoWriter()
        body(&inner)
        lengthDelimited(field, inner.buffer)
    }

    /// `optional float` (wire type 5).
    mutating func float(_ field: Int, _ value: Float) {
        tag(field, .fixed32)
        appendLittleEndian(value.bitPattern)
    }

    /// `repeated float x = n;` without [packed]: one tagged fixed32 per element.
    mutating func unpackedFloats(_ field: Int, _ values: [Float]) {
        for v in values { float(field, v) }
    }

    /// `repeated int64 x = n;` without [packed]: one tagged varint per element.
    mutating func unpackedInt64s(_ field: Int, _ values: [Int64]) {
        for v in values { int64(field, v) }
    }

    /// `repeated float x = n [packed = true];`
    mutating func packedFloats(_ field: Int, _ values: [Float]) {
        guard !values.isEmpty else { return }
        tag(field, .lengthDelimited)
        varint(UInt64(values.count * 4))
        for v in values { appendLittleEndian(v.bitPattern) }
    }

    /// `repeated double x = n [packed = true];`
    mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        tag(field, .lengthDelimited)
        varint(UInt64(values.count * 8))
        for v in values { appendLittleEndian(v.bitPattern) }
    }

    /// `repeated int64 x = n [packed = true];`
    mutating func packedInt64s(_ field: Int, _ values: [Int64]) {
        guard !values.isEmpty else { return }
        var inner = ONNXProtoWriter()
        for v in values { inner.varint(UInt64(bitPattern: v)) }
        lengthDelimited(field, inner.buffer)
    }

    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }
}

// MARK: - The ONNX messages the export writes (a subset of onnx.proto; field numbers from there).

/// TensorProto.DataType
enum ONNXElementType: Int64 {
    case float = 1, int32 = 6, int64 = 7, string = 8, bool = 9, double = 11
}

/// TensorProto: dims=1, data_type=2, float_data=4 (packed), string_data=6, int64_data=7 (packed),
/// name=8, double_data=10 (packed).
struct ONNXTensor {
    enum Values {
        case floats([Float])
        case doubles([Double])
        case int64s([Int64])
        case strings([String])
    }
    var name: String
    var dims: [Int64]
    var values: Values

    var elementType: ONNXElementType {
        switch values {
        case .floats: return .float
        case .doubles: return .double
        case .int64s: return .int64
        case .strings: return .string
        }
    }

    func encode(into w: inout ONNXProtoWriter) {
        w.unpackedInt64s(1, dims)
        w.int64(2, elementType.rawValue)
        switch values {
        case .floats(let v): w.packedFloats(4, v)
        case .strings(let v): for s in v { w.string(6, s) }
        case .int64s(let v): w.packedInt64s(7, v)
        case .doubles(let v): w.packedDoubles(10, v)
        }
        if !name.isEmpty { w.string(8, name) }
    }
}

/// AttributeProto: name=1, f=2, i=3, s=4, t=5, floats=7, ints=8, strings=9, type=20.
struct ONNXAttribute {
    enum Value {
        case float(Float)
        case int(Int64)
        case string(String)
        case tensor(ONNXTensor)
        case floats([Float])
        case ints([Int64])
        case strings([String])
    }
    var name: String
    var value: Value

    /// AttributeProto.AttributeType
    var typeCode: Int64 {
        switch value {
        case .float: return 1
        case .int: return 2
        case .string: return 3
        case .tensor: return 4
        case .floats: return 6
        case .ints: return 7
        case .strings: return 8
        }
    }

    func encode(into w: inout ONNXProtoWriter) {
        w.string(1, name)
        switch value {
        case .float(let f): w.float(2, f)
        case .int(let i): w.int64(3, i)
        case .string(let s): w.string(4, s)
        case .tensor(let t): w.message(5) { t.encode(into: &$0) }
        case .floats(let v): w.unpackedFloats(7, v)
        case .ints(let v): w.unpackedInt64s(8, v)
        case .strings(let v): for s in v { w.string(9, s) }
        }
        w.int64(20, typeCode)
    }
}

/// NodeProto: input=1, output=2, name=3, op_type=4, attribute=5, doc_string=6, domain=7.
struct ONNXNode {
    var opType: String
    var domain: String = ""
    var inputs: [String]
    var outputs: [String]
    var name: String
    var attributes: [ONNXAttribute] = []
    var doc: String? = nil

    func encode(into w: inout ONNXProtoWriter) {
        for i in inputs { w.string(1, i) }
        for o in outputs { w.string(2, o) }
        w.string(3, name)
        w.string(4, opType)
        for a in attributes { w.message(5) { a.encode(into: &$0) } }
        if let doc { w.string(6, doc) }
        if !domain.isEmpty { w.string(7, domain) }
    }
}

/// ValueInfoProto{name=1, type=2, doc_string=3} → TypeProto{tensor_type=1} →
/// TypeProto.Tensor{elem_type=1, shape=2} → TensorShapeProto{dim=1} → Dimension{dim_value=1, dim_param=2}.
struct ONNXValueInfo {
    enum Dimension {
        case value(Int64)
        case parameter(String)
    }
    var name: String
    var elementType: ONNXElementType
    var shape: [Dimension]
    var doc: String? = nil

    func encode(into w: inout ONNXProtoWriter) {
        w.string(1, name)
        w.message(2) { type in
            type.message(1) { tensor in
                tensor.int64(1, elementType.rawValue)
                tensor.message(2) { shapeProto in
                    for d in shape {
                        shapeProto.message(1) { dim in
                            switch d {
                            case .value(let v): dim.int64(1, v)
                            case .parameter(let p): dim.string(2, p)
                            }
                        }
                    }
                }
            }
        }
        if let doc { w.string(3, doc) }
    }
}

/// GraphProto: node=1, name=2, initializer=5, doc_string=10, input=11, output=12.
struct ONNXGraph {
    var name: String
    var nodes: [ONNXNode]
    var initializers: [ONNXTensor]
    var inputs: [ONNXValueInfo]
    var outputs: [ONNXValueInfo]
    var doc: String

    func encode(into w: inout ONNXProtoWriter) {
        for n in nodes { w.message(1) { n.encode(into: &$0) } }
        w.string(2, name)
        for t in initializers { w.message(5) { t.encode(into: &$0) } }
        w.string(10, doc)
        for i in inputs { w.message(11) { i.encode(into: &$0) } }
        for o in outputs { w.message(12) { o.encode(into: &$0) } }
    }
}

/// ModelProto: ir_version=1, producer_name=2, producer_version=3, doc_string=6,
/// graph=7, opset_import=8 (OperatorSetIdProto{domain=1, version=2}), metadata_props=14
/// (StringStringEntryProto{key=1, value=2}).
struct ONNXModel {
    var irVersion: Int64
    var opsets: [(domain: String, version: Int64)]
    var producerName: String
    var producerVersion: String
    var doc: String
    var graph: ONNXGraph
    var metadata: [(key: String, value: String)]

    func serialized() -> [UInt8] {
        var w = ONNXProtoWriter()
        w.int64(1, irVersion)
        w.string(2, producerName)
        w.string(3, producerVersion)
        w.string(6, doc)
        w.message(7) { graph.encode(into: &$0) }
        for o in opsets {
            w.message(8) { op in
                op.string(1, o.domain)
                op.int64(2, o.version)
            }
        }
        for m in metadata {
            w.message(14) { entry in
                entry.string(1, m.key)
                entry.string(2, m.value)
            }
        }
        return w.buffer
    }
}
