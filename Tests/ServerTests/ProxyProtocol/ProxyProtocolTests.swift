// The PROXY protocol on the real binary (example-server, whose /example/client
// echoes the request's clientAddress and clientPort): v1 and v2 headers from a
// trusted proxy name the client in the access log and to the handler; an
// untrusted peer, a missing header and garbage are closed without a response;
// a header sent byte by byte still works; a header that never completes is cut
// at the header timeout; /metrics counts accepted and refused headers per worker.
import Foundation
import Glibc
import TestSupport
import XCTest

final class ProxyProtocolTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "proxy-protocol-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A plain listener (first, for /metrics) and a proxy-protocol one, trusting `trusted`.
    static func start(trusting trusted: String = "127.0.0.1/32", extra: [String] = []) throws -> ServerProcess {
        try ServerProcess(["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0,proxy-protocol", "--trusted-proxy", trusted,
                           "--workers", "1"] + extra, executable: "example-server")
    }

    static func v1(_ client: String, _ port: Int, family: String = "TCP4", destination: String = "192.0.2.1") -> [UInt8] {
        Array("PROXY \(family) \(client) \(destination) \(port) 80\r\n".utf8)
    }

    /// A v2 PROXY header for an IPv4 client, with a TLV (ALPN) the server must skip.
    static func v2(_ client: [UInt8], _ port: Int) -> [UInt8] {
        let addresses = client + [192, 0, 2, 1] + [UInt8(port >> 8), UInt8(port & 0xFF), 0, 80]
        let payload = addresses + [0x01, 0x00, 0x08] + Array("http/1.1".utf8)
        return [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0, UInt8(payload.count)] + payload
    }

    static let clientRequest = Array("GET /example/client HTTP/1.1\r\nHost: test\r\n\r\n".utf8)

    /// The server closed the connection (EOF or reset) without sending a byte.
    static func closedWithoutResponse(_ client: TestClient) -> Bool {
        var byte: UInt8 = 0
        let count = recv(client.fd, &byte, 1, 0)
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }

    private func accessLogLines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func testV1AndV2HeadersFromATrustedProxyNameTheClientToTheHandlerAndTheAccessLog() throws {
        let log = directory + "/access.log"
        let server = try Self.start(extra: ["--access-log", log])
        let proxied = server.ports[1]
        let first = try TestClient(port: proxied)
        try first.send(Self.v1("203.0.113.7", 51234) + Self.clientRequest)
        XCTAssertEqual(try first.readResponse().body, "203.0.113.7 51234\n", "header and request in one segment")
        XCTAssertEqual(try first.get("/example/client").body, "203.0.113.7 51234\n", "every request of the connection")
        XCTAssertEqual(try first.get("/example/client/deferred").body, "203.0.113.7 51234\n", "a deferred handler too")
        let second = try TestClient(port: proxied)
        try second.send(Self.v2([198, 51, 100, 9], 40000))
        try second.send(Self.clientRequest)
        XCTAssertEqual(try second.readResponse().body, "198.51.100.9 40000\n", "a v2 header, TLV skipped")
        let ipv6 = try TestClient(port: proxied)
        try ipv6.send(Self.v1("2001:db8::7", 443, family: "TCP6", destination: "2001:db8::1") + Self.clientRequest)
        XCTAssertEqual(try ipv6.readResponse().body, "2001:db8::7 443\n")
        XCTAssertEqual(try TestClient(port: server.ports[0]).get("/example/client").body, "- -\n",
                       "a plain listener's request names no proxied client")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let lines = accessLogLines(log)
        XCTAssertEqual(lines.filter { $0.hasPrefix("203.0.113.7 - - [") }.count, 3, "\(lines)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("198.51.100.9 - - [") }.count, 1, "\(lines)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("2001:db8::7 - - [") }.count, 1, "\(lines)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("127.0.0.1 - - [") }.count, 1, "the plain request: \(lines)")
    }

    func testAHeaderSentByteByByteStillWorks() throws {
        let server = try Self.start()
        let client = try TestClient(port: server.ports[1])
        for byte in Self.v2([203, 0, 113, 8], 1234) { try client.send([byte]) }
        try client.send(Self.clientRequest)
        XCTAssertEqual(try client.readResponse().body, "203.0.113.8 1234\n")
        let slowV1 = try TestClient(port: server.ports[1])
        for byte in Self.v1("203.0.113.9", 4321) { try slowV1.send([byte]) }
        for byte in Self.clientRequest { try slowV1.send([byte]) }
        XCTAssertEqual(try slowV1.readResponse().body, "203.0.113.9 4321\n")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAMissingHeaderOrGarbageClosesTheConnectionWithoutAResponse() throws {
        let server = try Self.start()
        let plainRequest = try TestClient(port: server.ports[1])
        try plainRequest.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        XCTAssertTrue(Self.closedWithoutResponse(plainRequest), "HTTP where the header belongs")
        let garbage = try TestClient(port: server.ports[1])
        try garbage.send([0x16, 0x03, 0x01, 0x02, 0x00] + [UInt8](repeating: 0xAB, count: 64))
        XCTAssertTrue(Self.closedWithoutResponse(garbage), "a TLS ClientHello")
        let malformed = try TestClient(port: server.ports[1])
        try malformed.send("PROXY TCP4 203.0.113.7 192.0.2.1 99999 80\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(Self.closedWithoutResponse(malformed), "a port out of range")
        let oversized = try TestClient(port: server.ports[1])
        try oversized.send("PROXY UNKNOWN " + String(repeating: "x", count: 200) + "\r\n")
        XCTAssertTrue(Self.closedWithoutResponse(oversized), "a v1 line past 107 bytes")
        let metrics = try TestClient(port: server.ports[0]).get("/metrics").body
        XCTAssertTrue(metrics.contains("outcome=\"refused\"} 4"), metrics)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAHeaderFromAPeerOutsideTheTrustedProxiesIsRefused() throws {
        let server = try Self.start(trusting: "192.0.2.0/24")
        let client = try TestClient(port: server.ports[1])
        try client.send(Self.v1("203.0.113.7", 51234) + Self.clientRequest)
        XCTAssertTrue(Self.closedWithoutResponse(client), "127.0.0.1 is not a trusted proxy")
        let metrics = try TestClient(port: server.ports[0]).get("/metrics").body
        XCTAssertTrue(metrics.contains("outcome=\"refused\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("outcome=\"accepted\"} 0"), metrics)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAHeaderThatNeverCompletesIsCutAtTheHeaderTimeout() throws {
        let server = try Self.start(extra: ["--header-timeout", "0.5"])
        let client = try TestClient(port: server.ports[1], timeoutSeconds: 10)
        try client.send(Array(Self.v1("203.0.113.7", 51234).prefix(20)))
        XCTAssertTrue(Self.closedWithoutResponse(client), "closed at the header timeout (before the client's 10 s), with no 408")
        let metrics = try TestClient(port: server.ports[0]).get("/metrics").body
        XCTAssertTrue(metrics.contains("outcome=\"refused\"} 1"), "counted as refused: \(metrics)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testMetricsCountAcceptedHeadersPerWorker() throws {
        let server = try Self.start()
        for index in 0..<3 {
            let client = try TestClient(port: server.ports[1])
            try client.send(Self.v2([203, 0, 113, UInt8(index)], 1000) + Self.clientRequest)
            XCTAssertEqual(try client.readResponse().status, 200)
        }
        let metrics = try TestClient(port: server.ports[0]).get("/metrics").body
        XCTAssertTrue(metrics.contains("prefork_worker_proxy_headers_total{slot=\"0\""), metrics)
        XCTAssertTrue(metrics.contains("outcome=\"accepted\"} 3"), metrics)
        XCTAssertTrue(metrics.contains("prefork_proxy_headers_total{outcome=\"accepted\"} 3"), "and server-wide: \(metrics)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAProxyProtocolListenerWithoutTrustedProxiesIsRefusedAtStart() throws {
        let result = try Launch.runToEnd(ServerProcess.executable(named: "server"), ["--listen", "127.0.0.1:0,proxy-protocol"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("needs --trusted-proxy"), result.stderr)
    }
}
