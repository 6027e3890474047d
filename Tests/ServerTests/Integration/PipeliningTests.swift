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
            var scrapes = (count: 0, bytes: 0)
            var rendered = 0
            var written = 0
            // Settled once two scrapes in a row differ only by the first one's own request and response.
            let settled = ServerProcess.eventually {
                guard let first = try? Self.scrape(server), let second = try? Self.scrape(server) else { return false }
                rendered = first.requests - scrapes.count
                written = first.sentBytes - scrapes.bytes
                scrapes = (scrapes.count + 2, scrapes.bytes + first.size + second.size)
                return rendered > 0 && second.requests == first.requests + 1 && second.sentBytes == first.sentBytes + first.size
            }
            XCTAssertTrue(settled, "\(mode): the counts of rendered responses and written bytes settle")
            // The rendered responses are the first ones; their exact sizes are known once they are read.
            // What the worker rendered and did not write (the kernel took it) is still the worker's to hold.
            var renderedBytes = 0
            for index in 0..<2048 {
                let response = try client.readResponse()
                guard response.status == 200 else {
                    return XCTFail("\(mode): response \(index) is \(response.status)")
                }
                if index < rendered { renderedBytes += response.wireSize }
            }
            let held = renderedBytes - written
            // The bound is 32 KiB of queued output, passed by at most one response (about 4 KB).
            XCTAssertLessThan(held, 48 * 1024, "\(mode): \(rendered) responses of \(renderedBytes) bytes rendered, "
                              + "\(written) bytes written: the worker holds \(held) bytes")
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

    /// prefork_requests_total and prefork_sent_bytes_total from a scrape on a new keep-alive
    /// connection (the scrape counts neither its own request nor its own response), and the
    /// size of the scrape's response.
    private static func scrape(_ server: ServerProcess) throws -> (requests: Int, sentBytes: Int, size: Int) {
        let response = try TestClient(port: server.port).get("/metrics")
        let metrics = try PrometheusText(response.body)
        guard let requests = metrics.value("prefork_requests_total"), let sent = metrics.value("prefork_sent_bytes_total") else {
            throw LaunchError("no prefork_requests_total or prefork_sent_bytes_total in /metrics")
        }
        return (Int(requests), Int(sent), response.wireSize)
    }
}
