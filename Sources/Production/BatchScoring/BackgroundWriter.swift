import Dispatch
import Foundation

/// Hands byte buffers to a writer thread in order, so writing one piece of output overlaps parsing
/// and scoring the next. At most `depth` buffers wait, which bounds memory; the first write error
/// is rethrown by the next `write` or by `finish`.
public final class BackgroundWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "healthscore.writer")
    private let slots: DispatchSemaphore
    private let sink: ([UInt8]) throws -> Void
    private let lock = NSLock()
    private var failure: Error?

    public init(depth: Int = 3, sink: @escaping ([UInt8]) throws -> Void) {
        self.sink = sink
        slots = DispatchSemaphore(value: depth)
    }

    public func write(_ bytes: [UInt8]) throws {
        try check()
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard lock.withLock({ failure == nil }) else { return }
            do { try sink(bytes) } catch { lock.withLock { failure = error } }
        }
    }

    /// Waits for every buffer to be written.
    public func finish() throws {
        queue.sync {}
        try check()
    }

    private func check() throws {
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
