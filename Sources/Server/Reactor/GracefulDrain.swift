// GracefulDrain: what a worker does differently once told to stop gracefully
// (SIGQUIT: a graceful shutdown, a rolling restart, one worker fewer). It stops
// accepting, answers the requests in flight with `Connection: close`, ends idle
// keep-alive connections, and exits when none is left or the deadline passes.

/// The drain's clock and the test of when it is over.
struct GracefulDrain {
    /// Monotonic ms after which the remaining connections are closed regardless.
    let deadline: Int

    init(now: Int, timeoutMilliseconds: Int) {
        deadline = now + timeoutMilliseconds
    }

    func isOver(openConnections: Int, now: Int) -> Bool {
        openConnections == 0 || now >= deadline
    }
}
