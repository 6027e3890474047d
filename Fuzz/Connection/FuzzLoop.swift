// FuzzLoop: the part of EventLoop that serves one connection, run on a clock the
// fuzzer moves. It registers the server's socket in a real epoll set with the
// trigger mode's events, dispatches what epoll reports as EventLoop.dispatch
// does, serves a yielded connection again on the same turn, re-arms the timer
// through ConnectionTimers.rearm, fires the timeouts that are due as
// EventLoop.expireTimeouts does, and ends an idle connection during a graceful
// drain as EventLoop.continueDrain does. After every call into the driver it
// checks what the driver and the connection hold against their bounds.

import HTTP1
import ServerSystem

final class FuzzClock {
    /// Monotonic milliseconds; far from zero, as a real clock is.
    var now = 1_000_000_000
}

final class FuzzLoop {
    private let epoll: Epoll
    private let mode: TriggerMode
    private let driver: ConnectionDriver
    private let clock: FuzzClock
    private let timers = ConnectionTimers<Socket>(TimeoutDurations())
    private let bounds: FuzzBounds
    /// The connection while it is open.
    private(set) var connection: Connection<Socket>?
    private var yielded = false
    private var drainDeadline: Int?
    /// Something other than the client ended the exchange early: a timeout fired, or a drain began.
    private(set) var interrupted = false
    /// The connection was closed with responses still unsent (write timeout, drain deadline).
    private(set) var droppedOutput = false

    /// Turns one `settle` may take before the loop counts as spinning: the server would burn a core.
    static let turnsToSettle = 100

    init(driver: ConnectionDriver, mode: TriggerMode, clock: FuzzClock, bounds: FuzzBounds) {
        self.driver = driver
        self.mode = mode
        self.clock = clock
        self.bounds = bounds
        do { epoll = try Epoll(capacity: 4) } catch { fatalError("\(error)") }
    }

    var isOpen: Bool { connection != nil }

    /// EventLoop.serveNewConnection: the first read happens before the socket joins the epoll set.
    func accept(_ connection: Connection<Socket>) {
        self.connection = connection
        let status = serve(connection, driver.readable(connection))
        guard status != .closed else { return close(connection) }
        connection.interest = connection.wantedInterest
        let events = mode.registration(for: connection.interest)
        do { try epoll.add(connection.transport.fd, events: events, token: connection.token) } catch { fatalError("\(error)") }
        if status == .yielded { yielded = true }
        timers.rearm(connection, now: clock.now)
    }

    /// Lets `milliseconds` pass, then runs turns until the loop has nothing left to do.
    func advanceClock(by milliseconds: Int) {
        clock.now += milliseconds
        settle()
    }

    /// Runs loop turns until one finds nothing ready; a loop that never gets there spins.
    func settle() {
        for _ in 0..<Self.turnsToSettle {
            if !turn() { return }
        }
        fuzzAssert(false, "the loop did not settle in \(Self.turnsToSettle) turns: it would spin")
    }

    func beginDrain() {
        guard drainDeadline == nil else { return }
        drainDeadline = clock.now + 30_000  // EventLoopSettings.drainMilliseconds
        interrupted = true
        driver.beginDrain()
        settle()
    }

    /// One pass of EventLoop.run; returns whether anything was ready.
    private func turn() -> Bool {
        let ready: Int
        do { ready = try epoll.wait(timeoutMilliseconds: 0) } catch { fatalError("\(error)") }
        let active = ready > 0 || yielded
        for index in 0..<ready { dispatch(epoll.event(at: index)) }
        if yielded, let connection {
            yielded = false
            apply(driver.readable(connection), to: connection)
        }
        expireTimeouts()
        if drainDeadline != nil { continueDrain() }
        if let connection { fuzzAssert(connection.timeout != nil, "an open connection without a deadline") }
        return active
    }

    private func dispatch(_ event: ReadyEvent) {
        guard let connection, event.token == connection.token else { return }
        if event.peerHungUp { connection.peerHungUp = true }
        if connection.output != nil && event.isWritable {
            apply(driver.writable(connection), to: connection)
        } else if event.isReadable {
            apply(driver.readable(connection), to: connection)
        }
    }

    /// EventLoop.apply, after checking the bounds.
    private func apply(_ status: ConnectionStatus, to connection: Connection<Socket>) {
        guard serve(connection, status) != .closed else { return close(connection) }
        if status == .yielded { yielded = true }
        timers.rearm(connection, now: clock.now)
        let interest = connection.wantedInterest
        guard interest != connection.interest else { return }
        connection.interest = interest
        guard let events = mode.events(for: interest) else { return }
        do { try epoll.modify(connection.transport.fd, events: events, token: connection.token) } catch { fatalError("\(error)") }
    }

    /// Checks what the driver left behind after one call; passes its status on.
    private func serve(_ connection: Connection<Socket>, _ status: ConnectionStatus) -> ConnectionStatus {
        bounds.check(driver, connection)
        return status
    }

    private func expireTimeouts() {
        var fired = 0
        while let connection = timers.firstExpired(now: clock.now) {
            fired += 1
            fuzzAssert(fired <= Timeout.allCases.count, "timeouts keep expiring at the same instant")
            interrupted = true
            let timeout = connection.timeout
            timers.disarm(connection)
            if let answer = timeout?.answer {
                apply(driver.timedOut(connection, answering: answer), to: connection)
                continue
            }
            if timeout?.resetsOnExpiry == true {
                droppedOutput = connection.output != nil
                connection.transport.resetOnClose()
            }
            close(connection)
        }
    }

    private func continueDrain() {
        if let connection, connection.phase.isIdle {
            apply(driver.closeIdle(connection), to: connection)
        }
        // At the deadline the loop stops and closes whatever is left (EventLoop.closeAllConnections).
        if let connection, clock.now >= drainDeadline! {
            droppedOutput = connection.output != nil
            close(connection)
        }
    }

    /// Closing the descriptor also takes it out of the epoll set.
    private func close(_ connection: Connection<Socket>) {
        timers.disarm(connection)
        connection.transport.close()
        self.connection = nil
        yielded = false
    }
}
