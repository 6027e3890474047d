// AcceptLoop: the heart of serial, prefork and thread-pool alike: wait for a
// connection, accept it, serve it to the end, repeat, until a stop. Several
// loops may share a listener (prefork's processes, the pool's threads): all of
// them wake for a connection and one wins the accept; the others find the queue
// empty (the listener is non-blocking) and wait again. That thundering herd is
// part of what these models cost.
//
// On a graceful stop the loop accepts nothing new; if `sweepsQueue` says nobody
// else will serve the listener's queue (the whole server is stopping), it serves
// what already waits there, each connection closed after its answer, until the
// queue has settled (the listener answers no new SYN by then, and no connection
// has arrived for a quiet period: see ListenerShutdown) or --graceful-timeout
// has passed.
import Glibc
import Logging
import ServerSystem

struct AcceptLoop {
    let listener: Listener
    let connection: BlockingConnection
    /// Asked once, when a graceful stop ends the loop: should the queued connections be served first?
    var sweepsQueue: () -> Bool = { true }
    /// Where a prefork worker counts its connections for /metrics.
    var record: WorkerRecord = .detached

    private var stop: StopNotice { connection.stop }

    func run() throws(SystemError) {
        while stop.state == .serving {
            let outcome = try Waiting.wait(for: listener.fd, Int16(POLLIN), orStop: stop, timeoutMilliseconds: nil)
            guard outcome == .ready, let socket = try BlockingAccept.next(from: listener, orStop: stop, logger: connection.logger) else {
                continue
            }
            serve(socket)
        }
        if stop.isFinishing { record[.retiring] = 1 }
        guard stop.isFinishing, sweepsQueue() else { return }
        try sweepQueue()
    }

    /// Serves what waits in the queue. A listener that stopped answering SYNs is swept
    /// until nothing has arrived for the quiet period; one that outlives the server (or
    /// whose filter cannot be attached) until its queue is first found empty.
    private func sweepQueue() throws(SystemError) {
        let settles = stopHandshakes()
        var quietUntil = Clock.monotonicMilliseconds() + (settles ? ListenerShutdown.quietMilliseconds : 0)
        while let end = stop.deadline, Clock.monotonicMilliseconds() < end {
            if let socket = try BlockingAccept.next(from: listener, orStop: stop, logger: connection.logger) {
                serve(socket)
                if settles { quietUntil = Clock.monotonicMilliseconds() + ListenerShutdown.quietMilliseconds }
                continue
            }
            let now = Clock.monotonicMilliseconds()
            guard now < quietUntil else { return }
            _ = try Waiting.readable([listener.fd], timeoutMilliseconds: min(quietUntil, end) - now)
        }
    }

    private func stopHandshakes() -> Bool {
        do {
            return try ListenerShutdown.stopHandshakes(listener)
        } catch {
            connection.logger.error("\(error)")
            return false
        }
    }

    private func serve(_ socket: consuming Socket) {
        record.add(.accepted)
        record[.active] = 1
        connection.serve(socket)
        record[.active] = 0
    }
}

enum BlockingAccept {
    /// How long accepting pauses when the process is out of descriptors or memory.
    static let pauseMilliseconds = 100

    /// One accepted (non-blocking) socket, or nil when the queue is empty (another
    /// process or thread took it first), or the process is out of descriptors: that
    /// is logged and the call pauses, waking early for a stop.
    static func next(from listener: Listener, orStop stop: StopNotice, logger: Logger) throws(SystemError) -> Socket? {
        try next(from: listener, logger: logger) { () throws(SystemError) in
            _ = try Waiting.wait(for: -1, 0, orStop: stop, timeoutMilliseconds: pauseMilliseconds)
        }
    }

    /// `next`, pausing on exhaustion in `pause` (a master waits on its own signals).
    static func next(from listener: Listener, logger: Logger,
                     pause: () throws(SystemError) -> Void) throws(SystemError) -> Socket? {
        do {
            return try listener.accept()
        } catch where [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errno) {
            logger.warning("\(error); pausing accept for \(pauseMilliseconds) ms")
            try pause()
            return nil
        }
    }
}
