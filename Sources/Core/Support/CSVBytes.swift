import Foundation

/// CSV output built as bytes: no String per field, so writing a million scored rows costs about as
/// much as the arithmetic that made them. Fields are quoted (RFC 4180) only when they hold a comma,
/// a quote or a line break.
public struct CSVBytes {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func comma() { bytes.append(0x2C) }
    @inline(__always) public mutating func newline() { bytes.append(0x0A) }

    /// A text field, quoted when needed.
    public mutating func field(_ text: String) {
        var text = text
        text.withUTF8 { field($0) }
    }

    public mutating func field(_ utf8: UnsafeBufferPointer<UInt8>) {
        var needsQuotes = false
        for b in utf8 where b == 0x2C || b == 0x22 || b == 0x0A || b == 0x0D { needsQuotes = true; break }
        guard needsQuotes else { bytes.append(contentsOf: utf8); return }
        bytes.append(0x22)
        for b in utf8 {
            if b == 0x22 { bytes.append(0x22) }
            bytes.append(b)
        }
        bytes.append(0x22)
    }

    /// One field as text, quoted by the same rule: for CSV built as a String (small tables).
    public static func quoted(_ text: String) -> String {
        var csv = CSVBytes(capacity: text.utf8.count + 2)
        csv.field(text)
        return String(decoding: csv.bytes, as: UTF8.self)
    }

    /// Text known to need no quotes (numbers, fixed labels).
    public mutating func raw(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// The shortest text that reads back as the same double (Swift's `description`).
    public mutating func shortest(_ x: Double) { raw(x.description) }

    public mutating func integer(_ n: Int) {
        if n < 0 { bytes.append(0x2D) }
        var m = n.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[count] = UInt8(m % 10) + 0x30
                m /= 10
                count += 1
            } while m > 0
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }

    /// `String(format: "%.Nf", x)` for N ≤ 6, exactly: the product x·10ᴺ is split into its rounded
    /// value and the exact rounding error (one fma), which decides a tie the rounded product shows.
    /// Large or non-finite values go through `String(format:)` itself.
    public mutating func fixed(_ x: Double, digits: Int) {
        let scale = Self.powers[digits]
        let product = x * scale
        guard x.isFinite, abs(product) < 0x1p50 else { raw(String(format: "%.\(digits)f", x)); return }
        let error = fma(x, scale, -product)
        var n = product.rounded(.toNearestOrEven)
        let gap = product - n
        if gap == 0.5 && error > 0 { n += 1 }
        if gap == -0.5 && error < 0 { n -= 1 }
        if x.sign == .minus { bytes.append(0x2D) }
        let m = Int(abs(n))
        let unit = Int(scale)
        integer(m / unit)
        guard digits > 0 else { return }
        bytes.append(0x2E)
        var fraction = m % unit
        var divisor = unit / 10
        for _ in 0..<digits {
            bytes.append(UInt8(fraction / divisor) + 0x30)
            fraction %= divisor
            divisor = max(divisor / 10, 1)
        }
    }

    static let powers: [Double] = [1, 10, 100, 1000, 10000, 100000, 1000000]
}
