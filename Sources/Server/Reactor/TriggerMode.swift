// TriggerMode: everything that differs between level- and edge-triggered epoll,
// gathered in one value the event loop is handed, so the loop itself has no
// mode checks scattered through it.
import CEventPoll

/// How a worker's epoll set reports readiness.
public enum TriggerMode: Sendable, CustomStringConvertible {
    /// Readiness is reported while it lasts; `EPOLLOUT` is asked for only while output is pending.
    case level
    /// Readiness is reported once per change: sockets are registered once for
    /// reading and writing, and every read, write and accept drains to EAGAIN.
    case edge

    /// Events a new connection is registered with.
    var connectionEvents: UInt32 {
        switch self {
        case .level: return CEP_EPOLLIN | CEP_EPOLLRDHUP
        case .edge: return CEP_EPOLLIN | CEP_EPOLLOUT | CEP_EPOLLRDHUP | CEP_EPOLLET
        }
    }

    /// Events for a connection whose output is blocked, or nil when the
    /// registration already covers it (edge mode never calls epoll_ctl after ADD).
    var eventsWhileOutputPending: UInt32? {
        switch self {
        // Without EPOLLIN: a client that does not read its responses is not read from either.
        // Without EPOLLRDHUP too: once such a client half-closes, level-triggered epoll would
        // report it on every wait while nothing can be done (EPOLLHUP and EPOLLERR still come).
        case .level: return CEP_EPOLLOUT
        case .edge: return nil
        }
    }

    /// Events for a connection whose output has drained, or nil when no change is needed.
    /// While a deferred handler works: level mode would report unread input on every
    /// wait, so only a hang-up is watched; edge mode reports each arrival once.
    var eventsWhileHandling: UInt32? {
        switch self {
        case .level: return CEP_EPOLLRDHUP
        case .edge: return nil
        }
    }

    /// Events while a streamed request body waits for its handler to catch up: level mode
    /// asks for nothing (a half-close, reported on every wait, would spin the loop until
    /// the handler has read on: EPOLLHUP and EPOLLERR still come); edge mode changes nothing.
    var eventsWhilePaused: UInt32? {
        switch self {
        case .level: return 0
        case .edge: return nil
        }
    }

    var eventsAfterOutputDrained: UInt32? {
        switch self {
        case .level: return connectionEvents
        case .edge: return nil
        }
    }

    /// Events a listener is registered with. `exclusive` sets EPOLLEXCLUSIVE for a
    /// listener shared by all workers, so one new connection wakes one worker.
    func listenerEvents(exclusive: Bool) -> UInt32 {
        let base: UInt32 = exclusive ? CEP_EPOLLIN | CEP_EPOLLEXCLUSIVE : CEP_EPOLLIN
        switch self {
        case .level: return base
        case .edge: return base | CEP_EPOLLET
        }
    }

    /// How many connections a listener may give one loop turn. Level mode takes one, as
    /// nginx does with `multi_accept off`: a still-ready listener is reported again on the
    /// next turn, which saves the accept that would only return EAGAIN (measured: about 15%
    /// more new connections per second) and leaves the rest of the queue to other workers.
    /// Edge mode drains a plain listener (no new event comes for connections already
    /// queued) but takes one from a TLS listener and comes back to it the next turn
    /// (EventLoop's `listenersAcceptingAgain`): a TLS connection's first read is its handshake's
    /// key exchange, and draining a queue of them made the requests already read wait behind
    /// every one (a new TLS connection per request, 64 connections: p99 23 ms against level
    /// mode's 12).
    func acceptsPerTurn(tls: Bool) -> Int {
        switch self {
        case .level: return 1
        case .edge: return tls ? 1 : Int.max
        }
    }

    /// Whether a listener left with connections queued must be served again by the loop
    /// itself: edge mode reports a listener only when a connection arrives.
    var revisitsListeners: Bool { self == .edge }

    public var description: String {
        switch self {
        case .level: return "level-triggered"
        case .edge: return "edge-triggered"
        }
    }
}
