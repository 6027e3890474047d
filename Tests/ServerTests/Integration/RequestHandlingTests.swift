// The real server binary, over real sockets: how requests are answered.
import Glibc
import TestSupport
import XCTest

final class RequestHandlingTests: XCTestCase {
    func testOneRequestIsAnsweredWithTheWorkerPidAndFramingHeaders() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            let response = try client.get("/")
            XCTAssertEqual(response.status, 200, "\(mode)")
            XCTAssertNotNil(response.servedBy, "\(mode): body was \(response.body)")
            XCTAssertTrue(server.workerPIDs().contains(response.servedBy ?? -1), "\(mode): pid is one of the workers")
            XCTAssertEqual(response.header("Content-Length"), "\(response.body.utf8.count)", "\(mode)")
            XCTAssertEqual(response.header("Server"), "swift-prefork", "\(mode)")
            XCTAssertEqual(response.header("Date")?.count, 29, "\(mode)")
            XCTAssertTrue(response.header("Date")?.hasSuffix(" GMT") ?? false, "\(mode)")
        }
    }

    func testHundredRequestsOnOneKeepAliveConnectionAreServedByOneWorker() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            var pids = Set<pid_t>()
            for _ in 0..<100 {
                let response = try client.get("/")
                XCTAssertEqual(response.status, 200, "\(mode)")
                XCTAssertNil(response.header("Connection"), "\(mode): HTTP/1.1 persists without saying so")
                pids.insert(response.servedBy ?? -1)
            }
            XCTAssertEqual(pids.count, 1, "\(mode): one connection stays with one worker")
        }
    }

    func testFiftyPipelinedRequestsInOneWriteAreAnsweredInOrder() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            let paths = (0..<50).map { $0 % 3 == 0 ? "/" : $0 % 3 == 1 ? "/health" : "/missing-\($0)" }
            try client.send(paths.map { "GET \($0) HTTP/1.1\r\nHost: test\r\n\r\n" }.joined())
            for (index, path) in paths.enumerated() {
                let response = try client.readResponse()
                switch index % 3 {
                case 0: XCTAssertNotNil(response.servedBy, "\(mode): response \(index) for \(path)")
                case 1: XCTAssertEqual(response.body, "ok\n", "\(mode): response \(index) for \(path)")
                default: XCTAssertEqual(response.status, 404, "\(mode): response \(index) for \(path)")
                }
            }
        }
    }

    func testRequestSentOneBytePerWriteIsAnswered() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            for byte in Array("GET /health HTTP/1.1\r\nHost: test\r\nUser-Agent: slow\r\n\r\n".utf8) {
                try client.send([byte])
                usleep(200)  // pacing, not synchronisation: each byte leaves as a segment of its own (TCP_NODELAY)
            }
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, "\(mode)")
            XCTAssertEqual(response.body, "ok\n", "\(mode)")
            XCTAssertEqual(try client.get("/health").status, 200, "\(mode): the connection is usable afterwards")
        }
    }

    func testRequestBodyIsConsumedSoTheNextPipelinedRequestIsFramedRight() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            let body = String(repeating: "x", count: 10_000) + "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
            try client.send("POST /health HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                + "GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            XCTAssertEqual(try client.readResponse().status, 405, "\(mode): POST is not allowed on /health")
            let next = try client.readResponse()
            XCTAssertEqual(next.status, 200, "\(mode): the request after the body, not one hidden inside it")
            XCTAssertEqual(next.body, "ok\n", "\(mode)")
        }
    }

    func testHeadGetsTheHeadersOfGetWithoutTheBody() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("HEAD /health HTTP/1.1\r\nHost: test\r\n\r\nGET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            let head = try client.readResponse(headOnly: true)
            XCTAssertEqual(head.status, 200, "\(mode)")
            XCTAssertEqual(head.header("Content-Length"), "3", "\(mode): the length GET would send")
            let get = try client.readResponse()
            XCTAssertEqual(get.body, "ok\n", "\(mode): no body bytes came between the two responses")
        }
    }

    func testConnectionCloseIsHonouredAfterTheResponse() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            let response = try client.get("/health", headers: "Connection: close\r\n")
            XCTAssertEqual(response.header("Connection"), "close", "\(mode)")
            XCTAssertTrue(client.readsEndOfStream(), "\(mode): the server closed the connection")
        }
    }

    func testClientThatHalfClosesAfterItsRequestGetsTheResponseThenEndOfFile() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            client.shutdownWrite()  // the FIN may reach the worker in the same event as the request
            XCTAssertEqual(try client.readResponse().body, "ok\n", "\(mode)")
            XCTAssertTrue(client.readsEndOfStream(), "\(mode): the worker saw the FIN and closed")
        }
    }

    func testHTTP10ClosesUnlessAskedToKeepAlive() throws {
        try inEveryMode { server, mode in
            let closing = try TestClient(port: server.port)
            try closing.send("GET /health HTTP/1.0\r\n\r\n")
            XCTAssertEqual(try closing.readResponse().status, 200, "\(mode)")
            XCTAssertTrue(closing.readsEndOfStream(), "\(mode): HTTP/1.0 closes by default")

            let persistent = try TestClient(port: server.port)
            for _ in 0..<3 {
                try persistent.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                let response = try persistent.readResponse()
                XCTAssertEqual(response.header("Connection"), "keep-alive", "\(mode)")
            }
        }
    }

    func testMalformedRequestGets400WithConnectionCloseAndTheConnectionCloses() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: test\r\nBad Header: no\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 400, "\(mode)")
            XCTAssertEqual(response.header("Connection"), "close", "\(mode)")
            XCTAssertTrue(client.readsEndOfStream(), "\(mode): closed after the 400")
            XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "\(mode): still serving")
        }
    }

    func testUnknownPathGets404AndUnsupportedVersionGets505() throws {
        try inEveryMode { server, mode in
            XCTAssertEqual(try TestClient(port: server.port).get("/nope").status, 404, "\(mode)")
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/2.0\r\nHost: test\r\n\r\n")
            XCTAssertEqual(try client.readResponse().status, 505, "\(mode)")
        }
    }

    func testAbsoluteFormTargetIsAnsweredLikeItsPath() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("GET http://test/health HTTP/1.1\r\nHost: test\r\n\r\nGET HTTP://test HTTP/1.1\r\nHost: test\r\n\r\n")
            let health = try client.readResponse()
            XCTAssertEqual(health.status, 200, "\(mode)")
            XCTAssertEqual(health.body, "ok\n", "\(mode)")
            XCTAssertNotNil(try client.readResponse().servedBy, "\(mode): an empty path is /")
        }
    }

    func testTargetsInNoFormTheirMethodMayUseGet400() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"])
        for target in ["*", "a:443", "foo/bar"] {
            let client = try TestClient(port: server.port)
            try client.send("GET \(target) HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 400, "GET \(target)")
            XCTAssertEqual(response.header("Connection"), "close", "GET \(target)")
        }
        let options = try TestClient(port: server.port)
        try options.send("OPTIONS * HTTP/1.1\r\nHost: test\r\n\r\n")
        XCTAssertEqual(try options.readResponse().status, 200, "OPTIONS * is the one use of *")
        let connect = try TestClient(port: server.port)
        try connect.send("CONNECT test:443 HTTP/1.1\r\nHost: test:443\r\n\r\n")
        XCTAssertEqual(try connect.readResponse().status, 501, "no tunnels from an origin server")
    }

    func testOversizedOrHostileRequestsGetTheirStatusAndNoWorkerIsLost() throws {
        let cases: [RefusalCase] = [
            RefusalCase("endless empty lines", Array(repeating: UInt8(ascii: "\n"), count: 20_000), 431),
            RefusalCase("request line over 8 KiB", "GET /\(String(repeating: "a", count: 70_000)) HTTP/1.1\r\n\r\n", 414),
            RefusalCase("more than 100 header fields", "GET / HTTP/1.1\r\nHost: t\r\n\(String(repeating: "X-A: b\r\n", count: 300))\r\n", 431),
            RefusalCase("header block over 16 KiB", "GET / HTTP/1.1\r\nHost: t\r\nX: \(String(repeating: "b", count: 20_000))\r\n\r\n", 431),
            RefusalCase("NUL bytes then a line end", String(repeating: "\0", count: 4096) + "\r\n\r\n", 400),
            RefusalCase("body larger than allowed", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n", 413),
            RefusalCase("Content-Length overflow", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
        ]
        try inEveryMode { server, mode in
            XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 }, "\(mode)")
            let before = server.workerPIDs()
            for refusal in cases {
                let client = try TestClient(port: server.port)
                try? client.send(refusal.bytes)  // the server may answer and close before reading it all
                let response = try client.readResponse()
                XCTAssertEqual(response.status, refusal.status, "\(mode): \(refusal.name)")
                XCTAssertEqual(response.header("Connection"), "close", "\(mode): \(refusal.name)")
            }
            // Bytes that never become a request: the worker waits for more, and serves others meanwhile.
            let silent = try TestClient(port: server.port)
            try silent.send(Array(repeating: 0, count: 4096))
            XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "\(mode)")
            XCTAssertEqual(server.workerPIDs(), before, "\(mode): no worker died")
        }
    }
}

private struct RefusalCase {
    let name: String
    let bytes: [UInt8]
    let status: Int

    init(_ name: String, _ text: String, _ status: Int) {
        self.init(name, Array(text.utf8), status)
    }

    init(_ name: String, _ bytes: [UInt8], _ status: Int) {
        self.name = name
        self.bytes = bytes
        self.status = status
    }
}
