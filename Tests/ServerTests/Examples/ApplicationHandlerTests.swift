// Application handlers against the example server (Examples/ExampleServer's
// ApplicationRoutes): inline, async and blocking routes of one router on one
// server, answers in request order behind a slow one, a thrown error as a 500
// that names nothing of it, a departed client's task cancelled, and a graceful
// stop that answers every routed request in flight. One worker throughout.
import Glibc
import TestSupport
import XCTest

final class ApplicationHandlerTests: XCTestCase {
    private func startServer(_ flags: [String] = []) throws -> ServerProcess {
        try ServerProcess(["--host", "127.0.0.1", "--workers", "1"] + flags, executable: "example-server")
    }

    private static func request(_ target: String, method: String = "GET", close: Bool = false) -> String {
        "\(method) \(target) HTTP/1.1\r\nHost: t\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n"
    }

    func testInlineAsyncAndBlockingRoutesAnswerOnOneServer() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/apps/inline").body, "inline\n")
        XCTAssertEqual(try client.get("/apps/async").body, "async\n")
        XCTAssertEqual(try client.get("/apps/blocking").body, "blocking\n")
        let item = try client.get("/apps/items/a%20b")
        XCTAssertEqual(item.body, "item a b\n")
        XCTAssertEqual(item.header("Content-Type"), "application/vnd.example.item+text; charset=utf-8", "a run-time content type")
        XCTAssertEqual(item.header("X-Item-Id"), "a b", "a run-time header field")
        try client.send("POST /apps/echo HTTP/1.1\r\nHost: t\r\nx-REQUEST-id: r-17\r\nContent-Length: 5\r\n\r\nhello")
        XCTAssertEqual(try client.readResponse().body, "5 bytes, request id r-17\n", "fields are looked up ignoring case")
        try client.send(Self.request("/apps/async", method: "DELETE"))
        let wrongMethod = try client.readResponse()
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.header("Allow"), "GET, HEAD, OPTIONS")
        XCTAssertEqual(try client.get("/").servedBy, server.workerPIDs().first, "the router's fallback: the built-in routes")
        XCTAssertEqual(try client.get("/health").status, 200)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testPipelinedAnswersKeepRequestOrderBehindASlowHandler() throws {
        let server = try startServer(["--handler-threads", "4"])
        let client = try TestClient(port: server.port)
        let targets = ["/apps/sleep/400", "/apps/inline", "/apps/async-sleep/50", "/apps/blocking", "/apps/async", "/apps/sleep/1"]
        try client.send(targets.map { Self.request($0) }.joined())
        let bodies = try targets.map { _ in try client.readResponse().body }
        XCTAssertEqual(bodies, ["slept 400 ms\n", "inline\n", "slept 50 ms\n", "blocking\n", "async\n", "slept 1 ms\n"])
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAThrownErrorIsA500ThatNamesNoInternalsAndIsLogged() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        for shape in ["async", "blocking"] {
            let response = try client.get("/apps/fail/\(shape)")
            XCTAssertEqual(response.status, 500, shape)
            XCTAssertEqual(response.body, "internal server error\n", shape)
            XCTAssertFalse(response.headers.contains { $0.value.contains("secret") }, shape)
        }
        XCTAssertEqual(try client.get("/apps/inline").body, "inline\n", "the connection goes on")
        var log = ""
        XCTAssertTrue(ServerProcess.eventually {
            log += server.standardError()
            return log.components(separatedBy: "postgres://secret@db").count == 3
        }, "the operator sees both errors: \(log)")
        XCTAssertTrue(log.contains("GET /apps/fail/async"), log)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAClientThatLeavesCancelsItsHandlersTask() throws {
        for flags in [[], ["--edge-triggered"]] {
            let server = try startServer(flags)
            XCTAssertEqual(try TestClient(port: server.port).get("/apps/cancelled").body, "0\n", "\(flags)")
            for round in 1...3 {
                try Self.sendAndLeave("/apps/wait", to: server)
                var cancelled = ""
                XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 5000) {
                    cancelled = (try? TestClient(port: server.port).get("/apps/cancelled").body) ?? ""
                    return cancelled == "\(round)\n"
                }, "\(flags) round \(round): \(cancelled) tasks cancelled; the task sleeps 60 s unless cancelled")
            }
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testAGracefulStopAnswersEveryRoutedRequestInFlight() throws {
        let server = try startServer(["--graceful-timeout", "10", "--handler-threads", "4"])
        let targets = ["/apps/sleep/800", "/apps/async-sleep/800", "/apps/sleep/400", "/apps/async-sleep/400",
                       "/apps/sleep/600", "/apps/async-sleep/600"]
        var clients: [TestClient] = []
        for target in targets {
            let client = try TestClient(port: server.port, timeoutSeconds: 15)
            try client.send(Self.request(target))
            clients.append(client)
        }
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200)
        XCTAssertEqual(clients.filter { $0.isReadable(withinMilliseconds: 0) }.count, 0, "the handlers are still running")
        kill(server.pid, SIGQUIT)
        for (target, client) in zip(targets, clients) {
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, target)
            XCTAssertTrue(response.body.hasPrefix("slept "), target)
            XCTAssertEqual(response.header("Connection"), "close", target)
        }
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 10_000).flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// Sends `target` and closes the connection (the client's deinit, on return) without reading the answer.
    private static func sendAndLeave(_ target: String, to server: ServerProcess) throws {
        let client = try TestClient(port: server.port)
        try client.send(request(target))
        // Answered after the request was sent: the only worker has read it and started its task.
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200)
    }
}
