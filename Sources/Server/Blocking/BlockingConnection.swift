// BlockingConnection: one connection served start to finish by the calling
// process or thread, the way the blocking models do it. It drives the same
// ConnectionService as the reactor (same parser, limits, handler and writer);
// the difference is only in how it waits. The socket is blocking, with
// SO_SNDTIMEO from the write timeout and SO_RCVTIMEO from the header timeout,
// so no read or write can hold the thread longer than that; before each read a
// poll waits for bytes, the stop descriptor, or the pending timeout (header,
// keep-alive, body, linger), with the same deadline rules as the event loop.
import Glibc
import Logging

struct BlockingConnection {
    let parts: ServingParts
    let timeouts: TimeoutDurations
    let stop: Int32
    let logger: Logger

    /// Serves `socket` until the client leaves, a timeout ends it, or stop fires; then closes it.
    func serve(_ socket: Socket) {
        defer { socket.close() }
        do {
            try setTimeouts(on: socket)
            try run(Connection(socket: socket, token: 0))
        } catch {
            logger.debug("\(error)")
        }
    }

    private func run(_ connection: Connection) throws(SystemError) {
        var deadline = Deadline()
        while true {
            let now = Clock.monotonicMilliseconds()
            let timeout = connection.pendingTimeout
            let expiry = deadline.update(for: connection, timeout, now: now, durations: timeouts)
            let events = connection.output == nil ? POLLIN : POLLOUT
            switch try Waiting.wait(for: connection.socket.fd, Int16(events), orStop: stop, timeoutMilliseconds: expiry - now) {
            case .stop:
                return
            case .timedOut:
                guard timeout == .header || timeout == .body,
                      parts.service.timedOut(connection, answering: .requestTimeout) != .closed else { return }
            case .ready:
                parts.dateCache.refresh(now: Clock.wallClockSeconds())
                let service = parts.service
                let status = connection.output == nil ? service.readable(connection) : service.writable(connection)
                if status == .closed { return }
            }
        }
    }

    /// SO_RCVTIMEO and SO_SNDTIMEO (socket(7)): a blocking read or write that makes no
    /// progress for this long fails with EAGAIN, which the service treats as "try later".
    private func setTimeouts(on socket: Socket) throws(SystemError) {
        for (option, milliseconds) in [(SO_RCVTIMEO, timeouts.header), (SO_SNDTIMEO, timeouts.write)] {
            var value = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
            _ = try blockingSystemCall("setsockopt(fd \(socket.fd), \(option == SO_RCVTIMEO ? "SO_RCVTIMEO" : "SO_SNDTIMEO"))", {
                setsockopt(socket.fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
            })
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
