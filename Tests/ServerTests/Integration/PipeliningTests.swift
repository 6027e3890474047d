// Pipelined requests against the real binary: a client that pipelines requests
// for large responses and never reads them gets only a bounded number rendered,
// and requests held back at that bound are all answered once the client reads,
// by the event loop in both trigger modes and by the blocking prefork workers.
import Glibc
import TestSupport
import XCTest

final class PipeliningTests: XCTestCase {
    /// About 37 bytes each; /metrics answers with about 5 KB.
    private static func metricsRequests(_ count: Int) -> [UInt8] {
        Array(String(repeating: "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", count: count).utf8)
    }

    func testAWorkerHoldsABoundedAmountForAClientThatPipelinesAndDoesNotRead() throws {
        try inEveryMode(workers: 1) { server, mode in
            let client = try TestClient(port: server.port, smallReceiveBuffer: true)
            try client.send(Self.metricsRequests(2048))  // 74 KB: the server reads it all, or holds it in its socket
            var scrapes = 0
            var rendered = 0
            var responseBytes = 0
            // Settled once two scrapes in a row differ only by the first one's own request.
            let settled = ServerProcess.eventually {
                guard let first = try? Self.scrape(server), let second = try? Self.scrape(server) else { return false }
                rendered = first.requests - scrapes
                responseBytes = second.responseBytes
                scrapes += 2
                return rendered > 0 && second.requests == first.requests + 1
            }
            XCTAssertTrue(settled, "\(mode): the count of rendered responses settles")
            // What the worker rendered and the kernel has not taken is still the worker's to hold.
            // (The kernel's own share is its send buffer, up to tcp_wmem's maximum.)
            let taken = try XCTUnwrap(client.serverEnd(), "\(mode): the server's end of the connection").sendQueue + client.unreadBytes
            let held = rendered * responseBytes - taken
            XCTAssertLessThan(held, 64 * 1024, "\(mode): \(rendered) responses of \(responseBytes) bytes rendered, "
                              + "\(taken) bytes taken by the kernel: the worker holds \(held) bytes")
            for index in 0..<2048 {
                let response = try client.readResponse()
                guard response.status == 200 else {
                    return XCTFail("\(mode): response \(index) is \(response.status)")
                }
            }
        }
    }

    func testRequestsHeldBackAtTheOutputBoundAreAllAnsweredAsTheClientReads() throws {
        // Short header timeout: a connection left waiting on requests it already read would get 408 quickly.
        let flags = ["--header-timeout", "1"]
        try inEveryMode(workers: 1, extraFlags: flags) { server, mode in
            try Self.checkAllAnswered(on: server, "\(mode)")
        }
        // The prefork workers serve each connection with blocking waits, through the same driver.
        let prefork = try ServerProcess(["--host", "127.0.0.1", "--model", "prefork", "--workers", "1"] + flags)
        try Self.checkAllAnswered(on: prefork, "prefork")
        XCTAssertEqual(prefork.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// 1000 requests in one send (one read for the server) whose responses are 5 MB: far
    /// past the bound, so most are answered only after earlier responses were sent.
    private static func checkAllAnswered(on server: ServerProcess, _ label: String) throws {
        let client = try TestClient(port: server.port)
        try client.send(metricsRequests(1000))
        for index in 0..<1000 {
            let response = try client.readResponse()
            guard response.status == 200 else { return XCTFail("\(label): response \(index) is \(response.status)") }
        }
    }

    /// prefork_requests_total from a scrape on a new keep-alive connection (the scrape does
    /// not count itself), and the size of the scrape's response, head and body, as a pipelined
    /// /metrics response has it (a little larger: the numbers in it have only grown).
    private static func scrape(_ server: ServerProcess) throws -> (requests: Int, responseBytes: Int) {
        let response = try TestClient(port: server.port).get("/metrics")
        guard let value = try PrometheusText(response.body).value("prefork_requests_total") else {
            throw LaunchError("no prefork_requests_total in /metrics")
        }
        let head = response.statusLine.utf8.count + 2 + response.headers.reduce(2) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        return (Int(value), head + response.body.utf8.count)
    }
}
