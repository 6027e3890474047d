// The connection phase and the timer rules: what each phase waits for and under
// which timeout, when a deadline starts afresh (one table per rule), and that the
// event loop's deadline lists and the blocking models' single deadline follow the
// same rules step for step.
import CEventPoll
import Glibc
import Logging
import TestSupport
import XCTest

@testable import HTTP1
@testable import ServerSystem
@testable import Server

/// Answers every request with an empty 200.
private struct EmptyAnswer: HTTPHandler {
    func respond(to request: Request, with response: inout Response) {}
}

final class ConnectionPhaseTests: XCTestCase {
    private var pair: SocketPair!
    private var connections: [Connection<Socket>] = []

    override func setUpWithError() throws {
        pair = try SocketPair()
    }

    override func tearDown() {
        pair.close()
    }

    /// A connection for the rules only: nothing is read or written on it.
    private func makeConnection() -> Connection<Socket> {
        let connection = Connection(socket: Socket(fd: pair.server), token: UInt64(connections.count))
        connections.append(connection)
        return connection
    }

    // MARK: Phase → interest and timeout

    func testEachPhaseWaitsForItsReadinessUnderItsTimeout() {
        let table: [(ConnectionPhase, Interest, Timeout)] = [
            // A new connection is a slowloris candidate from the accept.
            (.idle(firstRequest: true), .read, .header),
            (.idle(firstRequest: false), .read, .keepAlive),
            (.readingHead, .read, .header),
            (.readingBody, .read, .body),
            // Pipelined requests behind a deferred one wait: the socket is not read.
            (.handling, .none, .handling),
            // A client that does not read its responses is not read from either.
            (.writing, .write, .write),
            // Lingering reads, to discard what the client still sends.
            (.lingering, .read, .linger),
        ]
        for (phase, interest, timeout) in table {
            XCTAssertEqual(phase.interest, interest, "\(phase)")
            XCTAssertEqual(phase.timeout, timeout, "\(phase)")
        }
    }

    func testOnlyAnIdlePhaseMayBeEndedByAGracefulStop() {
        let idle: [ConnectionPhase] = [.idle(firstRequest: true), .idle(firstRequest: false)]
        let busy: [ConnectionPhase] = [.readingHead, .readingBody, .handling, .writing, .lingering]
        XCTAssertTrue(idle.allSatisfy(\.isIdle))
        XCTAssertFalse(busy.contains(where: \.isIdle))
    }

    /// The reactor's drain ends only kept-alive connections: one awaiting its first request
    /// (over TLS, maybe mid-handshake) has a request coming and is served.
    func testTheReactorDrainEndsOnlyKeptAliveIdleConnections() {
        XCTAssertTrue(ConnectionPhase.idle(firstRequest: false).isKeptAliveIdle)
        XCTAssertFalse(ConnectionPhase.idle(firstRequest: true).isKeptAliveIdle)
        XCTAssertFalse(([.readingHead, .readingBody, .handling, .writing, .lingering] as [ConnectionPhase]).contains(where: \.isKeptAliveIdle))
    }

    func testTimeoutExpiryAnswersOnlyWhenARequestIsInHand() {
        let table: [(Timeout, HTTPStatus?)] = [
            (.header, .requestTimeout), (.body, .requestTimeout),  // RFC 9110 §15.5.9
            (.handling, .serviceUnavailable),  // RFC 9110 §15.6.4: the server could not answer in time
            (.keepAlive, nil), (.write, nil), (.linger, nil),
        ]
        for (timeout, answer) in table {
            XCTAssertEqual(timeout.answer?.code, answer?.code, "\(timeout)")
        }
        XCTAssertEqual(Timeout.allCases.count, table.count, "every timeout is in the table")
    }

    func testHandlingTimeoutHasItsOwnDuration() {
        var durations = TimeoutDurations()
        XCTAssertEqual(durations.milliseconds(.handling), 60_000)
        durations.handling = 1234
        XCTAssertEqual(durations.milliseconds(.handling), 1234)
    }

