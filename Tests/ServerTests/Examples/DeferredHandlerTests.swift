// Deferred handlers against the example server (Examples/ExampleServer's
// DeferredRoutes): work on the handler pool or in a task does not stall the
// worker's loop, pipelined answers keep their order, a graceful stop waits for
// the work, a handler past its timeout gets 503, and a client leaving mid-work
// costs nothing. One worker throughout, so "the same worker" is the only one.
import Glibc
import TestSupport
import XCTest

final class DeferredHandlerTests: XCTestCase {
    private static let triggerModes: [[String]] = [[], ["--edge-triggered"]]

    private func startServer(_ flags: [String] = []) throws -> ServerProcess {
        try ServerProcess(["--host", "127.0.0.1", "--workers", "1"] + flags, executable: "example-server")
    }

    private static func request(_ target: String, close: Bool = false) -> String {
        "GET \(target) HTTP/1.1\r\nHost: t\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n"
    }

    func testTheWorkerKeepsAnsweringHealthWhile32PoolSleepsAreInFlight() throws {
        for flags in Self.triggerModes {
            let server = try startServer(["--handler-threads", "32"] + flags)
            var sleepers: [TestClient] = []
            for _ in 0..<32 {
                let client = try TestClient(port: server.port, timeoutSeconds: 20)
                try client.send(Self.request("/example/sleep?ms=3000"))
                sleepers.append(client)
            }
            // Ten health checks one after another, each on a new connection: by the last, the
            // worker has long read every sleep request (they were sent first).
            for round in 0..<10 {
                let health = try TestClient(port: server.port).get("/health")
                XCTAssertEqual(health.status, 200, "\(flags) round \(round)")
            }
            let answered = sleepers.filter { $0.isReadable(withinMilliseconds: 0) }.count
            XCTAssertEqual(answered, 0, "\(flags): the health checks were answered while every sleep was still outstanding")
            for (index, client) in sleepers.enumerated() {
                let response = try client.readResponse()
                XCTAssertEqual(response.status, 200, "\(flags): sleep \(index)")
                XCTAssertEqual(response.body, "slept 3000 ms\n", "\(flags): sleep \(index)")
            }
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testPipelinedRequestsBehindDeferredOnesAreAnsweredInRequestOrder() throws {
        for flags in Self.triggerModes {
            let server = try startServer(flags)
            let client = try TestClient(port: server.port)
            // All four in one write; then the same again, the rest sent once the first is deferred
            // (a health check on another connection has been answered since), so it arrives as new input.
            for split in [false, true] {
                let rest = Self.request("/health") + Self.request("/example/async-sleep?ms=50") + Self.request("/", close: split)
                let first = Self.request("/example/sleep?ms=500")
                if split {
                    try client.send(first)
                    XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200)
                    try client.send(rest)
                } else {
                    try client.send(first + rest)
                }
                let bodies = try (0..<4).map { _ in try client.readResponse().body }
                XCTAssertEqual(bodies[0], "slept 500 ms\n", "\(flags) split \(split)")
                XCTAssertEqual(bodies[1], try TestClient(port: server.port).get("/health").body, "\(flags) split \(split)")
                XCTAssertEqual(bodies[2], "slept 50 ms\n", "\(flags) split \(split)")
                XCTAssertTrue(bodies[3].hasPrefix("pid "), "\(flags) split \(split): \(bodies[3])")
            }
            XCTAssertTrue(client.readsEndOfStream(), "\(flags): Connection: close ends it after the last")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testAGracefulStopAnswersDeferredRequestsInFlightThenExits() throws {
        let server = try startServer(["--graceful-timeout", "10"])
        var clients: [TestClient] = []
        for target in ["/example/sleep?ms=1000", "/example/async-sleep?ms=1000", "/example/sleep?ms=500"] {
            let client = try TestClient(port: server.port, timeoutSeconds: 15)
            try client.send(Self.request(target))
            clients.append(client)
        }
        // Answered after the sleeps were sent: the worker has read them.
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200)
        XCTAssertEqual(clients.filter { $0.isReadable(withinMilliseconds: 0) }.count, 0, "the sleeps are still running")
        kill(server.pid, SIGQUIT)
        for (index, client) in clients.enumerated() {
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, "request \(index) is answered, not dropped")
            XCTAssertEqual(response.header("Connection"), "close", "request \(index)")
        }
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 10_000).flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testADeferredRequestPastItsTimeoutGets503AndItsLateAnswerIsDropped() throws {
        for flags in Self.triggerModes {
            let server = try startServer(["--handler-timeout", "0.3"] + flags)
            for target in ["/example/sleep?ms=2000", "/example/async-sleep?ms=2000"] {
                let client = try TestClient(port: server.port)
                try client.send(Self.request(target))
                let response = try client.readResponse()
                XCTAssertEqual(response.status, 503, "\(flags) \(target)")
                XCTAssertEqual(response.header("Connection"), "close", "\(flags) \(target)")
                XCTAssertTrue(client.readsEndOfStream(), "\(flags) \(target): nothing follows the 503")
            }
            // The late answers arrive meanwhile and are dropped; the worker goes on serving.
            XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "\(flags)")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testClientsThatLeaveMidDeferCostTheWorkerNothing() throws {
        for flags in Self.triggerModes {
            let server = try startServer(flags)
            // Warm up: the pool's threads and the concurrency runtime's descriptors (libdispatch's epoll,
            // eventfd and timerfd) are made on first use, and stay.
            XCTAssertEqual(try TestClient(port: server.port).get("/example/sleep?ms=1").status, 200)
            XCTAssertEqual(try TestClient(port: server.port).get("/example/async-sleep?ms=1").status, 200)
            let workers = server.workerPIDs()
            let worker = try XCTUnwrap(workers.first)
            let baseline = Self.openDescriptors(of: worker)
            for round in 0..<20 {
                try Self.sendAndLeave(round % 2 == 0 ? "/example/sleep?ms=60000" : "/example/async-sleep?ms=60000", to: server)
                XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "\(flags) round \(round)")
            }
            // Long before the work ends (its answer will be dropped), the connections are closed.
            XCTAssertTrue(ServerProcess.eventually { Self.openDescriptors(of: worker) <= baseline },
                          "\(flags): \(Self.openDescriptors(of: worker)) descriptors open, \(baseline) before")
            XCTAssertEqual(server.workerPIDs(), workers, "\(flags): the same worker")
            XCTAssertEqual(try TestClient(port: server.port).get("/example/sleep?ms=1").status, 200, "\(flags)")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testTheOtherModelsAnswerDeferredRequestsInOrder() throws {
        let models: [[String]] = [["--model", "reactor"], ["--model", "prefork", "--workers", "1"], ["--model", "serial"],
                                  ["--model", "thread-pool", "--threads", "2"], ["--model", "thread-per-connection"],
                                  ["--model", "process-per-connection"]]
        for flags in models {
            let server = try ServerProcess(["--host", "127.0.0.1"] + flags, executable: "example-server")
            let client = try TestClient(port: server.port)
            try client.send(Self.request("/example/sleep?ms=20") + Self.request("/example/async-sleep?ms=10")
                            + Self.request("/health", close: true))
            XCTAssertEqual(try client.readResponse().body, "slept 20 ms\n", "\(flags)")
            XCTAssertEqual(try client.readResponse().body, "slept 10 ms\n", "\(flags)")
            XCTAssertEqual(try client.readResponse().status, 200, "\(flags)")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0, "\(flags)")
        }
    }

    /// Sends `target` and closes the connection (the client's deinit) without reading the answer.
    private static func sendAndLeave(_ target: String, to server: ServerProcess) throws {
        let client = try TestClient(port: server.port)
        try client.send(request(target))
        // Read by the worker (and so deferred) before the client goes: answered after it.
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200)
    }

    /// The worker's open sockets (a connection left open is one). Other descriptors are left out:
    /// the concurrency runtime makes its timerfd when it first arms a timer, which may be after
    /// the warm-up's answer (seen: a timerfd appearing during the rounds, 1 run in 4).
    private static func openDescriptors(of pid: pid_t) -> Int {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return -1 }
        return entries.filter { entry in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(entry)"))?.hasPrefix("socket:") == true
        }.count
    }
}
