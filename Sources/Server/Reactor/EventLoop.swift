// EventLoop: a worker's reactor. It waits on epoll and dispatches each ready
// descriptor: the listener (accept new connections), the signalfd (stop), or a
// connection (handed to the ConnectionDriver). Everything that differs between
// level- and edge-triggered operation comes from the TriggerMode value.
import CEventPoll
import Glibc
import Logging

final class EventLoop {
    private let epoll: Epoll
    private let listener: Listener
    private let listenerEvents: UInt32
    private let signals: SignalDescriptor
    private let mode: TriggerMode
    private let driver: ConnectionDriver
    private let dateCache: DateCache
    private let logger: Logger
    private var connections = ConnectionTable()
    private var running = true
    /// Set while accepting is paused after the process ran out of descriptors.
    private var acceptingResumesAt: Int?

    /// How long accepting pauses when the process or system is out of descriptors,
    /// instead of retrying in a loop: connections wait in the kernel's queue meanwhile.
    static let acceptPauseMilliseconds = 100

    init(listener: Listener, sharedListener: Bool, signals: SignalDescriptor, mode: TriggerMode,
         driver: ConnectionDriver, dateCache: DateCache, logger: Logger) throws(SystemError) {
        epoll = try Epoll()
        self.listener = listener
        listenerEvents = mode.listenerEvents(exclusive: sharedListener)
        self.signals = signals
        self.mode = mode
        self.driver = driver
        self.dateCache = dateCache
        self.logger = logger
    }

    /// Serves until a stop signal arrives, then closes every connection.
    func run() throws(SystemError) {
        try epoll.add(listener.fd, events: listenerEvents, token: ReservedToken.listener)
        try epoll.add(signals.fd, events: CEP_EPOLLIN, token: ReservedToken.signals)
        while running {
            let ready = try epoll.wait(timeoutMilliseconds: waitTimeout())
            dateCache.refresh(now: Clock.wallClockSeconds())
            resumeAcceptingIfDue()
            for index in 0..<ready {
                dispatch(epoll.event(at: index))
            }
        }
        closeAllConnections()
    }

    private func dispatch(_ event: ReadyEvent) {
        switch event.token {
        case ReservedToken.listener:
            acceptConnections()
        case ReservedToken.signals:
            receiveSignals()
        default:
            // A stale token means the connection was closed earlier in this batch.
            guard let connection = connections.connection(for: event.token) else { return }
            if event.peerHungUp { connection.peerHungUp = true }
            let status: ConnectionStatus
            if connection.output != nil && event.isWritable {
                status = driver.writable(connection)
            } else if event.isReadable {
                status = driver.readable(connection)
            } else {
                return  // EPOLLOUT with nothing to send: edge mode reports it once per connection.
            }
            apply(status, to: connection)
        }
    }

    // MARK: Connections

    private func acceptConnections() {
        var accepted = 0
        while accepted < mode.acceptsPerEvent && acceptingResumesAt == nil {
            let socket: Socket
            do {
                guard let next = try listener.accept() else { return }
                socket = next
            } catch {
                handleAcceptFailure(error)
                return
            }
            let connection = connections.insert(socket)
            do {
                try epoll.add(socket.fd, events: mode.connectionEvents, token: connection.token)
            } catch {
                logger.error("\(error)")
                close(connection)
            }
            accepted += 1
        }
    }

    /// Level-triggered mode asks for EPOLLOUT only while output is pending; edge mode registered it once.
    private func apply(_ status: ConnectionStatus, to connection: Connection) {
        if status == .closed {
            close(connection)
            return
        }
        let wantsWritable = status == .outputPending
        guard wantsWritable != connection.watchingWritable else { return }
        connection.watchingWritable = wantsWritable
        guard let events = wantsWritable ? mode.eventsWhileOutputPending : mode.eventsAfterOutputDrained else { return }
        do {
            try epoll.modify(connection.socket.fd, events: events, token: connection.token)
        } catch {
            logger.error("\(error)")
            close(connection)
        }
    }

    /// Closing the descriptor also removes it from the epoll set (it is never duplicated).
    private func close(_ connection: Connection) {
        connections.remove(connection)
        connection.socket.close()
    }

    private func closeAllConnections() {
        for connection in connections.all { close(connection) }
    }

    // MARK: Running out of descriptors

    /// EMFILE and ENFILE would make a level-triggered listener report the same
    /// pending connection forever: take the listener out of the set for a
    /// moment instead, and log once per pause rather than once per attempt.
    private func handleAcceptFailure(_ error: SystemError) {
        switch error.errno {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM:
            logger.warning("\(error); pausing accept for \(Self.acceptPauseMilliseconds) ms")
            acceptingResumesAt = Clock.monotonicMilliseconds() + Self.acceptPauseMilliseconds
            do {
                try epoll.remove(listener.fd)
            } catch {
                logger.error("\(error)")
            }
        default:
            logger.error("\(error)")
        }
    }

    private func resumeAcceptingIfDue() {
        guard let resumesAt = acceptingResumesAt, Clock.monotonicMilliseconds() >= resumesAt else { return }
        acceptingResumesAt = nil
        do {
            // Adding a listener that already has queued connections reports it ready at once.
            try epoll.add(listener.fd, events: listenerEvents, token: ReservedToken.listener)
        } catch {
            logger.error("\(error)")
            acceptingResumesAt = Clock.monotonicMilliseconds() + Self.acceptPauseMilliseconds
        }
    }

    private func waitTimeout() -> Int32 {
        guard let resumesAt = acceptingResumesAt else { return -1 }
        return Int32(clamping: max(0, resumesAt - Clock.monotonicMilliseconds()))
    }

    // MARK: Signals

    private func receiveSignals() {
        do {
            while let signal = try signals.next() {
                switch signal {
                case SIGTERM, SIGINT, SIGQUIT: running = false
                default: break
                }
            }
        } catch {
            logger.error("\(error)")
        }
    }
}