    /// Level-triggered registrations follow the interest; edge-triggered ones are set once
    /// (EPOLLIN | EPOLLOUT | EPOLLET) and never changed, as before the phase existed.
    func testTriggerModeMapsInterestToEvents() {
        XCTAssertEqual(TriggerMode.level.events(for: .read), CEP_EPOLLIN | CEP_EPOLLRDHUP)
        XCTAssertEqual(TriggerMode.level.events(for: .write), CEP_EPOLLOUT)
        // While a handler works only a hang-up is watched: a client that leaves ends the wait.
        XCTAssertEqual(TriggerMode.level.events(for: Interest.none), CEP_EPOLLRDHUP)
        for interest in [Interest.read, .write, .none] {
            XCTAssertNil(TriggerMode.edge.events(for: interest))
            XCTAssertEqual(TriggerMode.edge.registration(for: interest), TriggerMode.edge.connectionEvents)
        }
        XCTAssertEqual(TriggerMode.level.registration(for: .read), TriggerMode.level.connectionEvents)
        XCTAssertEqual(TriggerMode.level.registration(for: .write), CEP_EPOLLOUT)
    }

    // MARK: The phase the driver leaves

    func testDriverMovesThePhaseAsItServes() throws {
        let driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                      handler: EmptyAnswer(), logger: Logger(label: "test"))
        let connection = makeConnection()
        XCTAssertEqual(connection.phase, .idle(firstRequest: true))
        pair.clientSends("GET /health HTTP/1.1\r\nHo")
        _ = driver.readable(connection)
        XCTAssertEqual(connection.phase, .readingHead)
        pair.clientSends("st: t\r\n\r\n")
        _ = driver.readable(connection)
        XCTAssertEqual(connection.phase, .idle(firstRequest: false))
        pair.clientSends("POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab")
        _ = driver.readable(connection)
        XCTAssertEqual(connection.phase, .readingBody)
        XCTAssertEqual(driver.timedOut(connection, answering: .requestTimeout), .idle)
        XCTAssertEqual(connection.phase, .lingering)
        XCTAssertTrue(connection.lingering)
    }

    /// A deferred handler's phase is not overwritten by flushes of earlier responses;
    /// once it answers, the phase follows the buffers again.
    func testHandlingLastsUntilTheHandlerAnswers() {
        let connection = makeConnection()
        connection.requestsServed = 1
        connection.phase = .handling
        connection.settlePhase()
        XCTAssertEqual(connection.phase, .handling)
        connection.endHandling()
        XCTAssertEqual(connection.phase, .idle(firstRequest: false))
        connection.phase = .lingering
        connection.endHandling()
        connection.settlePhase()
        XCTAssertEqual(connection.phase, .lingering, "lingering is never left")
    }

    // MARK: Restart rules (TimerRules), one table per rule

    /// One step: the phase the connection is in, whether bytes moved since the last
    /// look, how many requests it has served, and whether the deadline starts afresh.
    private typealias Step = (phase: ConnectionPhase, progress: Bool, served: Int, restarts: Bool)

    private func assertRule(_ steps: [Step], file: StaticString = #filePath, line: UInt = #line) {
        let connection = makeConnection()
        for (index, step) in steps.enumerated() {
            connection.phase = step.phase
            connection.madeProgress = step.progress
            connection.requestsServed = step.served
            let timeout = step.phase.timeout
            let restarts = TimerRules.restarts(timeout, on: connection)
            XCTAssertEqual(restarts, step.restarts, "step \(index): \(step)", file: file, line: line)
            if restarts { connection.timeout = timeout }
            XCTAssertFalse(connection.madeProgress, "progress is accounted once", file: file, line: line)
        }
    }

    /// Header: once per request, from its first byte (or the accept). A slowloris that
    /// trickles a byte at a time must not extend it; the next request gets its own.
    func testHeaderDeadlineStartsOncePerRequest() {
        assertRule([
            (.idle(firstRequest: true), false, 0, true),
            (.readingHead, true, 0, false),
            (.readingHead, true, 0, false),
            (.idle(firstRequest: false), true, 1, true),
            (.readingHead, true, 1, true),
            (.readingHead, true, 1, false),
            // Two pipelined requests, the first answered at once: the second's head is a new request.
            (.readingHead, true, 2, true),
        ])
    }

    /// Handling: once when the handler takes the request; a pipelined request handled
    /// next gets its own deadline, however the events in between fell.
    func testHandlingDeadlineStartsOncePerRequest() {
        assertRule([
            (.readingHead, true, 0, true),
            (.handling, false, 0, true),
            (.handling, true, 0, false),
            (.handling, true, 1, true),
        ])
    }

    /// Keep-alive, body and write measure a pause, not a total: they restart on progress
    /// only, never on an event that moved nothing (a spurious wakeup, a hangup notice).
    func testPauseDeadlinesRestartOnProgressOnly() {
        for phase in [ConnectionPhase.idle(firstRequest: false), .readingBody, .writing] {
            assertRule([
                (.readingHead, true, 1, true),
                (phase, false, 1, true),
                (phase, false, 1, false),
                (phase, true, 1, true),
                (phase, false, 1, false),
            ])
        }
    }

    /// Linger: once. A client that keeps sending cannot keep a closing connection open.
    func testLingerDeadlineStartsOnce() {
        assertRule([
            (.writing, true, 1, true),
            (.lingering, true, 1, true),
            (.lingering, true, 1, false),
            (.lingering, true, 2, false),
        ])
    }

    // MARK: The same rules in the event loop and the blocking models

    /// A trickling slowloris, then a stalled body, then a client that reads slowly:
    /// the event loop's deadline lists (ConnectionTimers) and the blocking models'
    /// single deadline (TimerRules.deadline, what BlockingConnection waits on) set the
    /// same deadline at every step.
    func testEventLoopAndBlockingModelsSetTheSameDeadlines() {
        let durations = TimeoutDurations()
        let timers = ConnectionTimers<Socket>(durations)
        let looped = makeConnection()
        let blocking = makeConnection()
        let script: [(now: Int, phase: ConnectionPhase, progress: Bool, served: Int)] = [
            (0, .idle(firstRequest: true), false, 0),
            (100, .readingHead, true, 0),
            (5_000, .readingHead, true, 0),
            (9_900, .readingHead, true, 0),
            (9_950, .readingBody, true, 0),
            (12_000, .readingBody, false, 0),
            (13_000, .readingBody, true, 0),
            (14_000, .writing, true, 1),
            (15_000, .writing, false, 1),
            (16_000, .idle(firstRequest: false), true, 1),
            (17_000, .readingHead, true, 1),
            (18_000, .readingHead, true, 1),
            (19_000, .lingering, true, 2),
            (20_000, .lingering, true, 2),
        ]
        var expected = [0 + durations.header, 0 + durations.header, 0 + durations.header, 0 + durations.header,
                        9_950 + durations.body, 9_950 + durations.body, 13_000 + durations.body,
                        14_000 + durations.write, 14_000 + durations.write, 16_000 + durations.keepAlive,
                        17_000 + durations.header, 17_000 + durations.header,
                        19_000 + durations.linger, 19_000 + durations.linger]
        expected.reverse()
        for step in script {
            for connection in [looped, blocking] {
                connection.phase = step.phase
                connection.madeProgress = step.progress
                connection.requestsServed = step.served
            }
            timers.rearm(looped, now: step.now)
            let blockingDeadline = TimerRules.deadline(of: blocking, now: step.now, durations: durations)
            let want = expected.removeLast()
            XCTAssertEqual(looped.deadline, want, "event loop at \(step)")
            XCTAssertEqual(blockingDeadline, want, "blocking model at \(step)")
            XCTAssertEqual(looped.timeout, blocking.timeout, "same timeout at \(step)")
        }
        timers.disarm(looped)
    }
}
