// EventLoop: a worker's reactor. It waits on epoll and dispatches each ready
// descriptor: the listener (accept new connections), the signalfd (stop), or a
// connection (handed to the ConnectionDriver); then it expires the timeouts
// that are due. SIGQUIT turns it into a graceful drain (EventLoop+Drain).
// Everything that differs between level- and edge-triggered operation comes
// from the TriggerMode value. It is generic over the wire protocol and the
// connections' transport, so the HTTP loop is specialised for ConnectionDriver
// over a plain socket.
import CEventPoll
import Glibc
import HTTP1
import Logging
import ServerSystem

/// Its mutable state is only ever touched by the loop's own thread, one access at
/// a time, so it is marked `@exclusivity(unchecked)`: the dynamic checks cost
/// several hundred instructions per request otherwise (counted with callgrind).
final class EventLoop<Service: ConnectionService, T: Transport & ~Copyable> {
    let epoll: Epoll
    private let signals: SignalDescriptor
    private let mode: TriggerMode
    let driver: Service
    private let dateCache: DateCache
    let logger: Logger
    @exclusivity(unchecked) var connections = ConnectionTable<T>()
    private let timers: ConnectionTimers<T>
    /// How an accepted socket becomes a connection's transport, given the number of the
    /// listener it came from (TLS on some listeners only); one that throws has closed the socket.
    private let makeTransport: (consuming Socket, _ listener: Int) throws(SystemError) -> T
    @exclusivity(unchecked) var gate: AcceptGate
    /// Reads the PROXY header of connections from a proxy-protocol listener; nil when no listener is one.
    let proxyHeaders: ProxyHeaderReader?
    /// This worker's counters in the scoreboard.
    let record: WorkerRecord
    /// The server's shared numbers (a hybrid worker), read for the `draining` flag; nil in the reactor model.
    let scoreboard: Scoreboard?
    /// The access log, when it is on: written at least once a second, reopened on SIGUSR1.
    let accessLog: AccessLog?
    /// Connections that yielded (input unread, or a file body's chunk sent), to serve again
    /// next turn, and the batch of this turn (two arrays swapped each turn, so neither reallocates).
    @exclusivity(unchecked) private var servedAgainNextTurn: [Connection<T>] = []
    @exclusivity(unchecked) private var servingAgain: [Connection<T>] = []
    /// Edge mode: listeners that gave a turn all it may take (`TriggerMode.acceptsPerTurn`)
    /// and may still hold queued connections, which no new event will report.
    @exclusivity(unchecked) private var listenersAcceptingAgain: [Int] = []
    /// Those of them to serve this turn (swapped with `listenersAcceptingAgain` each turn, as the connections are).
    @exclusivity(unchecked) private var listenersRevisited: [Int] = []
    /// `acceptsPerTurn` of each listener, in the gate's order.
    private let acceptsPerTurn: [Int]
    @exclusivity(unchecked) var running = true
    /// Set once SIGQUIT has arrived: the worker is finishing its connections to exit.
    @exclusivity(unchecked) var drain: GracefulDrain?
    let drainMilliseconds: Int
    private let heartbeatMilliseconds: Int
    /// What this worker last wrote to its scoreboard record, so it writes only changes:
    /// each store takes the cache line away from the other workers reading it.
    @exclusivity(unchecked) private var publishedHeartbeat = 0
    @exclusivity(unchecked) private var publishedActive = -1
    let maxConnections: Int
    /// The monotonic clock, read once per loop turn.
    @exclusivity(unchecked) var now = Clock.monotonicMilliseconds()
    /// Where deferred answers and async handlers' task jobs wait for this loop (nil: none ever do).
    private let deferred: CompletionQueue?
    /// What `runDeferredWork` takes from it each round (kept, so no array is allocated per batch).
    @exclusivity(unchecked) private var takenCompletions: [Completion] = []
    @exclusivity(unchecked) private var takenJobs: [UnownedJob] = []
    /// Connections that handed a request to deferred work this turn: their epoll interest
    /// changes at the end of the turn, and only if they still wait then (see `apply`).
    @exclusivity(unchecked) private var handedOff: [Connection<T>] = []

