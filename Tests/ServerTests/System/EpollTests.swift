// Epoll against the real kernel with socketpairs: level versus edge reporting,
// token round trips, modify and remove, timeouts and EINTR; and the event bits
// each TriggerMode asks for.
import CEventPoll
import Glibc
import XCTest

@testable import ServerSystem
@testable import Server

final class EpollTests: XCTestCase {
    /// Every descriptor a test opened and has not closed yet; tearDown closes them.
    private var openDescriptors: [Int32] = []

    override func tearDown() {
        for fd in openDescriptors { close(fd) }
        openDescriptors = []
    }

    private func closeNow(_ fd: Int32) {
        close(fd)
        openDescriptors.removeAll { $0 == fd }
    }

    /// A non-blocking AF_UNIX stream pair, closed in tearDown.
    private func makePair() throws -> (local: Int32, peer: Int32) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw SystemError(call: "socketpair", errno: errno) }
        openDescriptors += fds
        return (fds[0], fds[1])
    }

    private func send(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        XCTAssertEqual(write(fd, bytes, bytes.count), bytes.count)
    }

    // MARK: Level and edge

    func testLevelTriggeredReportsReadinessWhileDataStaysUnread() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        try epoll.add(pair.local, events: CEP_EPOLLIN, token: 7)
        send("x", to: pair.peer)

        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 1)
        XCTAssertTrue(epoll.event(at: 0).isReadable)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 1, "level mode reports again while the byte is unread")
        XCTAssertNotEqual(epoll.event(at: 0).events & CEP_EPOLLIN, 0)
    }

    func testEdgeTriggeredReportsReadinessOncePerArrival() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        try epoll.add(pair.local, events: CEP_EPOLLIN | CEP_EPOLLET, token: 7)
        send("x", to: pair.peer)

        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 1)
        XCTAssertNotEqual(epoll.event(at: 0).events & CEP_EPOLLIN, 0)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 0, "edge mode is silent although the byte is unread")

        send("y", to: pair.peer)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 1, "new data is a new edge")
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 0)
    }

    func testLevelTriggeredStopsReportingOnceDrained() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        try epoll.add(pair.local, events: CEP_EPOLLIN, token: 7)
        send("xy", to: pair.peer)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 1)

        var storage = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(read(pair.local, &storage, storage.count), 2)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 0)
    }

    func testPeerCloseIsReportedAsReadable() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        try epoll.add(pair.local, events: TriggerMode.level.connectionEvents, token: 7)
        closeNow(pair.peer)

        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 1)
        let event = epoll.event(at: 0)
        XCTAssertNotEqual(event.events & CEP_EPOLLRDHUP, 0)
        XCTAssertTrue(event.isReadable)
    }

    // MARK: Tokens

    func testTokenRoundTripsAllSixtyFourBits() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        let token: UInt64 = 0xFEDC_BA98_7654_3210
        try epoll.add(pair.local, events: CEP_EPOLLIN, token: token)
        send("x", to: pair.peer)

        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 1)
        XCTAssertEqual(epoll.event(at: 0).token, token)
    }

    func testEachReadyDescriptorComesBackWithItsOwnToken() throws {
        let epoll = try Epoll(capacity: 8)
        var expected: Set<UInt64> = []
        for index in 0..<5 {
            let pair = try makePair()
            let token = UInt64(index + 1) << 32 | UInt64(UInt32(pair.local))
            try epoll.add(pair.local, events: CEP_EPOLLIN, token: token)
            send("x", to: pair.peer)
            expected.insert(token)
        }

        let count = try epoll.wait(timeoutMilliseconds: 0)
        XCTAssertEqual(count, 5)
        let tokens = Set((0..<count).map { epoll.event(at: $0).token })
        XCTAssertEqual(tokens, expected)
    }

    func testWaitReturnsAtMostCapacityEvents() throws {
        let epoll = try Epoll(capacity: 2)
        for index in 0..<3 {
            let pair = try makePair()
            try epoll.add(pair.local, events: CEP_EPOLLIN, token: UInt64(index))
            send("x", to: pair.peer)
        }
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 2)
    }

    // MARK: modify and remove

    func testModifyChangesInterestToWritableOnly() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        try epoll.add(pair.local, events: CEP_EPOLLIN, token: 1)
        send("x", to: pair.peer)  // readable from now on, and writable all along

        try epoll.modify(pair.local, events: CEP_EPOLLOUT, token: 2)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 1)
        let event = epoll.event(at: 0)
        XCTAssertEqual(event.token, 2, "modify replaces the token too")
        XCTAssertNotEqual(event.events & CEP_EPOLLOUT, 0)
        XCTAssertEqual(event.events & CEP_EPOLLIN, 0, "EPOLLIN is no longer asked for")
        XCTAssertTrue(event.isWritable)
    }

    func testRemoveStopsReports() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        try epoll.add(pair.local, events: CEP_EPOLLIN, token: 1)
        send("x", to: pair.peer)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 1)

        try epoll.remove(pair.local)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 0)
    }

    func testAddingTwiceFailsWithEexistNamingTheCall() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        try epoll.add(pair.local, events: CEP_EPOLLIN, token: 1)
        XCTAssertThrowsError(try epoll.add(pair.local, events: CEP_EPOLLIN, token: 1)) {
            let error = $0 as? SystemError
            XCTAssertEqual(error?.errno, EEXIST)
            XCTAssertEqual(error?.call, "epoll_ctl(EPOLL_CTL_ADD, \(pair.local))")
        }
    }

    func testExclusiveListenerRegistrationIsAccepted() throws {
        let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { listener.close() }
        for mode in [TriggerMode.level, .edge] {
            let epoll = try Epoll(capacity: 8)
            try epoll.add(listener.fd, events: mode.listenerEvents(exclusive: true), token: ReservedToken.listener)
            XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 0)
        }
    }

    // MARK: Timeout and EINTR

    func testTimeoutReturnsZeroEvents() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        try epoll.add(pair.local, events: CEP_EPOLLIN, token: 1)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 20), 0)
    }

    func testInterruptedWaitReturnsZeroEvents() throws {
        let epoll = try Epoll(capacity: 8)
        let pair = try makePair()
        try epoll.add(pair.local, events: CEP_EPOLLIN, token: 1)

        // A handler (not SIG_IGN) makes epoll_wait fail with EINTR; signal(7) says
        // epoll_wait is never restarted, whatever SA_RESTART says.
        let previous = signal(SIGUSR2, { _ in })
        var unblock = sigset_t()
        var savedMask = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGUSR2)
        pthread_sigmask(SIG_UNBLOCK, &unblock, &savedMask)
        defer {
            pthread_sigmask(SIG_SETMASK, &savedMask, nil)
            signal(SIGUSR2, previous)
        }

        // The interrupter signals this thread every 10 ms until told to stop through a
        // pipe, so a signal that lands before epoll_wait starts does not spoil the test.
        var stop: [Int32] = [-1, -1]
        guard pipe(&stop) == 0 else { throw SystemError(call: "pipe", errno: errno) }
        openDescriptors += stop
        let interruption = UnsafeMutablePointer<Interruption>.allocate(capacity: 1)
        defer { interruption.deallocate() }
        interruption.initialize(to: Interruption(target: pthread_self(), stopFD: stop[0]))
        var interrupter = pthread_t()
        let created = pthread_create(&interrupter, nil, { argument in
            let interruption = argument!.assumingMemoryBound(to: Interruption.self).pointee
            var stop = pollfd(fd: interruption.stopFD, events: Int16(POLLIN), revents: 0)
            for _ in 0..<500 {
                if poll(&stop, 1, 10) != 0 { break }
                pthread_kill(interruption.target, SIGUSR2)
            }
            return nil
        }, interruption)
        guard created == 0 else { throw SystemError(call: "pthread_create", errno: created) }

        let started = Clock.monotonicMilliseconds()
        let count = try epoll.wait(timeoutMilliseconds: 10_000)
        let elapsed = Clock.monotonicMilliseconds() - started
        XCTAssertEqual(write(stop[1], "x", 1), 1)
        pthread_join(interrupter, nil)

        XCTAssertEqual(count, 0)
        XCTAssertLessThan(elapsed, 10_000, "a signal should have cut the wait short")
    }

    // MARK: TriggerMode bits

    func testEdgeConnectionsRegisterForEverythingAtOnce() {
        let bits = TriggerMode.edge.connectionEvents
        for flag in [CEP_EPOLLET, CEP_EPOLLOUT, CEP_EPOLLIN, CEP_EPOLLRDHUP] {
            XCTAssertNotEqual(bits & flag, 0, "missing bit \(flag)")
        }
        XCTAssertNil(TriggerMode.edge.eventsWhileOutputPending, "edge mode never calls epoll_ctl after ADD")
        XCTAssertNil(TriggerMode.edge.eventsAfterOutputDrained)
    }

    func testLevelConnectionsAskForWritableOnlyWhileOutputPends() throws {
        let initial = TriggerMode.level.connectionEvents
        XCTAssertEqual(initial & CEP_EPOLLOUT, 0)
        XCTAssertEqual(initial & CEP_EPOLLET, 0)
        XCTAssertNotEqual(initial & CEP_EPOLLIN, 0)

        let pending = try XCTUnwrap(TriggerMode.level.eventsWhileOutputPending)
        XCTAssertNotEqual(pending & CEP_EPOLLOUT, 0)
        XCTAssertEqual(pending & CEP_EPOLLIN, 0, "a client that does not read is not read from")
        XCTAssertEqual(TriggerMode.level.eventsAfterOutputDrained, initial)
    }

    func testListenerEventsSetExclusiveOnlyForSharedListener() {
        for mode in [TriggerMode.level, .edge] {
            XCTAssertNotEqual(mode.listenerEvents(exclusive: true) & CEP_EPOLLEXCLUSIVE, 0)
            XCTAssertEqual(mode.listenerEvents(exclusive: false) & CEP_EPOLLEXCLUSIVE, 0)
            XCTAssertNotEqual(mode.listenerEvents(exclusive: false) & CEP_EPOLLIN, 0)
        }
        XCTAssertNotEqual(TriggerMode.edge.listenerEvents(exclusive: false) & CEP_EPOLLET, 0)
        XCTAssertEqual(TriggerMode.level.listenerEvents(exclusive: false) & CEP_EPOLLET, 0)
    }
}

/// What the interrupting thread of `testInterruptedWaitReturnsZeroEvents` needs.
private struct Interruption {
    let target: pthread_t
    let stopFD: Int32
}
