import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client takes longer than `seconds` to send a whole request, counted
/// from the connection's start or from the end of the previous response. A slow or stalled client
/// (headers or body trickled a byte at a time, or an idle keep-alive connection) therefore holds its
/// socket for at most that long; while the server itself is working on a request no clock runs.
///
/// Requests read and responses written are counted: the client owes us bytes whenever no more
/// requests have been read than responses written (an early 413 answers before the body is in).
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var requestsRead = 0
    private var responsesWritten = 0
    private var timer: Scheduled<Void>?

    init(seconds: Double) {
        timeout = .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { restartClock(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { stopClock() }

    func channelActive(context: ChannelHandlerContext) {
        restartClock(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopClock()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            requestsRead += 1
            if requestsRead > responsesWritten { stopClock() } else { restartClock(context) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            responsesWritten += 1
            if requestsRead <= responsesWritten { restartClock(context) }
        }
        context.write(data, promise: promise)
    }

    private func restartClock(_ context: ChannelHandlerContext) {
        stopClock()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    private func stopClock() {
        timer?.cancel()
        timer = nil
    }
}
