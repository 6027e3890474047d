// Listener against the real kernel: port 0, IPv4 and IPv6 loopback, address
// conflicts, SO_REUSEPORT sharing, and accept4 with and without a pending client.
import CEventPoll
import Glibc
import TestSupport
import XCTest

@testable import ServerSystem
@testable import Server

final class ListenerTests: XCTestCase {
    /// TCP_NODELAY from <netinet/tcp.h> (the same value on every Linux architecture).
    private static let tcpNoDelay: Int32 = 1

    func testPortZeroBindsAKernelChosenPort() throws {
        let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { listener.close() }
        XCTAssertGreaterThan(listener.port, 0)
        XCTAssertGreaterThanOrEqual(listener.fd, 0)
    }

    func testListenerIsNonBlockingAndCloseOnExec() throws {
        let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { listener.close() }
        XCTAssertNotEqual(fcntl(listener.fd, F_GETFL) & O_NONBLOCK, 0)
        XCTAssertNotEqual(fcntl(listener.fd, F_GETFD) & FD_CLOEXEC, 0)
    }

    func testIPv6LoopbackListens() throws {
        let listener = try openIPv6LoopbackOrSkip()
        defer { listener.close() }
        XCTAssertGreaterThan(listener.port, 0)
    }

    func testSecondListenerOnSamePortFailsWithAddressInUse() throws {
        let first = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { first.close() }
        do {
            let second = try Listener.open(host: "127.0.0.1", port: first.port, backlog: 16, reusePort: false)
            second.close()
            XCTFail("a second listener bound port \(first.port)")
        } catch {
            XCTAssertEqual(error.errno, EADDRINUSE)
            XCTAssertTrue(error.call.hasPrefix("bind("), error.call)
            XCTAssertEqual(error.call, "bind(127.0.0.1:\(first.port))")
            XCTAssertEqual(error.description, "bind(127.0.0.1:\(first.port)): Address already in use (errno \(EADDRINUSE))")
        }
    }

    func testAddressInUseOnIPv6NamesTheAddressInBrackets() throws {
        let first = try openIPv6LoopbackOrSkip()
        defer { first.close() }
        XCTAssertThrowsError(try Listener.open(host: "::1", port: first.port, backlog: 16, reusePort: false).close()) {
            let error = $0 as? SystemError
            XCTAssertEqual(error?.errno, EADDRINUSE)
            XCTAssertEqual(error?.call, "bind([::1]:\(first.port))")
        }
    }

