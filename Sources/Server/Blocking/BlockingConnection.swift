// BlockingConnection: one connection served start to finish by the calling
// process or thread, the way the blocking models do it. It drives the same
// ConnectionService as the reactor (same parser, limits, handler and writer);
// the difference is only in how it waits. The socket is non-blocking, and
// before every read or write a poll waits for it, the stop notice, or the
// timeout of the connection's phase, with the event loop's deadline rules
// (TimerRules, the same code): so no client, silent or slow, holds the
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

    /// Serves `transport` until the client leaves, a timeout ends it, or a stop says so; then closes it.
    func serve<T: Transport & ~Copyable>(_ transport: consuming T) {
        let connection = Connection(transport: transport, token: 0)
        defer { connection.transport.close() }
        do {
            try run(connection)
        } catch {
            logger.debug("\(error)")
        }
    }

    private func run<T: Transport & ~Copyable>(_ connection: Connection<T>) throws(SystemError) {
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
            let timeout = connection.phase.timeout
            var expiry = TimerRules.deadline(of: connection, now: now, durations: timeouts)
            // Draining, a connection between requests only gets a look for bytes already
            // there (a request queued in the socket is still answered); otherwise it is closed.
            let idle = draining && connection.phase.isIdle
            if let end = stop.deadline { expiry = idle ? now : min(expiry, end) }
            let events = Self.pollEvents(for: connection.wantedInterest)
            let wait = yielded ? 0 : expiry - now
            switch try Waiting.wait(for: connection.transport.fd, Int16(events), orStop: stop, timeoutMilliseconds: wait) {
            case .stop:
                if stop.state == .aborting { return }
            case .timedOut where !yielded:
                if let end = stop.deadline, Clock.monotonicMilliseconds() >= end { return }
                if idle {
                    if parts.service.closeIdle(connection) == .closed { return }
                    continue
                }
                // The client stopped reading: what the kernel still holds for it is dropped at once.
                if timeout.resetsOnExpiry { connection.transport.resetOnClose() }
                guard let answer = timeout.answer, parts.service.timedOut(connection, answering: answer) != .closed else { return }
            case .ready, .timedOut:
                parts.dateCache.refresh(now: Clock.wallClockSeconds())
                let service = parts.service
                let status = connection.output == nil ? service.readable(connection) : service.writable(connection)
                if status == .closed { return }
                yielded = status == .yielded
            }
        }
    }

    /// poll(2) events for an interest. With none the wait is for the stop notice and the
    /// deadline only (POLLHUP and POLLERR are reported regardless).
    private static func pollEvents(for interest: Interest) -> Int32 {
        switch interest {
        case .read: return Int32(POLLIN)
        case .write: return Int32(POLLOUT)
        case .none, .paused: return 0
        }
    }
}
