import Foundation
import Support

/// A producer thread and the caller's thread joined by a queue of at most `depth` items: the
/// producer makes item n + 1 while the consumer works on item n, in order. An error on either side
/// stops both and is rethrown here (the producer's first).
enum PiecePipeline {
    struct Stopped: Error {}

    static func run<Item>(depth: Int = 2, produce: @escaping (_ emit: (Item) throws -> Void) throws -> Void,
                          consume: (Item) throws -> Void) throws {
        let channel = Channel<Item>(depth: depth)
        let produce = UncheckedShared(produce)  // called on the producer thread only
        let producer = Thread {
            do {
                try produce.value { item in
                    guard channel.put(item) else { throw Stopped() }
                }
                channel.finish(nil)
            } catch {
                channel.finish(error is Stopped ? nil : error)
            }
        }
        producer.stackSize = 8 << 20
        producer.start()
        defer { channel.waitForProducer() }
        do {
            while let item = try channel.take() { try consume(item) }
        } catch {
            channel.cancel()
            throw error
        }
    }

    /// A bounded queue with a finish signal and a cancel signal.
    final class Channel<Item>: @unchecked Sendable {
        private let condition = NSCondition()
        private var items: [Item] = []
        private let depth: Int
        private var finished = false
        private var cancelled = false
        private var failure: Error?
        private var producerDone = false

        init(depth: Int) { self.depth = depth }

        /// false when the consumer has stopped.
        func put(_ item: Item) -> Bool {
            condition.lock(); defer { condition.unlock() }
            while items.count >= depth && !cancelled { condition.wait() }
            if cancelled { return false }
            items.append(item)
            condition.broadcast()
            return true
        }

        func finish(_ error: Error?) {
            condition.lock(); defer { condition.unlock() }
            finished = true
            producerDone = true
            failure = error
            condition.broadcast()
        }

        /// The next item; nil once the producer has finished and the queue is empty.
        func take() throws -> Item? {
            condition.lock(); defer { condition.unlock() }
            while items.isEmpty && !finished { condition.wait() }
            if let failure { throw failure }
            if items.isEmpty { return nil }
            let item = items.removeFirst()
            condition.broadcast()
            return item
        }

        func cancel() {
            condition.lock(); defer { condition.unlock() }
            cancelled = true
            items.removeAll()
            condition.broadcast()
        }

        func waitForProducer() {
            condition.lock(); defer { condition.unlock() }
            while !producerDone { condition.wait() }
        }
    }
}
