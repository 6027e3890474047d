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
            let taken = try Self.sendQueueBytes(serverPort: server.port, client: client) + Self.unreadBytes(client.fd)
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

    /// Bytes the kernel holds for the server's end of `client`'s connection, sent but not
    /// acknowledged or not yet sent: tx_queue in /proc/net/tcp (proc(5)).
    private static func sendQueueBytes(serverPort: Int, client: TestClient) throws -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(client.fd, $0, &length) }
        }
        let clientPort = Int(UInt16(bigEndian: address.sin_port))
        let table = try wholeFile("/proc/net/tcp")
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 4, Int(fields[1].split(separator: ":")[1], radix: 16) == serverPort,
                  Int(fields[2].split(separator: ":")[1], radix: 16) == clientPort,
                  let queue = Int(fields[4].split(separator: ":")[0], radix: 16) else { continue }
            return queue
        }
        throw LaunchError("no /proc/net/tcp entry for 127.0.0.1:\(serverPort) to port \(clientPort)")
    }

    /// A /proc file read to its end (its size reads as 0, so it is read until read(2) returns 0).
    private static func wholeFile(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LaunchError("open(\(path)): errno \(errno)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Bytes waiting in a socket's receive queue (FIONREAD, tcp(7)).
    private static func unreadBytes(_ fd: Int32) -> Int {
        var count: Int32 = 0
        _ = ioctl(fd, UInt(FIONREAD), &count)
        return Int(count)
    }
}
