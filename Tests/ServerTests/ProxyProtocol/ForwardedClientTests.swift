// X-Forwarded-For and Forwarded on the real binary: honoured only with
// --real-ip-header and only from a trusted peer, naming the rightmost hop that
// is not a trusted proxy, to the handler (example-server's /example/client)
// and in the access log; an opaque hop there names nobody.
import Foundation
import Glibc
import TestSupport
import XCTest

final class ForwardedClientTests: XCTestCase {
    private func start(_ flags: [String]) throws -> ServerProcess {
        try ServerProcess(["--listen", "127.0.0.1:0", "--workers", "1"] + flags, executable: "example-server")
    }

    private func client(_ server: ServerProcess, _ headers: String) throws -> String {
        try TestClient(port: server.port).get("/example/client", headers: headers).body
    }

    func testXForwardedForFromATrustedPeerNamesTheRightmostUntrustedHop() throws {
        let server = try start(["--trusted-proxy", "127.0.0.1/32", "--trusted-proxy", "10.0.0.0/8",
                                "--real-ip-header", "x-forwarded-for"])
        XCTAssertEqual(try client(server, "X-Forwarded-For: 198.51.100.1, 203.0.113.5, 10.0.0.7\r\n"), "203.0.113.5 -\n")
        XCTAssertEqual(try client(server, "X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 10.0.0.7, 10.0.0.8\r\n"),
                       "198.51.100.1 -\n", "several fields form one list")
        XCTAssertEqual(try client(server, "X-Forwarded-For: [2001:db8::5]:4711, 10.0.0.7\r\n"), "2001:db8::5 4711\n")
        XCTAssertEqual(try client(server, "X-Forwarded-For: 10.0.0.9, 10.0.0.7\r\n"), "10.0.0.9 -\n", "all trusted: the leftmost")
        XCTAssertEqual(try client(server, "X-Forwarded-For: 198.51.100.1, unknown, 10.0.0.7\r\n"), "- -\n",
                       "an opaque hop names nobody; the client before it is not believed")
        XCTAssertEqual(try client(server, ""), "- -\n", "no header: the peer is the client")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testForwardedFromATrustedPeerNamesTheRightmostUntrustedHop() throws {
        let server = try start(["--trusted-proxy", "127.0.0.1/32", "--real-ip-header", "forwarded", "--access-log", "-"])
        XCTAssertEqual(try client(server, "Forwarded: for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\"\r\n"),
                       "2001:db8:cafe::17 4711\n")
        XCTAssertEqual(try client(server, "Forwarded: for=_hidden\r\n"), "- -\n", "an obfuscated identifier")
        XCTAssertEqual(try client(server, "X-Forwarded-For: 198.51.100.1\r\n"), "- -\n", "the other header is not read")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let lines = server.standardOutput().split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.hasPrefix("2001:db8:cafe::17 - - [") }.count, 1, "\(lines)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("127.0.0.1 - - [") }.count, 2, "\(lines)")
    }

    func testForwardedHeadersAreIgnoredWithoutTheFlagOrFromAnUntrustedPeer() throws {
        let off = try start(["--trusted-proxy", "127.0.0.1/32"])
        XCTAssertEqual(try client(off, "X-Forwarded-For: 198.51.100.1\r\n"), "- -\n", "off by default")
        XCTAssertEqual(off.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let untrusted = try start(["--trusted-proxy", "192.0.2.0/24", "--real-ip-header", "x-forwarded-for"])
        XCTAssertEqual(try client(untrusted, "X-Forwarded-For: 198.51.100.1\r\n"), "- -\n", "127.0.0.1 is not trusted")
        XCTAssertEqual(untrusted.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testForwardedHeadersCountAfterAPROXYHeaderOnlyWhenItsClientIsTrusted() throws {
        let server = try ServerProcess(["--listen", "127.0.0.1:0,proxy-protocol", "--trusted-proxy", "127.0.0.1/32",
                                        "--trusted-proxy", "10.0.0.0/8", "--real-ip-header", "x-forwarded-for", "--workers", "1"],
                                       executable: "example-server")
        let request = Array("GET /example/client HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n".utf8)
        let viaTrusted = try TestClient(port: server.port)
        try viaTrusted.send(ProxyProtocolTests.v1("10.1.1.1", 5000) + request)
        XCTAssertEqual(try viaTrusted.readResponse().body, "198.51.100.1 -\n", "the PROXY client is a trusted proxy")
        let viaClient = try TestClient(port: server.port)
        try viaClient.send(ProxyProtocolTests.v1("203.0.113.7", 5000) + request)
        XCTAssertEqual(try viaClient.readResponse().body, "203.0.113.7 5000\n", "the PROXY client is not: its header is ignored")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