    /// With a `scoreboard`, a worker on a shared listener takes no more than its fair share of connections.
    init(listeners: ListenerSet, sharedListener: Bool, signals: SignalDescriptor, settings: EventLoopSettings,
         driver: Service, dateCache: DateCache, logger: Logger,
         record: WorkerRecord = .detached, scoreboard: Scoreboard? = nil,
         accessLog: AccessLog? = nil, proxyHeaders: ProxyHeaderReader? = nil,
         makeTransport: @escaping (consuming Socket, _ listener: Int) throws(SystemError) -> T) throws(SystemError) {
        epoll = try Epoll()
        self.makeTransport = makeTransport
        self.signals = signals
        mode = settings.mode
        self.driver = driver
        deferred = driver.deferredCompletions
        self.dateCache = dateCache
        self.logger = logger
        timers = ConnectionTimers(settings.timeouts)
        drainMilliseconds = settings.drainMilliseconds
        heartbeatMilliseconds = settings.heartbeatMilliseconds
        maxConnections = settings.maxConnections
        self.record = record
        self.scoreboard = scoreboard
        self.accessLog = accessLog
        let balance = sharedListener ? scoreboard.map(AcceptBalance.init(scoreboard:)) : nil
        self.proxyHeaders = proxyHeaders
        acceptsPerTurn = listeners.addresses.map { settings.mode.acceptsPerTurn(tls: $0.tls) }
        gate = AcceptGate(listeners: listeners, events: settings.mode.listenerEvents(exclusive: sharedListener),
                          maxConnections: settings.maxConnections, balance: balance)
    }

    /// Serves until a stop signal arrives (SIGTERM at once, SIGQUIT after a drain), then closes every connection.
    func run() throws(SystemError) {
        try gate.open(in: epoll)
        try epoll.add(signals.fd, events: CEP_EPOLLIN, token: ReservedToken.signals)
        if let deferred {
            try epoll.add(deferred.fd, events: CEP_EPOLLIN, token: ReservedToken.completions)
        }
        while running {
            let ready = try epoll.wait(timeoutMilliseconds: waitTimeout())
            // Optional chaining, not `if let`: no retain and release of the queue on every turn.
            if deferred?.inUse == true { deferred?.loopWoke() }
            now = Clock.monotonicMilliseconds()
            dateCache.refresh(now: Clock.wallClockSeconds())
            // Those that yielded before this turn are served after its events; those that yield
            // during it wait for the next, so each gets one share (one file chunk) per turn.
            if !servedAgainNextTurn.isEmpty { swap(&servedAgainNextTurn, &servingAgain) }
            if !listenersAcceptingAgain.isEmpty { swap(&listenersAcceptingAgain, &listenersRevisited) }
            for index in 0..<ready {
                dispatch(epoll.event(at: index))
            }
            serveYieldedConnections()
            acceptAgain()
            // After everything that may hand a request off this turn: its task may answer at once.
            runDeferredWork()
            updateHandedOffInterests()
            expireTimeouts()
            accessLog?.flushIfDue(now: now)
            publishToScoreboard()
            gate.update(openConnections: connections.count, now: now, epoll: epoll, logger: logger)
            if drain != nil { continueDrain() }
        }
        closeAllConnections()
    }

