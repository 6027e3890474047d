// AcceptLoop: the heart of serial, prefork and thread-pool alike: wait for a
// connection, accept it, serve it to the end, repeat, until stop fires. Several
// loops may share a listener (prefork's processes, the pool's threads): all of
// them wake for a connection and one wins the accept; the others find the queue
// empty (the listener is non-blocking) and wait again. That thundering herd is
// part of what these models cost.
import Glibc
import Logging

struct AcceptLoop {
    let listener: Listener
    let connection: BlockingConnection

    func run() throws(SystemError) {
        while true {
            let outcome = try Waiting.wait(for: listener.fd, Int16(POLLIN), orStop: connection.stop, timeoutMilliseconds: nil)
            if outcome == .stop { return }
            guard let socket = try BlockingAccept.next(from: listener, logger: connection.logger) else { continue }
            connection.serve(socket)
        }
    }
}

enum BlockingAccept {
    /// One accepted blocking socket, or nil when another process or thread took it
    /// first, or the process is out of descriptors (logged; the caller waits again).
    static func next(from listener: Listener, logger: Logger) throws(SystemError) -> Socket? {
        do {
            return try listener.acceptBlocking()
        } catch where [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errno) {
            logger.warning("\(error); pausing accept for 100 ms")
            usleep(100_000)
            return nil
        }
    }
}
