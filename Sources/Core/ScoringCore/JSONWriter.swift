import Foundation

/// A small JSON writer for hot paths (the service's score responses, the history's reasons). Doubles are written in Swift's shortest
/// round-trip form, so a client that parses them with a correctly rounding parser gets the very
/// same bits the scoring core computed.
public struct JSONWriter {
    /// UTF-8, appended byte-wise (a String grown by `+=` checks and re-encodes each piece).
    public private(set) var bytes: [UInt8] = []
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    /// Bytes that are JSON already.
    public mutating func raw<C: Collection>(_ json: C) where C.Element == UInt8 { bytes.append(contentsOf: json) }

    public mutating func string(_ s: String) {
        bytes.append(0x22)
        // Fast path: nothing to escape.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            bytes.append(contentsOf: s.utf8)
        } else {
            for b in s.utf8 {
                switch b {
                case 0x22: raw("\\\"")
                case 0x5C: raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case _ where b < 0x20: raw("\\u00" + (b < 0x10 ? "0" : "") + String(b, radix: 16))
                default: bytes.append(b)  // every byte of a multi-byte character is 0x80 or more: copied as it is
                }
            }
        }
        bytes.append(0x22)
    }

    public mutating func number(_ x: Double) {
        // JSON has no NaN or infinity; the core never produces them for a scored row, but a writer
        // must not emit invalid JSON whatever it is given.
        if x.isFinite { bytes.append(contentsOf: x.description.utf8) } else { raw("null") }
    }

    public mutating func optionalString(_ s: String?) {
        if let s { string(s) } else { raw("null") }
    }

    /// `{"error": "..."}` with the message on one line.
    public static func error(_ message: String) -> String {
        var w = JSONWriter(capacity: message.utf8.count + 16)
        w.raw("{\"error\":")
        w.string(message.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " "))
        w.raw("}\n")
        return w.text
    }
}