    private func dispatch(_ event: ReadyEvent) {
        switch event.token {
        case ReservedToken.listener:
            acceptConnections()
            drain?.connectionsArrived(now: now)
        case ReservedToken.signals:
            receiveSignals()
        case ReservedToken.completions:
            // Its answers and jobs are taken after this batch of events (runDeferredWork).
            deferred?.wakeupSeen()
        default:
            // A stale token means the connection was closed earlier in this batch.
            guard let connection = connections.connection(for: event.token) else {
                if let index = ReservedToken.extraListenerIndex(event.token) { acceptFromListener(at: index) }
                return
            }
            if event.peerHungUp { connection.peerHungUp = true }
            if event.connectionGone { connection.connectionGone = true }
            // Served again later this turn (it yielded last turn): serving it now too would give it two shares.
            if connection.queuedForNextTurn { return }
            if connection.output != nil && event.letsWrite(connection.transport) {
                apply(driver.writable(connection), to: connection)
            } else if event.letsRead(connection.transport) {
                apply(readable(connection), to: connection)
            }
            // Otherwise EPOLLOUT with nothing to send: edge mode reports it once per connection.
        }
    }

    // MARK: Connections

    private func acceptConnections() {
        acceptConnections(from: listener, at: 0, proxied: gate.firstIsProxied)
    }

    /// A listener of several (`--listen`) by its number: the first's events come by `acceptConnections()`,
    /// the others' by their own token; a revisit (`acceptAgain`) may name any.
    private func acceptFromListener(at index: Int) {
        acceptConnections(from: gate.listeners.members[index], at: index, proxied: gate.listeners.addresses[index].proxyProtocol)
        drain?.connectionsArrived(now: now)
    }

    /// - Parameter proxied: each connection starts with a PROXY header (read before any HTTP).
    private func acceptConnections(from listener: Listener, at index: Int, proxied: Bool) {
        var accepted = 0
        while gate.admits(openConnections: connections.count) {
            if accepted == acceptsPerTurn[index] {
                if mode.revisitsListeners && !listenersAcceptingAgain.contains(index) {
                    listenersAcceptingAgain.append(index)
                }
                return
            }
            let socket: Socket
            do {
                guard let next = try listener.accept(notingPeerIn: accessLog?.peers) else { return }
                socket = next
            } catch {
                gate.acceptFailed(error, now: now, epoll: epoll, logger: logger)
                return
            }
            gate.acceptSucceeded()
            record.add(.accepted)
            accepted += 1
            serveAccepted(socket, from: index, proxied: proxied)
        }
    }

    /// Makes the accepted socket's transport (once per connection, not per request) and
    /// serves it; a connection from a proxy-protocol listener (or any, when every peer is
    /// checked against the trusted proxies) is admitted first.
    /// - Parameters:
    ///   - listener: the number of the listener it came from.
    ///   - proxied: the connection starts with a PROXY header (read before any HTTP).
    func serveAccepted(_ socket: consuming Socket, from listener: Int, proxied: Bool) {
        let connection: Connection<T>
        do {
            connection = connections.insert(try makeTransport(socket, listener))
        } catch {
            logger.error("\(error)")
            return
        }
        connection.httpsRedirect = gate.redirect(for: listener)
        if proxied || proxyHeaders?.checksEveryPeer == true {
            guard proxyHeaders!.admit(connection, proxied: proxied) else {
                close(connection)
                return
            }
        }
        serveNewConnection(connection)
    }

    /// A connection still owes its PROXY header: nothing reaches the driver before it is whole.
    @inline(__always)
    private func readable(_ connection: Connection<T>) -> ConnectionStatus {
        if connection.awaitingProxyHeader { return proxyHeaders!.read(connection, then: driver) }
        return driver.readable(connection)
    }

    /// The listener defers accept until a client's first bytes have arrived, so the
    /// request is read and answered before the connection even joins the epoll set:
    /// a connection closed after one response never costs an epoll_ctl or a wakeup.
    /// Registering after the read is safe in edge-triggered mode too, because adding
    /// a descriptor reports whatever readiness it already has.
    private func serveNewConnection(_ connection: Connection<T>) {
        let status = readable(connection)
        if status == .closed {
            close(connection)
            return
        }
        connection.interest = connection.wantedInterest
        do {
            try epoll.add(connection.transport.fd, events: mode.registration(for: connection.interest), token: connection.token)
        } catch {
            logger.error("\(error)")
            close(connection)
            return
        }
        if status == .yielded { serveAgainNextTurn(connection) }
        timers.rearm(connection, now: now)
    }

