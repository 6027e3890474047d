// ConnectionPhase: what a connection is doing between events, stored on the
// connection. Everything the event loop and the blocking models decide about a
// connection follows from it in this one file: the readiness to wait for
// (interest), the timeout that guards it, and when that timeout's deadline
// starts afresh (TimerRules). The driver moves the phase as it serves.
import HTTP1
import ServerSystem

/// What a connection is doing, and so what it waits for.
enum ConnectionPhase: Equatable {
    /// Nothing buffered, nothing to send: waiting for a request. The first one is
    /// under the header timeout from the accept (a silent client is a slowloris too);
    /// later ones under the keep-alive timeout.
    case idle(firstRequest: Bool)
    /// Part of a request head has arrived.
    case readingHead
    /// The head has arrived and the body is still coming.
    case readingBody
    /// A request is with a handler that answers later (a deferred handler): the
    /// connection is neither read (pipelined requests wait their turn) nor written.
    case handling
    /// A file body waits for a helper thread to read its next bytes into the page cache
    /// (ConnectionDriver+Disk): neither read nor written meanwhile, under the write timeout.
    case readingDisk
    /// A handler already runs and reads the request's body as it arrives (a streamed body,
    /// ConnectionDriver+Streaming). Paused, the socket is not read: the handler is behind.
    case receivingBody(paused: Bool)
    /// A streamed response (ChunkPump) has sent all its producer made so far and waits
    /// for the producer's next chunk: neither read nor written until it is nudged.
    case awaitingProducer
    /// Responses are waiting for the client to read them.
    case writing
    /// Closing: the write side is shut and what the client still sends is drained.
    case lingering

    /// The readiness the connection waits for in this phase.
    var interest: Interest {
        switch self {
        case .idle, .readingHead, .readingBody, .lingering, .receivingBody(paused: false): return .read
        case .writing: return .write
        case .handling, .readingDisk, .awaitingProducer: return .none
        case .receivingBody(paused: true): return .paused
        }
    }

    /// The timeout that guards this phase.
    var timeout: Timeout {
        switch self {
        case .idle(let firstRequest): return firstRequest ? .header : .keepAlive
        case .readingHead: return .header
        case .readingBody: return .body
        case .handling, .receivingBody(paused: true): return .handling
        case .receivingBody(paused: false): return .body
        // The producer is as slow as a client that does not read: neither may hold the connection forever.
        case .writing, .readingDisk, .awaitingProducer: return .write
        case .lingering: return .linger
        }
    }
}

/// The readiness a connection waits for.
enum Interest: Equatable {
    case read
    /// Not read while responses wait: a client that does not read its responses is not read from either.
    case write
    /// Neither: the connection waits for something else (a deferred handler's answer).
    case none
    /// Neither, and not even a half-close: a streamed body's handler is behind, and the
    /// bytes it has not read yet stay in the socket (its TCP window closes: backpressure).
    case paused
}

extension Connection where T: ~Copyable {
    /// Once the driver has flushed: the phase its buffers show. Lingering and handling
    /// are left only by the driver itself (lingering never; handling by `endHandling`;
    /// reading the disk by `endDiskRead`).
    func settlePhase() {
        switch phase {
        case .lingering, .handling, .readingDisk, .receivingBody: return
        default: phase = bufferedPhase
        }
    }

    /// A deferred handler has answered: from now on the phase follows the buffers again.
    func endHandling() {
        switch phase {
        case .handling, .receivingBody: phase = bufferedPhase
        default: break
        }
    }

    /// The read-ahead of a file body is done: the phase follows the buffers again (writing).
    func endDiskRead() {
        if phase == .readingDisk { phase = bufferedPhase }
    }

    /// Output left → writing (or waiting for a streamed response's producer); nothing
    /// buffered → idle; otherwise reading the head or the body of the request at the front of `input`.
    private var bufferedPhase: ConnectionPhase {
        if output != nil { return pendingBody?.waitingForProducer == true ? .awaitingProducer : .writing }
        if input == nil { return .idle(firstRequest: requestsServed == 0) }
        return progress.awaitingBody ? .readingBody : .readingHead
    }
}

