// GracefulDrain: what a worker does differently once told to stop gracefully
// (SIGQUIT: a graceful shutdown, a rolling restart, one worker fewer). It stops
// accepting, answers the requests in flight with `Connection: close`, ends idle
// keep-alive connections, and exits when none is left or the deadline passes.
// When the whole server stops, its listener, which then answers no new SYN, is
// kept and accepted from until the worker has nothing else left and no
// connection has arrived for a quiet period (see ListenerShutdown).

/// The drain's clock and the test of when it is over.
struct GracefulDrain {
    /// Monotonic ms after which the remaining connections are closed regardless.
    let deadline: Int
    /// While the listener is kept: the earliest time it may be closed (the quiet period after the last arrival).
    private(set) var listenerSettlesAt: Int?

    init(now: Int, timeoutMilliseconds: Int) {
        deadline = now + timeoutMilliseconds
    }

    /// The listener is kept until the queue has settled.
    mutating func keepListener(now: Int) {
        listenerSettlesAt = now + ListenerShutdown.quietMilliseconds
    }

    /// The listener was ready: connections are still arriving, so the queue has not settled.
    mutating func connectionsArrived(now: Int) {
        if listenerSettlesAt != nil { keepListener(now: now) }
    }

    mutating func listenerClosed() {
        listenerSettlesAt = nil
    }

    /// Whether a kept listener is to be closed now: nothing else holds the drain open, and the queue has settled.
    func closesListener(openConnections: Int, now: Int) -> Bool {
        guard let listenerSettlesAt else { return false }
        return openConnections == 0 && now >= listenerSettlesAt
    }

    /// When the loop must wake for the drain though nothing else happens (the settling
    /// time only matters once no connection is left, so it cannot make the loop spin).
    func nextDeadline(openConnections: Int) -> Int {
        openConnections == 0 ? min(deadline, listenerSettlesAt ?? .max) : deadline
    }

    func isOver(openConnections: Int, now: Int) -> Bool {
        (openConnections == 0 && listenerSettlesAt == nil) || now >= deadline
    }
}
