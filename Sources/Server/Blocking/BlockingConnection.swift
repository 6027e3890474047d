// BlockingConnection: one connection served start to finish by the calling
// process or thread, the way the blocking models do it. It drives the same
// ConnectionService as the reactor (same parser, limits, handler and writer);
// the difference is only in how it waits. The socket is non-blocking, and
// before every read or write a poll waits for it, the stop notice, or the
// pending timeout (header, keep-alive, body, write, linger), with the same
// deadline rules as the event loop: so no client, silent or slow, holds the
// process or thread longer than the timeout that applies, and a stop signal is
// seen at once.
//
// A graceful stop (QUIT) is the event loop's drain for one connection: the
// request in hand is completed and answered with `Connection: close`, an idle
// keep-alive connection is closed cleanly, and --graceful-timeout bounds it all.
import Glibc
import Logging
import ServerSystem

struct BlockingConnection {
    let parts: ServingParts
    let timeouts: TimeoutDurations
    let stop: StopNotice
    let logger: Logger

    /// Serves `socket` until the client leaves, a timeout ends it, or a stop says so; then closes it.
    func serve(_ socket: consuming Socket) {
        let connection = Connection(socket: socket, token: 0)
        defer { connection.socket.close() }
        do {
            try run(connection)
        } catch {
            logger.debug("\(error)")
        }
    }

    private func run(_ connection: Connection) throws(SystemError) {
        var deadline = Deadline()
        var draining = false
        // The service stopped with work in hand (its share of a turn, or requests held
        // back at the output bound, already read): serve again without waiting for the
        // socket, which may have nothing more to say. The poll still looks, for a stop.
        var yielded = false
        while true {
            if !draining, stop.isFinishing {
                // Once per process or thread would do; the flag only ever goes up.
                parts.service.beginDrain()
                draining = true
            }
            let now = Clock.monotonicMilliseconds()
            let timeout = connection.pendingTimeout
            var expiry = deadline.update(for: connection, timeout, now: now, durations: timeouts)
            // Draining, a connection between requests only gets a look for bytes already
            // there (a request queued in the socket is still answered); otherwise it is closed.
            let idle = draining && connection.input == nil && connection.output == nil && !connection.lingering
            if let end = stop.deadline { expiry = idle ? now : min(expiry, end) }
            let events = connection.output == nil ? POLLIN : POLLOUT
            let wait = yielded ? 0 : expiry - now
            switch try Waiting.wait(for: connection.socket.fd, Int16(events), orStop: stop, timeoutMilliseconds: wait) {
            case .stop:
                if stop.state == .aborting { return }
            case .timedOut where !yielded:
                if let end = stop.deadline, Clock.monotonicMilliseconds() >= end { return }
                if idle {
                    if parts.service.closeIdle(connection) == .closed { return }
                    continue
                }
                // The client stopped reading: what the kernel still holds for it is dropped at once.
                if timeout == .write { connection.socket.resetOnClose() }
                guard timeout == .header || timeout == .body,
                      parts.service.timedOut(connection, answering: .requestTimeout) != .closed else { return }
            case .ready, .timedOut:
                parts.dateCache.refresh(now: Clock.wallClockSeconds())
                let service = parts.service
                let status = connection.output == nil ? service.readable(connection) : service.writable(connection)
                if status == .closed { return }
                yielded = status == .yielded
            }
        }
    }
}

/// The current timeout's expiry, restarted by the event loop's rules: a header
/// deadline once per request (a trickling client cannot extend it), linger once,
/// keep-alive, body and write on progress only.
private struct Deadline {
    private var timeout: Timeout?
    private var request = -1
    private var expiry = 0

    mutating func update(for connection: Connection, _ current: Timeout, now: Int, durations: TimeoutDurations) -> Int {
        let restart: Bool
        switch current {
        case .header: restart = request != connection.requestsServed || timeout != .header
        case .linger: restart = timeout != .linger
        case .keepAlive, .body, .write: restart = connection.madeProgress || timeout != current
        }
        if restart { expiry = now + durations.milliseconds(current) }
        timeout = current
        request = connection.requestsServed
        connection.madeProgress = false
        return expiry
    }
}