/// When a timeout's deadline starts afresh, for the event loop (ConnectionTimers) and
/// the blocking models (BlockingConnection) alike, so a client meets the same limits
/// whichever model serves it.
enum TimerRules {
    /// Whether the deadline of `timeout` (the one the connection's phase calls for) starts
    /// now, rather than keeping the one already running. A change of timeout always
    /// starts one. Otherwise:
    /// - header, handling: once per request. A header deadline runs from the request's
    ///   first byte (or the accept), so a slowloris cannot extend it by trickling bytes;
    ///   a handling deadline from when the handler took the request.
    /// - keep-alive, body, write: on progress only. They measure a pause, not a total:
    ///   an idle period starts after each response, and an event that moved no byte
    ///   (a spurious wakeup, a hangup notice) does not restart it.
    /// - linger: once. A client that keeps sending cannot keep a closing connection.
    /// Records what it decided on: the request it was for, and that progress is accounted.
    @inline(__always)  // After every response.
    static func restarts<T: Transport & ~Copyable>(_ timeout: Timeout, on connection: Connection<T>) -> Bool {
        let request = connection.requestsServed
        let progress = connection.madeProgress
        defer {
            connection.timeoutRequest = request
            connection.madeProgress = false
        }
        guard connection.timeout == timeout else { return true }
        switch timeout {
        case .header, .handling: return connection.timeoutRequest != request
        case .keepAlive, .body, .write: return progress
        case .linger: return false
        }
    }

    /// The blocking models' deadline: one connection, no list. Applies the rules to the
    /// timeout of the connection's phase and returns the expiry (monotonic milliseconds).
    static func deadline<T: Transport & ~Copyable>(of connection: Connection<T>, now: Int, durations: TimeoutDurations) -> Int {
        let timeout = connection.phase.timeout
        if restarts(timeout, on: connection) {
            connection.timeout = timeout
            connection.deadline = now + durations.milliseconds(timeout)
        }
        return connection.deadline
    }
}

extension Timeout {
    /// The answer a connection gets when this timeout expires, if it gets one before
    /// closing: 408 when the client was too slow to send a request (RFC 9110 §15.5.9),
    /// 503 when a handler took too long to answer (RFC 9110 §15.6.4). An idle, unread or
    /// lingering connection just closes.
    var answer: HTTPStatus? {
        switch self {
        case .header, .body: return .requestTimeout
        case .handling: return .serviceUnavailable
        case .keepAlive, .write, .linger: return nil
        }
    }

    /// Whether the connection is reset rather than closed when this timeout expires: a
    /// client that stopped reading would otherwise have the kernel keep retrying the
    /// responses it holds behind a FIN (nginx's `reset_timedout_connection`).
    var resetsOnExpiry: Bool { self == .write }
}

extension TriggerMode {
    /// Events to register a new connection with, given its interest.
    func registration(for interest: Interest) -> UInt32 {
        events(for: interest) ?? connectionEvents
    }

    /// Events for a connection whose interest changed, or nil when the registration already
    /// covers it (edge mode registers for both reading and writing once and never changes it).
    func events(for interest: Interest) -> UInt32? {
        switch interest {
        case .read: return eventsAfterOutputDrained
        case .write: return eventsWhileOutputPending
        // Level-triggered, no EPOLLIN: unread input would be reported on every wait while
        // nothing reads it; EPOLLRDHUP stays, so a client that goes away ends the wait at once
        // (EPOLLHUP and EPOLLERR are reported regardless, epoll_ctl(2)).
        case .none: return eventsWhileHandling
        case .paused: return eventsWhilePaused
        }
    }
}

extension ConnectionPhase {
    /// Between requests: a graceful stop may end the connection now (nothing is in hand).
    var isIdle: Bool {
        if case .idle = self { return true }
        return false
    }

    /// Idle after a response (a kept-alive connection): the reactor's graceful drain ends
    /// it. A connection still waiting for its first request is not ended: its client has
    /// just connected to send one (over TLS the handshake may be under way or just done),
    /// and closing it would fail that request without the client having reused anything
    /// (RFC 9112 §9.3.1 lets clients retry only on a reused connection). The header
    /// timeout and the graceful timeout bound how long it holds the drain.
    var isKeptAliveIdle: Bool { self == .idle(firstRequest: false) }
}
