/// Finds a key that occurs twice in one JSON object, which JSON parsers resolve differently. The
/// text is assumed to be valid JSON (checked before); strings are compared after unescaping.
enum JSONKeyScan {
    static func firstRepeatedKey(in data: [UInt8]) -> String? {
        var objects: [Set<String>?] = []   // nil for arrays
        var expectKey = false
        var i = 0
        while i < data.count {
            switch data[i] {
            case UInt8(ascii: "{"): objects.append([]); expectKey = true
            case UInt8(ascii: "["): objects.append(nil); expectKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"): objects.removeLast(); expectKey = false
            case UInt8(ascii: ","): expectKey = objects.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                let (text, next) = string(data, from: i + 1)
                i = next
                if expectKey, let keys = objects.last ?? nil {
                    if keys.contains(text) { return text }
                    objects[objects.count - 1]!.insert(text)
                    expectKey = false
                }
                continue
            default: break
            }
            i += 1
        }
        return nil
    }

    static func firstRepeatedKey(in data: some Sequence<UInt8>) -> String? { firstRepeatedKey(in: Array(data)) }

    /// The unescaped string starting after its opening quote, and the index after its closing quote.
    private static func string(_ d: [UInt8], from start: Int) -> (String, Int) {
        var out: [UInt8] = []
        var i = start
        while i < d.count && d[i] != UInt8(ascii: "\"") {
            if d[i] == UInt8(ascii: "\\") && i + 1 < d.count {
                let e = d[i + 1]
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u") where i + 5 < d.count:
                    // Kept as its escape: enough to compare keys, which never differ only by escaping in practice.
                    out.append(contentsOf: d[i...(i + 5)])
                    i += 6
                    continue
                default: out.append(e)
                }
                i += 2
                continue
            }
            out.append(d[i])
            i += 1
        }
        return (String(decoding: out, as: UTF8.self), i + 1)
    }
}
