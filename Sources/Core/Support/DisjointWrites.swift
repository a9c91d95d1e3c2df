import Foundation

/// Memory that the parts of one concurrent loop write at disjoint indices, and that the caller reads
/// only after every part has joined (`DispatchQueue.concurrentPerform` returns then). The compiler
/// cannot see that no two parts touch the same element, so this is the one place the package
/// vouches for it; code that shares anything else between threads uses a lock.
public struct DisjointWrites<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>
    public let count: Int

    public init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        // An empty buffer may have no base address; nothing is ever written through it.
        base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
        count = buffer.count
    }

    public subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    public var buffer: UnsafeMutableBufferPointer<Element> { UnsafeMutableBufferPointer(start: base, count: count) }
}

/// A value handed to other threads whose type does not say it is safe to share: the read-only
/// inputs of a concurrent loop (a closure over them, a class of tables), or a closure handed to the
/// one thread that runs it. The compiler cannot check this; the caller keeps the value alive and
/// does not change it (or call it) while the other threads may.
public struct UncheckedShared<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// A value shared between threads behind a lock. A pthread mutex underneath (Foundation's
/// `NSLock`), which ThreadSanitizer understands; the standard library's `Mutex` waits on a futex
/// that it does not model, so every use of one would be reported as a race.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