    func testReusePortListenersShareOnePort() throws {
        let first = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: true)
        defer { first.close() }
        let second = try Listener.open(host: "127.0.0.1", port: first.port, backlog: 16, reusePort: true)
        defer { second.close() }
        XCTAssertEqual(second.port, first.port)
        XCTAssertNotEqual(second.fd, first.fd)
    }

    func testClosingTwiceLeavesADescriptorReusedInBetweenOpen() throws {
        let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        listener.close()
        // The lowest free number: the one the listener just gave up.
        let reused = dup(0)
        defer { close(reused) }
        XCTAssertEqual(reused, listener.fd)
        listener.close()
        XCTAssertNotEqual(fcntl(reused, F_GETFD), -1, "the second close left fd \(reused) alone")
    }

    func testSteeringSendsNewConnectionsOnlyToTheFirstSocketsAndSpreadsThem() throws {
        let group = try (0..<3).reduce(into: [Listener]()) { opened, _ in
            opened.append(try Listener.open(host: "127.0.0.1", port: opened.first?.port ?? 0, backlog: 64, reusePort: true))
        }
        defer { group.forEach { $0.close() } }
        try ReuseportGroup.steer(group[0], toFirst: 2)
        var clients: [Int32] = []
        defer { clients.forEach { close($0) } }
        for _ in 0..<40 {
            let client = try connectBlockingClient(port: group[0].port)
            clients.append(client)
            XCTAssertEqual(write(client, "x", 1), 1)
        }
        XCTAssertTrue(ServerProcess.eventually { group.map { ReuseportGroup.queuedConnections($0) ?? 0 }.reduce(0, +) == 40 },
                      "every connection has its byte and waits in an accept queue")
        let queued = group.map { ReuseportGroup.queuedConnections($0) ?? -1 }
        XCTAssertEqual(queued[2], 0, "the steered-away socket receives nothing: \(queued)")
        XCTAssertEqual(queued[0] + queued[1], 40, "\(queued)")
        XCTAssertGreaterThan(min(queued[0], queued[1]), 5, "both active sockets get connections: \(queued)")
        ReuseportGroup.stopSteering(group[0])
    }

    func testNonNumericHostFailsInInetPton() {
        do {
            let listener = try Listener.open(host: "not-an-ip", port: 8080, backlog: 16, reusePort: false)
            listener.close()
            XCTFail("'not-an-ip' was accepted as an address")
        } catch {
            XCTAssertEqual(error.errno, EINVAL)
            XCTAssertTrue(error.call.hasPrefix("inet_pton("), error.call)
            XCTAssertEqual(error.call, "inet_pton(not-an-ip:8080)")
        }
    }

    func testAcceptReturnsNilWhenNoConnectionIsPending() throws {
        let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { listener.close() }
        XCTAssertNil(try listener.accept())
    }

    func testAcceptReturnsNonBlockingSocketForConnectedClient() throws {
        let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { listener.close() }
        let client = try connectBlockingClient(port: listener.port)
        defer { close(client) }
        // The first bytes release the deferred accept (TCP_DEFER_ACCEPT).
        let message = Array("ping".utf8)
        XCTAssertEqual(write(client, message, message.count), message.count)

        let accepted = try XCTUnwrap(try acceptWhenReady(listener))
        defer { accepted.close() }
        XCTAssertNotEqual(fcntl(accepted.fd, F_GETFL) & O_NONBLOCK, 0, "accept4 sets SOCK_NONBLOCK")
        XCTAssertNotEqual(fcntl(accepted.fd, F_GETFD) & FD_CLOEXEC, 0, "accept4 sets SOCK_CLOEXEC")

        // The accepted socket really is the client's peer, and the request is already there.
        var storage = [UInt8](repeating: 0, count: 16)
        let outcome = try pollThenRead(accepted, into: &storage)
        XCTAssertEqual(outcome, .bytes(message.count))
        XCTAssertNil(try listener.accept(), "the only pending connection was taken")
    }

    func testAcceptWaitsForTheClientsFirstBytes() throws {
        let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { listener.close() }
        let client = try connectBlockingClient(port: listener.port)
        defer { close(client) }
        var poller = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&poller, 1, 100), 0, "a silent connection is not handed over yet")
        XCTAssertEqual(write(client, "G", 1), 1)
        XCTAssertNotNil(try acceptWhenReady(listener).map { $0.close() }, "its first byte releases it")
    }

    func testAcceptedSocketInheritsNoDelayFromListener() throws {
        let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { listener.close() }
        let client = try connectBlockingClient(port: listener.port)
        defer { close(client) }
        XCTAssertEqual(write(client, "G", 1), 1)
        let accepted = try XCTUnwrap(try acceptWhenReady(listener))
        defer { accepted.close() }

        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        XCTAssertEqual(getsockopt(accepted.fd, Int32(IPPROTO_TCP), Self.tcpNoDelay, &value, &length), 0)
        XCTAssertNotEqual(value, 0, "TCP_NODELAY is off on the accepted socket")
    }

    // MARK: Helpers

    /// A listener on [::1]:0, or XCTSkip when this machine has no IPv6 loopback.
    private func openIPv6LoopbackOrSkip() throws -> Listener {
        do {
            return try Listener.open(host: "::1", port: 0, backlog: 16, reusePort: false)
        } catch {
            guard error.errno == EAFNOSUPPORT || error.errno == EADDRNOTAVAIL else { throw error }
            throw XCTSkip("IPv6 loopback is unavailable here: \(error)")
        }
    }

    /// A blocking IPv4 client connected to 127.0.0.1:port.
    private func connectBlockingClient(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw SystemError(call: "connect(127.0.0.1:\(port))", errno: code)
        }
        return fd
    }

    /// Waits (bounded) until the listener has a connection queued, then accepts it.
    private func acceptWhenReady(_ listener: Listener) throws -> Socket? {
        XCTAssertTrue(waitReadable(listener.fd), "no connection arrived at the listener")
        return try listener.accept()
    }

    private func pollThenRead(_ socket: borrowing Socket, into storage: inout [UInt8]) throws -> ReadOutcome {
        XCTAssertTrue(waitReadable(socket.fd), "no bytes arrived")
        // A closure cannot capture a borrowed socket: it reads through a second handle on
        // the same descriptor, which closes nothing (the caller closes `socket`).
        let fd = socket.fd
        return try storage.withUnsafeMutableBytes { buffer throws(SystemError) in try Socket(fd: fd).read(into: buffer) }
    }

    /// poll(2) for POLLIN, up to 20 rounds of 100 ms.
    private func waitReadable(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        for _ in 0..<20 {
            if poll(&entry, 1, 100) == 1 { return true }
        }
        return false
    }
}
