/// Finds a key that occurs twice in one JSON object, which JSON parsers resolve differently. The
/// text is assumed to be valid JSON (checked before).
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

    /// The string's raw text (escapes as written: two spellings of one key are not a case anyone
    /// writes), from after its opening quote, and the index after its closing quote.
    private static func string(_ d: [UInt8], from start: Int) -> (String, Int) {
        var i = start
        while i < d.count && d[i] != UInt8(ascii: "\"") { i += d[i] == UInt8(ascii: "\\") ? 2 : 1 }
        return (String(decoding: d[start..<min(i, d.count)], as: UTF8.self), i + 1)
    }
}
