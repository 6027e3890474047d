// The bounds that keep a flood from forking or threading the machine to death,
// and the flags each model refuses.
import Glibc
import TestSupport
import XCTest

final class ModelBoundTests: XCTestCase {
    func testProcessPerConnectionNeverHasMoreChildrenThanMaxChildren() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--model", "process-per-connection", "--max-children", "3"])
        try checkBound(3, on: server, count: { server.workerPIDs().count })
    }

    func testThreadPerConnectionNeverHasMoreThreadsThanMaxThreads() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--model", "thread-per-connection", "--max-threads", "3"])
        // The main thread accepts; the bound is on the threads serving connections.
        try checkBound(3, on: server, count: { server.threadIDs().count - 1 })
    }

    /// Ten clients each send a request and stay connected: the server reaches the
    /// bound and goes no further; as clients leave, the waiting ones are served.
    private func checkBound(_ bound: Int, on server: ServerProcess, count: () -> Int,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let clients = try (0..<10).map { _ in try TestClient(port: server.port) }
        for client in clients { try client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n") }
        var highest = 0
        _ = ServerProcess.eventually { highest = max(highest, count()); return highest >= bound }
        // Then a window of watching, part of the scenario: the seven clients still waiting
        // must not get a process or thread of their own meanwhile. The pause is the sampling pace.
        let deadline = Launch.now() + 500
        while Launch.now() < deadline {
            highest = max(highest, count())
            usleep(10_000)
        }
        XCTAssertEqual(highest, bound, "reaches the bound and never passes it", file: file, line: line)
        for (index, client) in clients.enumerated() {
            XCTAssertEqual(try client.readResponse().status, 200, "client \(index) is served in turn", file: file, line: line)
            client.shutdownWrite()
            XCTAssertTrue(client.readsEndOfStream(), "client \(index)'s connection ends", file: file, line: line)
            XCTAssertLessThanOrEqual(count(), bound, file: file, line: line)
        }
        XCTAssertTrue(ServerProcess.eventually { count() == 0 }, "every child or thread ends with its client", file: file, line: line)
    }

    /// A blocking model serves one connection per process or thread: the timeouts are what stop a
    /// stalled or idle client from holding it for ever.
    func testStalledAndIdleClientsCannotHoldTheSerialServer() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--model", "serial",
                                        "--header-timeout", "0.3", "--keepalive-timeout", "0.3"])
        let stalled = try TestClient(port: server.port)
        try stalled.send("GET / HTTP/1.1\r\nHost: te")
        let started = Launch.now()
        XCTAssertEqual(try stalled.readResponse().status, 408, "a half-sent head times out")
        stalled.shutdownWrite()  // ends the server's lingering close at once
        let idle = try TestClient(port: server.port)
        XCTAssertEqual(try idle.get("/health").status, 200, "the next client is served")
        XCTAssertTrue(idle.readsEndOfStream(), "an idle keep-alive connection is closed")
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "and the next one served")
        XCTAssertLessThan(Launch.now() - started, 3000, "within the timeouts, not the client's patience")
    }

    func testFlagsAreRefusedWhereTheyMeanNothing() throws {
        let refusals: [([String], String)] = [
            (["--model", "serial", "--workers", "2"], "--workers applies only to the prefork and hybrid models"),
            (["--model", "reactor", "--reuseport"], "--reuseport applies only to the prefork and hybrid models"),
            (["--model", "prefork", "--edge-triggered"], "--edge-triggered applies only to the reactor and hybrid models"),
            (["--model", "hybrid", "--threads", "4"], "--threads applies only to the thread-pool model"),
            (["--model", "serial", "--max-children", "4"], "--max-children applies only to the process-per-connection model"),
            (["--model", "thread-pool", "--max-threads", "4"], "--max-threads applies only to the thread-per-connection model"),
            (["--model", "thread-pool", "--max-connections", "4"], "--max-connections applies only to the reactor and hybrid models"),
        ]
        for (arguments, message) in refusals {
            XCTAssertEqual(try refusal(arguments), "server: \(message)\n", "\(arguments)")
        }
        XCTAssertTrue(try refusal(["--model", "threads"]).contains("'threads'"), "an unknown model is named")
        XCTAssertTrue(try refusal(["--protocol", "smtp"]).contains("'smtp'"), "an unknown protocol is named")
    }

    /// Runs the server with `arguments`, expects it to fail before starting, returns its stderr.
    private func refusal(_ arguments: [String]) throws -> String {
        let result = try Launch.runToEnd(ServerProcess.executablePath, arguments + ["--port", "0"])
        XCTAssertNotEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, "\(arguments) fails")
        XCTAssertEqual(result.stdout, "", "\(arguments): nothing starts")
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): one line: \(result.stderr)")
        return result.stderr
    }
}
