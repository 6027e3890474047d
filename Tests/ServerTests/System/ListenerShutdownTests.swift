// ListenerShutdown against the real kernel: a listener that stopped answering
// SYNs still hands over what it had queued, and a client knocking meanwhile is
// refused once the socket closes rather than connected and then reset; a
// socket that outlives the server is left as it was found.
import Glibc
import TestSupport
import XCTest

@testable import Server

final class ListenerShutdownTests: XCTestCase {
    func testAListenerThatStoppedHandshakesKeepsItsQueueAndLeavesNewClientsToBeRefused() throws {
        let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { listener.close() }
        let queued = try TestClient(port: listener.port)
        try queued.send("hello")  // TCP_DEFER_ACCEPT queues a connection once its first bytes are there
        XCTAssertTrue(ServerProcess.eventually { queued.serverEndIsEstablished() }, "the connection waits in the accept queue")

        XCTAssertTrue(try ListenerShutdown.stopHandshakes(listener))
        let knocking = try PendingConnection(port: listener.port)
        let accepted = try XCTUnwrap(try listener.accept(), "what was queued before is still handed over")
        defer { accepted.close() }

        listener.close()
        // Its SYN went unanswered; the retransmission (after 1 s) meets the closed port.
        XCTAssertEqual(knocking.outcome(withinMilliseconds: 5000), ECONNREFUSED, "refused, not connected to a socket about to close")
    }

    func testASocketThatOutlivesTheServerKeepsAnsweringHandshakes() throws {
        let opened = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
        defer { opened.close() }
        let passed = try Listener.adopt(fd: dup(opened.fd), outlivesServer: true)
        defer { passed.close() }
        XCTAssertFalse(try ListenerShutdown.stopHandshakes(passed))
        let client = try PendingConnection(port: passed.port)
        XCTAssertEqual(client.outcome(withinMilliseconds: 5000), 0, "the socket is left as socket activation passed it")
    }
}
