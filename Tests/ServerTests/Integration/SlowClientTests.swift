// Clients that hold a connection without using it, against the real binary: one
// that stops reading is reset at the write timeout (its unsent responses dropped
// at once), and one that trickles a body slower than --min-body-rate gets 408
// while a body at a fine rate is not cut.
import Glibc
import TestSupport
import XCTest

final class SlowClientTests: XCTestCase {
    func testClientThatStopsReadingIsResetAtTheWriteTimeout() throws {
        // Long enough for the check that the server has read every request (one reading of the
        // kernel's TCP tables takes up to ~0.1 s) to see the connection before the reset removes it.
        let flags = ["--write-timeout", "1.5"]
        try inEveryMode(workers: 1, extraFlags: flags) { server, mode in
            try Self.checkReset(on: server, "\(mode)")
        }
        // The prefork workers time out with blocking waits.
        let prefork = try ServerProcess(["--host", "127.0.0.1", "--model", "prefork", "--workers", "1"] + flags)
        try Self.checkReset(on: prefork, "prefork")
        XCTAssertEqual(prefork.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// 200 bytes/s after 0.3 s; the body timeout (10 s) alone would let either body through.
    private static let bodyRateFlags = ["--min-body-rate", "200", "--min-body-rate-grace", "0.3"]

    func testBodyTrickledSlowerThanTheMinimumRateGets408AndTheConnectionEnds() throws {
        try inEveryMode(workers: 1, extraFlags: Self.bodyRateFlags) { server, mode in
            try Self.checkTrickleRefused(on: server, "\(mode)")
        }
        let serial = try ServerProcess(["--host", "127.0.0.1", "--model", "serial"] + Self.bodyRateFlags)
        try Self.checkTrickleRefused(on: serial, "serial")
        XCTAssertEqual(serial.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// One byte every 100 ms (10 bytes/s) of a 1000-byte body, until the server answers.
    private static func checkTrickleRefused(on server: ServerProcess, _ label: String) throws {
        let client = try TestClient(port: server.port)
        try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
        var sent = 0
        while sent < 30 && client.unreadBytes == 0 {
            try client.send("b")
            sent += 1
            usleep(100_000)  // the trickle's pace, not a wait for the server
        }
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408, "\(label): after \(sent) bytes")
        XCTAssertEqual(response.header("Connection"), "close", label)
        XCTAssertLessThan(sent, 30, "\(label): refused soon after the grace period")
        client.shutdownWrite()
        XCTAssertTrue(client.readsEndOfStream(), "\(label): the connection ends")
    }

    func testBodyAtAFineRateIsNotCutByTheMinimumRate() throws {
        try inEveryMode(workers: 1, extraFlags: Self.bodyRateFlags) { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
            for _ in 0..<10 {  // 100 bytes every 50 ms: about 2000 bytes/s for half a second, past the grace
                try client.send(String(repeating: "b", count: 100))
                usleep(50_000)  // the upload's pace, not a wait for the server
            }
            XCTAssertEqual(try client.readResponse().status, 404, "\(mode): the request reached the handler")
            XCTAssertEqual(try client.get("/health").status, 200, "\(mode): and the connection lives on")
        }
    }

    /// 55 KB of requests, which the server reads at once, for about 6 MB of responses:
    /// more than the kernel takes for a client that reads nothing (tcp_wmem's 4 MB at most),
    /// so the server has output pending when the write timeout ends the connection.
    private static func checkReset(on server: ServerProcess, _ label: String) throws {
        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        try client.send(Array(String(repeating: "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", count: 1500).utf8))
        // Every request was read: closing with unread input would reset the connection anyway.
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 2000) { client.serverHasReadEverythingSent() },
                      "\(label): the server read every request")
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 5000) { client.tcpState == TestClient.closedState },
                      "\(label): reset, not a FIN queued behind megabytes the client is not reading")
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var last = 0
        for _ in 0..<1000 {
            last = recv(client.fd, &chunk, chunk.count, 0)
            if last <= 0 { break }
        }
        XCTAssertEqual(last, -1, "\(label): no orderly end of stream")
        XCTAssertEqual(errno, ECONNRESET, "\(label)")
    }
}
