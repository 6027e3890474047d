// ForwardedHeader over field values: the hops of X-Forwarded-For and Forwarded
// (RFC 7239) as a table: quoted values, IPv6 in brackets with a port,
// obfuscated identifiers, "unknown", several elements and pairs, malformed
// ones (opaque, never skipped as if trusted). Also the --trusted-proxy
// networks and the --listen syntax.
import XCTest
@testable import HTTP1
@testable import Server

final class ForwardedHeaderTests: XCTestCase {
    /// Each hop as "address port" ("-" for none), or "opaque".
    private func hops(_ value: String, _ syntax: ForwardedHeader.Syntax) -> [String] {
        var result: [String] = []
        Array(value.utf8).withUnsafeBytes { bytes in
            ForwardedHeader.forEachNode(in: bytes, syntax: syntax) { node in
                switch node {
                case .address(_, _, let text, let port):
                    result.append(String(decoding: bytes[text], as: UTF8.self) + " " + (port.map(String.init) ?? "-"))
                case .opaque:
                    result.append("opaque")
                }
            }
        }
        return result
    }

    private static let xForwardedFor: [(String, [String])] = [
        ("203.0.113.7", ["203.0.113.7 -"]),
        ("203.0.113.7, 10.0.0.1,10.0.0.2", ["203.0.113.7 -", "10.0.0.1 -", "10.0.0.2 -"]),
        ("  203.0.113.7\t,  ", ["203.0.113.7 -"]),
        ("2001:db8::1, 10.0.0.1", ["2001:db8::1 -", "10.0.0.1 -"]),
        ("[2001:db8::1]:8443", ["2001:db8::1 8443"]),
        ("203.0.113.7:51234", ["203.0.113.7 51234"]),
        ("unknown, 10.0.0.1", ["opaque", "10.0.0.1 -"]),
        ("not-an-address", ["opaque"]),
        ("203.0.113.300", ["opaque"]),
        ("203.0.113.7:99999", ["opaque"]),
        ("[2001:db8::1", ["opaque"]),
        ("", []),
    ]

    func testXForwardedForHops() {
        for (value, expected) in Self.xForwardedFor {
            XCTAssertEqual(hops(value, .xForwardedFor), expected, value)
        }
    }

    private static let forwarded: [(String, [String])] = [
        ("for=192.0.2.60;proto=http;by=203.0.113.43", ["192.0.2.60 -"]),
        ("For=\"[2001:db8:cafe::17]:4711\"", ["2001:db8:cafe::17 4711"]),
        ("for=192.0.2.43, for=198.51.100.17", ["192.0.2.43 -", "198.51.100.17 -"]),
        ("for=\"192.0.2.43:47011\", for=unknown", ["192.0.2.43 47011", "opaque"]),
        ("for=_hidden, for=_SEVKISEK", ["opaque", "opaque"]),
        ("for=\"_gazonk\"", ["opaque"]),
        ("for=192.0.2.43:_port", ["opaque"]),
        ("proto=https;by=10.0.0.1", ["opaque"]),
        ("for=\"[2001:db8::1]\";proto=\"a,b\", for=10.0.0.1", ["2001:db8::1 -", "10.0.0.1 -"]),
        ("for=2001:db8::1", ["opaque"]),
        ("for=\"2001:db8::1\"", ["opaque"]),
        ("for", ["opaque"]),
        ("garbage;;", ["opaque"]),
        ("for=\"192.0.2.1", ["opaque"]),
    ]

    func testForwardedHops() {
        for (value, expected) in Self.forwarded {
            XCTAssertEqual(hops(value, .forwarded), expected, value)
        }
    }

    func testTrustedNetworksMatchByPrefixAndMappedIPv4() throws {
        let trusted = TrustedProxies([try NetworkRange.parse("10.0.0.0/8"), try NetworkRange.parse("2001:db8::/32"),
                                      try NetworkRange.parse("192.0.2.1")])
        func contains(_ text: String) -> Bool {
            var family = ProxiedEndpoint.Family.v4
            guard let address = NetworkRange.numeric(text, family: &family) else { return false }
            return trusted.contains(family, address)
        }
        XCTAssertTrue(contains("10.1.2.3"))
        XCTAssertFalse(contains("11.0.0.1"))
        XCTAssertTrue(contains("2001:db8:ffff::1"))
        XCTAssertFalse(contains("2001:db9::1"))
        XCTAssertTrue(contains("192.0.2.1"))
        XCTAssertFalse(contains("192.0.2.2"))
        XCTAssertTrue(contains("::ffff:10.9.8.7"), "an IPv4 peer on an IPv6 socket")
        XCTAssertTrue(TrustedProxies([try NetworkRange.parse("0.0.0.0/0")]).contains(.v4, (0x0102_0304, 0)))
        for bad in ["10.0.0.0/33", "2001:db8::/129", "10.0.0/8", "host", "10.0.0.0/x", "10.0.0.0/8/1"] {
            XCTAssertThrowsError(try NetworkRange.parse(bad), bad)
        }
    }

    func testListenSyntax() throws {
        XCTAssertEqual(try ListenAddress.parse("0.0.0.0:8080"), ListenAddress(host: "0.0.0.0", port: 8080))
        XCTAssertEqual(try ListenAddress.parse("[::1]:8443,proxy-protocol"), ListenAddress(host: "::1", port: 8443, proxyProtocol: true))
        XCTAssertEqual(try ListenAddress.parse("localhost:0"), ListenAddress(host: "127.0.0.1", port: 0))
        XCTAssertEqual(try ListenAddress.parse("0.0.0.0:443,tls"), ListenAddress(host: "0.0.0.0", port: 443, tls: true))
        XCTAssertEqual(try ListenAddress.parse("[::1]:8443,tls,proxy-protocol"),
                       ListenAddress(host: "::1", port: 8443, proxyProtocol: true, tls: true))
        for bad in ["8080", "::1:8080", "[::1]8080", "1.2.3.4:65536", "1.2.3.4:", "example.com:80", "1.2.3.4:80,fast"] {
            XCTAssertThrowsError(try ListenAddress.parse(bad), bad)
        }
    }
}
