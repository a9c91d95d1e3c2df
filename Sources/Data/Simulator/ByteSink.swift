import Foundation

/// Fixed-size output buffer that formats integers and fixed-decimal numbers straight into bytes
/// and hands full chunks to a FileHandle. `String(format:)` and string interpolation allocate per
/// value and would dominate the cost of writing millions of rows.
final class ByteSink {
    private let capacity: Int
    private let storage: UnsafeMutablePointer<UInt8>
    private var count = 0
    private let handle: FileHandle
    private(set) var bytesWritten = 0

    private static let powersOfTen: [Int] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]

    init(handle: FileHandle, capacity: Int = 1 << 22) {
        self.handle = handle
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        storage.deallocate()
    }

    /// Call before writing a record of at most `bytes` bytes; per-byte writes then skip checks.
    @inline(__always)
    func reserve(_ bytes: Int) throws {
        precondition(bytes <= capacity, "record larger than the output buffer")
        if count &+ bytes > capacity {
            try flush()
        }
    }

    func flush() throws {
        guard count > 0 else { return }
        let chunk = Data(bytesNoCopy: storage, count: count, deallocator: .none)
        try handle.write(contentsOf: chunk)
        bytesWritten += count
        count = 0
    }

    @inline(__always)
    func byte(_ value: UInt8) {
        storage[count] = value
        count &+= 1
    }

    func bytes(_ values: [UInt8]) {
        values.withUnsafeBufferPointer { source in
            (storage + count).update(from: source.baseAddress!, count: source.count)
        }
        count &+= values.count
    }

    @inline(__always)
    func comma() {
        byte(UInt8(ascii: ","))
    }

    @inline(__always)
    func newline() {
        byte(UInt8(ascii: "\n"))
    }

    /// Decimal digits of `value`, left-padded with zeros to at least `width` digits.
    @inline(__always)
    func unsigned(_ value: UInt, width: Int = 1) {
        var digits = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            digits &+= 1
        }
        let total = Swift.max(digits, width)
        var position = count &+ total
        var remaining = value
        for _ in 0..<total {
            position &-= 1
            storage[position] = UInt8(truncatingIfNeeded: remaining % 10) &+ 48
            remaining /= 10
        }
        count &+= total
    }

    @inline(__always)
    func integer(_ value: Int) {
        if value < 0 {
            byte(UInt8(ascii: "-"))
        }
        unsigned(value.magnitude)
    }

    /// Writes `scaled / 10^decimals` with exactly `decimals` fraction digits, e.g. (-5, 3) → "-0.005".
    @inline(__always)
    func fixed(_ scaled: Int, decimals: Int) {
        if decimals == 0 {
            integer(scaled)
            return
        }
        if scaled < 0 {
            byte(UInt8(ascii: "-"))
        }
        let magnitude = scaled.magnitude
        let unit = UInt(ByteSink.powersOfTen[decimals])
        unsigned(magnitude / unit)
        byte(UInt8(ascii: "."))
        unsigned(magnitude % unit, width: decimals)
    }
}