    var listener: Listener { gate.listener }

    /// Updates registration and timer for the connection's new phase. Level-triggered
    /// mode asks for EPOLLOUT only while output is pending; edge mode registered it once.
    func apply(_ status: ConnectionStatus, to connection: Connection<T>) {
        if status == .closed {
            close(connection)
            return
        }
        if status == .yielded { serveAgainNextTurn(connection) }
        timers.rearm(connection, now: now)
        guard connection.wantedInterest != connection.interest else { return }
        // An async handler's task runs on this loop and usually answers before the turn
        // ends: waiting to see spares the two epoll_ctl calls (stop reading, read again).
        if connection.awaitingHandler != nil {
            handedOff.append(connection)
            return
        }
        updateInterest(connection)
    }

    /// Registers the interest the connection's phase now wants (EPOLL_CTL_MOD), if the mode needs it.
    private func updateInterest(_ connection: Connection<T>) {
        let interest = connection.wantedInterest
        guard interest != connection.interest else { return }
        connection.interest = interest
        guard let events = mode.events(for: interest) else { return }
        do {
            try epoll.modify(connection.transport.fd, events: events, token: connection.token)
        } catch {
            logger.error("\(error)")
            close(connection)
        }
    }

    /// The listeners that gave the last turn all it could take, after this turn's events;
    /// one that an event of this turn has served to its bound already waits for the next.
    @inline(__always)  // Once per turn: its usual work is the emptiness check.
    private func acceptAgain() {
        guard !listenersRevisited.isEmpty else { return }
        for index in listenersRevisited where !listenersAcceptingAgain.contains(index) {
            acceptFromListener(at: index)
        }
        listenersRevisited.removeAll(keepingCapacity: true)
    }

    /// Queues a connection that used up its share of this turn, once: a connection that yielded
    /// and then had an event too would otherwise be served twice per turn (one chunk each time).
    private func serveAgainNextTurn(_ connection: Connection<T>) {
        guard !connection.queuedForNextTurn else { return }
        connection.queuedForNextTurn = true
        servedAgainNextTurn.append(connection)
    }

    @inline(__always)  // Once per turn: its usual work is the emptiness check.
    private func serveYieldedConnections() {
        guard !servingAgain.isEmpty else { return }
        for connection in servingAgain {
            connection.queuedForNextTurn = false
            guard connections.connection(for: connection.token) === connection else { continue }
            apply(readable(connection), to: connection)
        }
        servingAgain.removeAll(keepingCapacity: true)
    }

    private func expireTimeouts() {
        while let connection = timers.firstExpired(now: now) {
            let timeout = connection.timeout
            timers.disarm(connection)
            if connection.awaitingProxyHeader { proxyHeaders?.headerTimedOut() }
            if let answer = timeout?.answer {
                // A request in hand (408) or a handler too slow (503): answered, then closed.
                apply(driver.timedOut(connection, answering: answer), to: connection)
                continue
            }
            if timeout?.resetsOnExpiry == true { connection.transport.resetOnClose() }
            close(connection)
        }
    }

    /// Closing the descriptor also removes it from the epoll set (it is never duplicated).
    private func close(_ connection: Connection<T>) {
        timers.disarm(connection)
        // Its answer will be dropped: a task doing the work need not finish it.
        connection.awaitingHandler?.cancel()
        connection.abandonStreams()
        connections.remove(connection)
        connection.transport.close()
    }

    private func closeAllConnections() {
        for connection in connections.all { close(connection) }
    }

    /// Once per turn: the connection count when it has changed, and the heartbeat a few
    /// times per interval (the watchdog allows a whole timeout, three intervals or more).
    private func publishToScoreboard() {
        if connections.count != publishedActive {
            publishedActive = connections.count
            record[.active] = UInt64(publishedActive)
        }
        if now - publishedHeartbeat >= heartbeatMilliseconds / 4 {
            publishedHeartbeat = now
            record[.heartbeat] = UInt64(now)
        }
    }

