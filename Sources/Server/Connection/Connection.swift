// Connection: one client connection's state between events. An idle
// keep-alive connection holds no buffers at all: bytes live in the worker's
// shared buffers and are copied here only when a request is split across
// reads or a response could not be sent in full (as nginx hands its buffers
// back when a connection goes idle). Generic over its transport, so the
// socket's case and TLS's are each specialised (see Transport).
import ServerSystem
import HTTP1

package final class Connection<T: Transport & ~Copyable> {
    /// How its bytes move: the socket itself, or a session over it (TLS).
    let transport: T
    /// The epoll token: this connection's fd and table generation.
    let token: UInt64
    /// The start of a request that has not fully arrived, if any.
    var input: ByteBuffer?
    /// Responses the socket did not take yet, if any.
    var output: ByteBuffer?
    /// How far the parser got with the request at the front of `input`.
    /// Passed `inout` to the parser for every request: unchecked, as the timer state below.
    @exclusivity(unchecked) var progress = ParseProgress()
    /// Parsing stopped at the queued-output bound with bytes left in `input`: they are
    /// answered once the output is sent, before the socket is read again.
    var requestsDeferred = false
    /// The last read came back short (the socket held nothing more) and no event has come
    /// since: a deferred answer written now need not read again, which would meet EAGAIN.
    var socketDrained = false
    /// `100 Continue` was sent for the request at the front of `input`.
    var sentContinue = false
    /// Close once `output` is flushed: the last response said `Connection: close`.
    var closeAfterFlush = false
    /// After the final response, shut the write side and drain what the client
    /// still sends before closing, so it reads the response instead of a reset.
    var lingerAfterFlush = false
    /// What the connection is doing: the loop derives its interest and timeout from it (see ConnectionPhase).
    @exclusivity(unchecked) var phase = ConnectionPhase.idle(firstRequest: true)
    /// The write side is shut; input is read only to be discarded.
    var lingering: Bool { phase == .lingering }
    /// The peer has sent FIN (EPOLLRDHUP seen): its end of file is still to be read.
    var peerHungUp = false
    /// The connection is gone (EPOLLHUP or EPOLLERR seen, e.g. a reset): nothing more will arrive.
    var connectionGone = false
    /// The event loop will serve it again at the end of this turn (it yielded): events for it are skipped until then.
    var queuedForNextTurn = false
    /// Requests answered so far: before the first, a silent connection is waiting
    /// for a header block, not idling between requests.
    var requestsServed = 0
    /// Bytes were read or written since the event loop last looked: body, write and
    /// keep-alive timeouts restart only on progress, never on an event that moved nothing.
    var madeProgress = false
    /// `requestsServed` when the body rate clock of the request awaiting its body started
    /// (-1: not started), and when (monotonic ms). See MinimumBodyRate.
    var bodyClockRequest = -1
    var bodyClockStart = 0
    /// `requestsServed` when the timer rules last looked (see TimerRules): a header or
    /// handling deadline is set once per request.
    @exclusivity(unchecked) var timeoutRequest = -1
    /// The interest the epoll registration currently asks for.
    @exclusivity(unchecked) var interest = Interest.read
    /// A file or stream body being sent after its head; it keeps `output` non-nil until it is done.
    var pendingBody: PendingBody?
    /// PROXY protocol (ProxyHeaderReader): the header is still owed, and the part of it read so
    /// far; whether the peer (the client the header names, once read) is a trusted proxy, whose
    /// forwarded headers count; whether ClientAddresses holds the client the header named.
    var awaitingProxyHeader = false
    var proxyHeaderBytes: ByteBuffer?
    var peerTrusted = false
    var clientNoted = false
    /// The handler deferred its answer (DeferredWork): the connection waits for it in the
    /// handling phase, parsing nothing further, until the event loop brings the answer back.
    var awaitingHandler: HandlerTicket?
    /// It came from a `redirect-https` listener: every request is answered by this, not the handler.
    var httpsRedirect: HTTPSRedirect?
    /// The body its handler reads as it arrives (a streamed body, ConnectionDriver+Streaming).
    var reception: BodyReception?

    // Timer state, owned by ConnectionTimers: which timeout is armed, when it
    // expires, and the neighbours on that timeout's deadline list. Re-armed after
    // every response, so dynamic exclusivity checks and reference counting would
    // cost more than the work; only the single-threaded event loop touches them,
    // never overlapping, and the links own nothing.
    @exclusivity(unchecked) var timeout: Timeout?
    @exclusivity(unchecked) var deadline = 0
    @exclusivity(unchecked) var timerPrevious: Unmanaged<Connection>?
    @exclusivity(unchecked) var timerNext: Unmanaged<Connection>?

    package init(transport: consuming T, token: UInt64) {
        self.transport = transport
        self.token = token
    }

    /// The timeout that fits what the connection is waiting for now.
    var pendingTimeout: Timeout { phase.timeout }
}

extension Connection where T == Socket {
    /// A connection over a plain socket.
    package convenience init(socket: consuming Socket, token: UInt64) {
        self.init(transport: socket, token: token)
    }
}
