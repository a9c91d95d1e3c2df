import Foundation

/// A small JSON writer for the hot path (score responses). Doubles are written in Swift's shortest
/// round-trip form, so a client that parses them with a correctly rounding parser gets the very
/// same bits the scoring core computed.
struct JSONWriter {
    private(set) var text = ""

    init(capacity: Int = 256) { text.reserveCapacity(capacity) }

    mutating func raw(_ s: String) { text += s }

    mutating func string(_ s: String) {
        text += "\""
        // Fast path: nothing to escape.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            text += s
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                case _ where scalar.value < 0x20:
                    text += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                default: text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }

    mutating func number(_ x: Double) {
        // JSON has no NaN or infinity; the core never produces them for a scored row, but a writer
        // must not emit invalid JSON whatever it is given.
        text += x.isFinite ? x.description : "null"
    }

    mutating func optionalString(_ s: String?) {
        if let s { string(s) } else { text += "null" }
    }

    /// `{"error": "..."}` with the message on one line.
    static func error(_ message: String) -> String {
        var w = JSONWriter(capacity: message.utf8.count + 16)
        w.raw("{\"error\":")
        w.string(message.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " "))
        w.raw("}\n")
        return w.text
    }
}
