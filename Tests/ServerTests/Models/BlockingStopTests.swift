// The blocking models under the operations that end a process or thread while
// it serves: a graceful stop lets the request in hand finish, a refused client
// holds a process only for the linger timeout, and ending threads are always joined.
import Glibc
import TestSupport
import XCTest

@testable import Server

final class BlockingStopTests: XCTestCase {
    /// The reviewer's case: a keep-alive client has its next request half-sent when
    /// QUIT arrives. It must be answered (and told the connection closes), not cut.
    func testBlockingModelsAnswerAHalfSentRequestWhenToldToStopGracefully() throws {
        let models: [[String]] = [["--model", "prefork", "--workers", "1"], ["--model", "serial"],
                                  ["--model", "thread-pool", "--threads", "2"], ["--model", "thread-per-connection"],
                                  ["--model", "process-per-connection"]]
        for flags in models {
            let server = try ServerProcess(["--host", "127.0.0.1", "--graceful-timeout", "3"] + flags)
            let client = try TestClient(port: server.port)
            XCTAssertEqual(try client.get("/").status, 200, "\(flags)")
            try client.send("GET / HTTP/1.1\r\nHost: te")
            XCTAssertTrue(ServerProcess.eventually { client.serverHasReadEverythingSent() }, "\(flags): the half request is read")
            kill(server.pid, SIGQUIT)
            XCTAssertTrue(ServerProcess.eventually { server.isAtRest() }, "\(flags): the server has acted on QUIT")
            try client.send("st\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, "\(flags): the request in flight is answered")
            XCTAssertEqual(response.header("Connection"), "close", "\(flags)")
            XCTAssertTrue(client.readsEndOfStream(), "\(flags): then the connection ends")
            XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 5000).flatMap(exitCode(ofWaitStatus:)), 0, "\(flags)")
        }
    }

    /// While one process or thread finishes its request, the idle one sweeps the queue;
    /// the listener answers no new SYN meanwhile, so a client that connects then is
    /// refused once the server is gone, rather than connected to a socket about to close.
    func testBlockingModelsLeaveAClientThatConnectsDuringTheDrainRefusedNeverReset() throws {
        for flags in [["--model", "prefork", "--workers", "2"], ["--model", "thread-pool", "--threads", "2"]] {
            let server = try ServerProcess(["--host", "127.0.0.1", "--graceful-timeout", "5"] + flags)
            let inFlight = try TestClient(port: server.port)
            try inFlight.send("GET / HTTP/1.1\r\nHost: te")
            XCTAssertTrue(ServerProcess.eventually { inFlight.serverHasReadEverythingSent() }, "\(flags): the half request is read")
            kill(server.pid, SIGQUIT)
            XCTAssertTrue(ServerProcess.eventually { server.isAtRest() }, "\(flags): the server has acted on QUIT")
            let knocking = try PendingConnection(port: server.port)
            try inFlight.send("st\r\n\r\n")
            XCTAssertEqual(try inFlight.readResponse().status, 200, "\(flags)")
            XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 5000).flatMap(exitCode(ofWaitStatus:)), 0, "\(flags)")
            // Its SYN went unanswered; a retransmission (the first after 1 s) meets the closed port.
            XCTAssertEqual(knocking.outcome(withinMilliseconds: 8000), ECONNREFUSED, "\(flags): refused, never connected")
        }
    }

    /// An idle keep-alive connection is closed cleanly on QUIT, and the server exits
    /// at once rather than at the keep-alive or graceful timeout.
    func testPreforkClosesAnIdleKeepAliveConnectionWhenToldToStopGracefully() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--model", "prefork", "--workers", "1", "--graceful-timeout", "5"])
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/").status, 200)
        let started = Launch.now()
        kill(server.pid, SIGQUIT)
        XCTAssertTrue(client.readsEndOfStream(), "the idle connection is closed")
        XCTAssertLessThan(Launch.now() - started, 1000, "at once")
        client.shutdownWrite()  // ends the worker's lingering close
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 5000).flatMap(exitCode(ofWaitStatus:)), 0)
        XCTAssertLessThan(Launch.now() - started, 1500, "nothing in flight: the worker leaves at once")
    }

    /// The lingering close after a refusal waits the linger timeout (2 s), not the
    /// header timeout first (10 s more): a serial server is only that long unavailable.
    func testSerialServerServesTheNextClientWithinTheLingerTimeoutAfterRefusingASilentOne() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--model", "serial"])
        let refused = try TestClient(port: server.port)
        try refused.send("NOT A REQUEST\r\n\r\n")
        let started = Launch.now()
        XCTAssertEqual(try refused.readResponse().status, 400)
        let next = try TestClient(port: server.port, timeoutSeconds: 8)
        XCTAssertEqual(try next.get("/health").status, 200, "the next client is served")
        XCTAssertLessThan(Launch.now() - started, 4000, "after the linger timeout, not the header timeout")
        _ = refused
    }

    /// Many more ends than a pipe holds bytes (a pipe took 8,192 eight-byte posts,
    /// --max-threads allows 10,000): every one is taken, and the doorbell is
    /// readable exactly while some are waiting.
    func testThreadPerConnectionKeepsItsCapacityAfterManyConnections() throws {
        let finished = try FinishedThreads()
        defer { finished.close() }
        let posters = 4, each = 5_000
        DispatchQueue.concurrentPerform(iterations: posters) { poster in
            for index in 0..<each { finished.post(pthread_t(poster * each + index + 1)) }
        }
        XCTAssertEqual(try Waiting.readableNow([finished.doorbell.readEnd]), [true], "the doorbell rang")
        let taken = finished.take()
        XCTAssertEqual(taken.count, posters * each, "no end is lost")
        XCTAssertEqual(Set(taken).count, posters * each)
        XCTAssertEqual(try Waiting.readableNow([finished.doorbell.readEnd]), [false], "nothing left to ring for")
        finished.post(pthread_t(1))
        XCTAssertEqual(try Waiting.readableNow([finished.doorbell.readEnd]), [true], "a later end rings again")
        XCTAssertEqual(finished.take(), [pthread_t(1)])
    }
}
