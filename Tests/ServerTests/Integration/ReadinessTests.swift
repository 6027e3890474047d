// Readiness and the stop a balancer can follow, against the real binary:
// /readyz answers 503 until every worker serves and from the first moment of
// a drain, /livez answers 200 throughout; --drain-delay keeps accepting and
// serving before the graceful stop; --graceful-sigterm makes TERM that stop.
import Foundation
import Glibc
import TestSupport
import XCTest

final class ReadinessTests: XCTestCase {
    private func status(_ path: String, port: Int) -> Int? {
        try? TestClient(port: port).get(path).status
    }

    private func startedServer(_ flags: [String], executable: String = "server", workers: Int = 2) throws -> ServerProcess {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "\(workers)"] + flags, executable: executable)
        XCTAssertTrue(ServerProcess.eventually { self.status("/readyz", port: server.port) == 200 }, "the server becomes ready")
        return server
    }

    /// example-server with two workers that each wait, before serving, for a file named for their
    /// pid in `directory`; the first is let through and answers. Returns the server and both workers.
    private func serverWithOneOfTwoWorkersServing(_ directory: String) throws -> (ServerProcess, [pid_t]) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        setenv("EXAMPLE_WARM_UP_DIRECTORY", directory, 1)
        defer { unsetenv("EXAMPLE_WARM_UP_DIRECTORY") }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2"], executable: "example-server")
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 }, "both workers forked")
        let workers = server.workerPIDs().sorted()
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(directory)/\(workers[0])", contents: nil))
        // Only the first worker accepts: its answers are the server's while the second warms up.
        let starting = Self.firstAnswer { try TestClient(port: server.port).get("/readyz") }
        XCTAssertEqual(starting?.status, 503, "one of two workers serving is not ready")
        XCTAssertEqual(starting?.body, "starting\n")
        return (server, workers)
    }

    func testReadyzAnswers503UntilEveryWorkerServesThen200() throws {
        let directory = NSTemporaryDirectory() + "readiness-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (server, workers) = try serverWithOneOfTwoWorkersServing(directory)
        XCTAssertEqual(status("/livez", port: server.port), 200, "but it is alive")
        XCTAssertEqual(status("/health", port: server.port), 200, "/health keeps its meaning: not draining")
        XCTAssertEqual(try PrometheusText(TestClient(port: server.port).get("/metrics").body).value("prefork_ready"), 0)
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(directory)/\(workers[1])", contents: nil))
        XCTAssertTrue(ServerProcess.eventually { self.status("/readyz", port: server.port) == 200 }, "ready once both serve")
        XCTAssertEqual(try TestClient(port: server.port).get("/readyz").body, "ready\n")
        XCTAssertEqual(try PrometheusText(TestClient(port: server.port).get("/metrics").body).value("prefork_ready"), 1)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAWorkerWritingTheSharedRegionCannotMakeTheServerReady() throws {
        let directory = NSTemporaryDirectory() + "readiness-forged-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (server, workers) = try serverWithOneOfTwoWorkersServing(directory)
        // What a compromised serving worker could write: 1 in every cell, the server's `ready`
        // and every worker's record included (the other worker's too).
        try SharedRegion(of: workers[0]).fill(with: 1)
        XCTAssertTrue(ServerProcess.eventually { (try? TestClient(port: server.port).get("/readyz").body) == "starting\n" },
                      "the master writes its own answer back: still starting")
        XCTAssertFalse(server.standardError().contains("workers are serving: ready"), "the master was not misled")
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(directory)/\(workers[1])", contents: nil))
        XCTAssertTrue(ServerProcess.eventually { self.status("/readyz", port: server.port) == 200 }, "ready once both serve")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testReadyzAnswers200WhenTheWorkersRunAsAnotherUser() throws {
        try XCTSkipIf(getuid() != 0, "dropping to another user needs root")
        let server = try startedServer(["--user", "nobody"])
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testDrainDelayServesNewConnectionsWithReadyz503ThenStopsGracefully() throws {
        let server = try startedServer(["--drain-delay", "4", "--graceful-timeout", "5"])
        let inFlight = try TestClient(port: server.port)
        try inFlight.send("GET / HTTP/1.1\r\nHost: test\r\n")
        XCTAssertTrue(ServerProcess.eventually { inFlight.serverHasReadEverythingSent() }, "a worker has the half request")
        kill(server.pid, SIGQUIT)
        XCTAssertTrue(ServerProcess.eventually { self.status("/readyz", port: server.port) == 503 }, "/readyz answers 503 at once")
        // Still within the delay: the master logs when the graceful stop itself begins.
        XCTAssertFalse(server.standardError().contains("stopping gracefully:"), "the stop waits for the delay")
        let fresh = try TestClient(port: server.port)
        XCTAssertEqual(try fresh.get("/").status, 200, "a new connection is accepted and served")
        XCTAssertEqual(try fresh.get("/livez").status, 200, "alive while draining")
        XCTAssertEqual(try fresh.get("/health").status, 503, "/health says draining, as before")
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 15_000) { server.standardError().contains("stopping gracefully:") },
                      "after the delay the graceful stop proceeds")
        try inFlight.send("\r\n")
        let response = try inFlight.readResponse()
        XCTAssertEqual(response.status, 200, "the request in flight completes")
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 10_000).flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testSecondQUITDuringTheDrainDelayStopsGracefullyAtOnce() throws {
        let server = try startedServer(["--drain-delay", "120"])
        kill(server.pid, SIGQUIT)
        XCTAssertTrue(ServerProcess.eventually { self.status("/readyz", port: server.port) == 503 }, "draining")
        kill(server.pid, SIGQUIT)
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 10_000).flatMap(exitCode(ofWaitStatus:)), 0,
                       "the second QUIT cuts the two-minute delay short")
        XCTAssertTrue(server.standardError().contains("received SIGQUIT during the drain delay; stopping gracefully now"))
    }

    func testSIGTERMStopsGracefullyUnderGracefulSigtermAndAtOnceWithout() throws {
        for graceful in [true, false] {
            let server = try startedServer(graceful ? ["--graceful-sigterm"] : [])
            let inFlight = try TestClient(port: server.port)
            try inFlight.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nab")
            XCTAssertTrue(ServerProcess.eventually { inFlight.serverHasReadEverythingSent() }, "a worker has the half body")
            kill(server.pid, SIGTERM)
            if graceful {
                XCTAssertTrue(ServerProcess.eventually { self.status("/readyz", port: server.port) != 200 }, "draining")
                try inFlight.send("cd")
                let response = try inFlight.readResponse()
                XCTAssertEqual(response.status, 405, "the request in flight is answered (the built-in routes take no POST)")
                XCTAssertEqual(response.header("Connection"), "close")
            } else {
                XCTAssertTrue(inFlight.readsEndOfStream(), "without the flag TERM closes the connection in flight")
            }
            XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 10_000).flatMap(exitCode(ofWaitStatus:)), 0, "graceful: \(graceful)")
        }
    }

    func testDrainFlagsAreRefusedByModelsWithoutAMaster() throws {
        for flag in [["--drain-delay", "1"], ["--graceful-sigterm"]] {
            let result = try Launch.runToEnd(ServerProcess.executablePath, ["--model", "reactor"] + flag)
            XCTAssertNotEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, "\(flag)")
            XCTAssertTrue(result.stderr.contains("\(flag[0]) applies only to the prefork and hybrid models"), result.stderr)
        }
    }

    /// The first response to `request`, retried while the connection is refused or closed
    /// (bounded by `eventually`); nil if none came.
    private static func firstAnswer(_ request: () throws -> TestResponse) -> TestResponse? {
        var answer: TestResponse?
        _ = ServerProcess.eventually {
            answer = try? request()
            return answer != nil
        }
        return answer
    }
}
