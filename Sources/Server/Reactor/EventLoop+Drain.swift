// EventLoop+Drain: the graceful drain that SIGQUIT starts. The worker stops
// accepting (or, when the whole server stops, keeps sweeping the listener's
// queue until it settles), ends each connection once it is idle, and stops
// when none is left or the graceful timeout has passed (see GracefulDrain).
import Glibc
import ServerSystem

extension EventLoop where T: ~Copyable {
    /// Stops accepting for good: the scoreboard marks this worker retiring (so the accept
    /// balance of the others ignores it), and its descriptor of the listener is closed. The
    /// master and the other workers keep their own, so the socket and its queue live on.
    /// Only when the whole server is stopping does nobody else take what is queued: then
    /// the listener stops answering SYNs and this worker keeps accepting from it to the end
    /// of its drain and until the queue has settled (see ListenerShutdown), or, for a socket
    /// that outlives the server, sweeps the queue once.
    func beginDrain() {
        guard drain == nil else { return }
        drain = GracefulDrain(now: now, timeoutMilliseconds: drainMilliseconds)
        record[.retiring] = 1
        driver.beginDrain()
        if serverIsStopping && stopHandshakes() {
            drain!.keepListener(now: now)
        } else {
            closeListener(sweepingFirst: serverIsStopping)
        }
        logger.debug("worker \(getpid()) draining \(connections.count) connections")
    }

    /// Takes the listener out of the epoll set and closes this worker's descriptor, first
    /// serving what waits in the queue if nobody else will (each closed after its response).
    private func closeListener(sweepingFirst sweep: Bool) {
        gate.stop(epoll: epoll, logger: logger)
        if sweep { acceptRemaining() }
        gate.listeners.close()
        drain?.listenerClosed()
    }

    /// False, with the reason logged, if the filter cannot be attached: then the queue is swept once and the listener closed.
    private func stopHandshakes() -> Bool {
        do {
            for member in gate.listeners.members where try !ListenerShutdown.stopHandshakes(member) { return false }
            return true
        } catch {
            logger.error("\(error)")
            return false
        }
    }

    /// Whether this drain is part of the server's own graceful stop (the master raised
    /// `draining` before its QUIT), or the reactor model's, which has no master: then
    /// nobody will accept what is queued, and a sweep saves it. A worker retired by HUP,
    /// TTOU, an operator's QUIT to it alone, or the old master of a USR2 leaves the queue
    /// to the workers (or new master) that stay: sweeping it would take connections out
    /// of their accept balance only to close each after one response.
    private var serverIsStopping: Bool {
        guard let scoreboard else { return true }
        return scoreboard.server(.draining) != 0
    }

    /// Connections that already waited in the queue are served (and closed after their response).
    private func acceptRemaining() {
        for (index, (member, address)) in zip(gate.listeners.members, gate.listeners.addresses).enumerated() {
            while connections.count < maxConnections {
                guard let socket = try? member.accept(notingPeerIn: accessLog?.peers) else { break }
                record.add(.accepted)
                serveAccepted(socket, from: index, proxied: address.proxyProtocol)
            }
        }
    }

    /// Once per loop turn while draining: a connection that has become idle (its last
    /// keep-alive response was sent) is ended (one awaiting its first request is served), and a listener kept for the queue is closed
    /// once nothing else is left and the queue has settled (after a last sweep, which may
    /// find more to serve); when neither is left, or at the deadline, the loop stops.
    func continueDrain() {
        for connection in connections.all where connection.phase.isKeptAliveIdle {
            apply(driver.closeIdle(connection), to: connection)
        }
        if drain!.closesListener(openConnections: connections.count, now: now) { closeListener(sweepingFirst: true) }
        if drain!.isOver(openConnections: connections.count, now: now) { running = false }
    }
}
