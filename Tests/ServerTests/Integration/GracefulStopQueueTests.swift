// A graceful stop of the whole server and the clients at its door. One whose
// handshake the kernel completed before the stop (waiting, under
// TCP_DEFER_ACCEPT, for its first bytes) is served, not reset when the listener
// closes; one that connects during the drain gets no answer to its SYN and is
// refused once the server is gone, never connected and then reset. One worker,
// so the request held in flight keeps that worker's drain, and its listener, open.
import Glibc
import TestSupport
import XCTest

final class GracefulStopQueueTests: XCTestCase {
    private static let modes: [(name: String, flags: [String])] = [("shared listener", []), ("reuseport", ["--reuseport"])]

    /// A server whose only worker has begun draining with a request in flight (the returned client's).
    private func drainingServer(_ flags: [String], before: (ServerProcess) throws -> Void) throws -> (ServerProcess, TestClient) {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--graceful-timeout", "10"] + flags)
        let inFlight = try TestClient(port: server.port)
        try inFlight.send("GET / HTTP/1.1\r\nHost: test\r\n")
        XCTAssertTrue(ServerProcess.eventually { inFlight.serverHasReadEverythingSent() }, "the worker holds the request in flight")
        let idle = try TestClient(port: server.port)
        XCTAssertEqual(try idle.get("/").status, 200)
        try before(server)
        kill(server.pid, SIGQUIT)
        XCTAssertTrue(idle.readsEndOfStream(), "the drain has begun: the idle keep-alive connection is closed")
        return (server, inFlight)
    }

    private func finish(_ server: ServerProcess, _ inFlight: TestClient, _ mode: String) throws {
        try inFlight.send("\r\n")
        XCTAssertEqual(try inFlight.readResponse().status, 200, mode)
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 5000).flatMap(exitCode(ofWaitStatus:)), 0, "\(mode): exits once done")
    }

    func testQUITServesAClientWhoseHandshakeCompletedBeforeTheStop() throws {
        for mode in Self.modes {
            var late: TestClient?
            let (server, inFlight) = try drainingServer(mode.flags) { server in
                late = try TestClient(port: server.port)
                XCTAssertTrue(ServerProcess.eventually { late?.serverEnd()?.state == TCPSocketRow.synReceived },
                              "\(mode.name): connected, the server's end waiting for the first bytes")
            }
            try late!.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            do {
                let response = try late!.readResponse()
                XCTAssertEqual(response.status, 200, mode.name)
                XCTAssertEqual(response.header("Connection"), "close", mode.name)
            } catch {
                XCTFail("\(mode.name): the request sent during the drain was lost: \(error)")
            }
            try finish(server, inFlight, mode.name)
        }
    }

    func testQUITLeavesAClientThatConnectsDuringTheDrainRefusedNeverReset() throws {
        for mode in Self.modes {
            let (server, inFlight) = try drainingServer(mode.flags) { _ in }
            let knocking = try PendingConnection(port: server.port)
            try finish(server, inFlight, mode.name)
            // Its SYN went unanswered; a retransmission (the first after 1 s) meets the closed port.
            XCTAssertEqual(knocking.outcome(withinMilliseconds: 8000), ECONNREFUSED,
                           "\(mode.name): refused, not connected to a listener about to close")
        }
    }
}