    /// Blocks until the next deadline, at most one heartbeat interval (an idle worker
    /// must still show the watchdog it is alive); not at all while connections wait to be served again.
    private func waitTimeout() -> Int32 {
        if !servedAgainNextTurn.isEmpty || !listenersAcceptingAgain.isEmpty { return 0 }
        let next = min(timers.nextDeadline ?? .max, gate.recheckAt(now: now) ?? .max,
                       drain?.nextDeadline(openConnections: connections.count) ?? .max, accessLog?.flushDeadline ?? .max)
        let wait = min(next == .max ? Int.max : next - Clock.monotonicMilliseconds(), heartbeatMilliseconds)
        // Last before the wait: from here on, answers and jobs raise the eventfd.
        if deferred?.inUse == true, deferred?.loopWillWait() == false { return 0 }
        return Int32(clamping: max(0, wait))
    }

    // MARK: Deferred handlers

    /// The interest of the connections that handed off a request this turn, now that the
    /// turn's jobs have run: one still waiting for its answer stops reading until it comes.
    @inline(__always)  // Once per turn: its usual work is the emptiness check.
    private func updateHandedOffInterests() {
        guard !handedOff.isEmpty else { return }
        for connection in handedOff where connections.connection(for: connection.token) === connection {
            updateInterest(connection)
        }
        handedOff.removeAll(keepingCapacity: true)
    }

    /// Runs the async handlers' jobs queued for this loop and delivers the answers posted by
    /// the handler pool or tasks, in rounds: a job posts an answer, an answer lets a pipelined
    /// request start a task. At most a few rounds per turn, so a task that keeps yielding
    /// cannot starve the sockets; what is left makes the next wait return at once.
    @inline(__always)  // Once per turn: its usual work is one atomic load.
    private func runDeferredWork() {
        // Looked at without a binding first: the usual turn (never used) retains nothing.
        guard deferred?.inUse == true, let deferred else { return }
        for _ in 0..<4 {
            deferred.take(completions: &takenCompletions, jobs: &takenJobs)
            let nudges = deferred.takeNudges()
            if takenCompletions.isEmpty && takenJobs.isEmpty && nudges.isEmpty { return }
            if !takenJobs.isEmpty {
                deferred.run(&takenJobs)
                // A parked task runner resumed by a hand-off answers in its job: delivered in this round.
                deferred.takeCompletions(appendingTo: &takenCompletions)
            }
            deliverCompletions()
            resume(nudged: nudges)
        }
    }

    /// Answers posted by the handler pool or tasks, and finished read-aheads of file bodies: each goes
    /// to its connection, if that is still open and waiting for it (a closed token or a timed-out ticket drops it).
    private func deliverCompletions() {
        // By index and in place: a copy of each completion would retain every field of its response.
        for index in takenCompletions.indices {
            // The driver checks the serial against what the connection waits for (an answer or a read-ahead).
            guard let connection = connections.connection(for: takenCompletions[index].token) else { continue }
            if let status = driver.complete(connection, with: &takenCompletions[index]) { apply(status, to: connection) }
        }
        takenCompletions.removeAll(keepingCapacity: true)
    }

    /// Connections whose streamed body moved on: a request body's handler caught up, or a
    /// streamed response's producer has a chunk.
    private func resume(nudged tokens: [UInt64]) {
        for token in tokens {
            guard let connection = connections.connection(for: token) else { continue }
            if let status = driver.resume(connection) { apply(status, to: connection) }
        }
    }

    // MARK: Signals

    private func receiveSignals() {
        do {
            while let signal = try signals.next() {
                switch signal {
                case SIGTERM, SIGINT: running = false
                case SIGQUIT: beginDrain()
                case SIGUSR1: accessLog?.reopen()
                default: break
                }
            }
        } catch {
            logger.error("\(error)")
        }
    }
}
