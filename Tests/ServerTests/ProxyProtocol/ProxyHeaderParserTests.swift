// ProxyHeaderParser over in-memory bytes: a table of valid and invalid v1 and
// v2 headers (every address family, LOCAL, UNKNOWN, TLVs, truncated, oversized,
// wrong signature), and every byte boundary of each valid one, as if it
// arrived in pieces: never refused early, never complete before its end.
import XCTest
@testable import HTTP1

final class ProxyHeaderParserTests: XCTestCase {
    private static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    private static func v2(command: UInt8 = 0x21, family: UInt8, payload: [UInt8], declaredLength: Int? = nil) -> [UInt8] {
        let length = declaredLength ?? payload.count
        return signature + [command, family, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    private static let inet: [UInt8] = [203, 0, 113, 7, 192, 0, 2, 1, 0xC8, 0x22, 0x00, 0x50]  // 203.0.113.7:51234 -> 192.0.2.1:80
    private static let inet6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        + [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2] + [0xC8, 0x22, 0x01, 0xBB]
    private static let unix: [UInt8] = Array("/run/a.sock".utf8) + [UInt8](repeating: 0, count: 97)
        + Array("/run/b.sock".utf8) + [UInt8](repeating: 0, count: 97)

    private func parse(_ bytes: [UInt8]) -> ProxyHeaderParse {
        bytes.withUnsafeBytes { ProxyHeaderParser.parse($0) }
    }

    /// (name, bytes, expected source "address port" or nil for none, expected length)
    private static let valid: [(String, [UInt8], String?, Int)] = [
        ("v1 TCP4", Array("PROXY TCP4 203.0.113.7 192.0.2.1 51234 80\r\n".utf8), "203.0.113.7 51234", 43),
        ("v1 TCP6", Array("PROXY TCP6 2001:db8::1 2001:db8::2 51234 443\r\n".utf8), "2001:db8::1 51234", 46),
        ("v1 UNKNOWN", Array("PROXY UNKNOWN\r\n".utf8), nil, 15),
        ("v1 UNKNOWN with addresses", Array("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n".utf8), nil, 59),
        ("v1 longest TCP6", Array("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n".utf8),
         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535", 104),
        ("v2 INET", v2(family: 0x11, payload: inet), "203.0.113.7 51234", 28),
        ("v2 INET6", v2(family: 0x21, payload: inet6), "2001:db8::1 51234", 52),
        ("v2 UNIX", v2(family: 0x31, payload: unix), nil, 232),
        ("v2 UNSPEC", v2(family: 0x00, payload: []), nil, 16),
        ("v2 LOCAL", v2(command: 0x20, family: 0x00, payload: []), nil, 16),
        ("v2 LOCAL with an address block", v2(command: 0x20, family: 0x11, payload: inet), nil, 28),
        ("v2 INET with TLVs", v2(family: 0x11, payload: inet + [0x01, 0x00, 0x02] + Array("h2".utf8) + [0x04, 0x00, 0x00]),
         "203.0.113.7 51234", 28 + 5 + 3),
        ("v2 INET with a TLV up to the bound", v2(family: 0x11, payload: inet + [0xE0, 0x03, 0xF1] + [UInt8](repeating: 7, count: 1009)),
         "203.0.113.7 51234", 16 + 1024),
    ]

    func testValidHeadersParseToTheirClientAndLength() {
        for (name, bytes, source, length) in Self.valid {
            guard case .complete(let header) = parse(bytes + Array("GET / HTTP/1.1\r\n".utf8)) else {
                XCTFail("\(name): not complete")
                continue
            }
            XCTAssertEqual(header.length, length, name)
            XCTAssertEqual(header.source.map { "\($0.addressText) \($0.port)" }, source, name)
        }
    }

    func testEveryPrefixOfAValidHeaderIsIncomplete() {
        for (name, bytes, _, length) in Self.valid {
            for end in 0..<length {
                XCTAssertEqual(parse(Array(bytes[..<end])), .incomplete, "\(name), first \(end) bytes")
            }
        }
    }

    func testV2DestinationIsParsedToo() throws {
        guard case .complete(let header) = parse(Self.v2(family: 0x11, payload: Self.inet)) else { return XCTFail("not complete") }
        let destination = try XCTUnwrap(header.destination)
        XCTAssertEqual("\(destination.addressText) \(destination.port)", "192.0.2.1 80")
    }

    private static let invalid: [(String, [UInt8])] = [
        ("HTTP instead", Array("GET / HTTP/1.1\r\n\r\n".utf8)),
        ("lowercase proxy", Array("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n".utf8)),
        ("v1 unknown protocol", Array("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n".utf8)),
        ("v1 TCP4 with an IPv6 address", Array("PROXY TCP4 ::1 ::1 1 2\r\n".utf8)),
        ("v1 TCP6 with an IPv4 address", Array("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n".utf8)),
        ("v1 missing port", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n".utf8)),
        ("v1 extra field", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n".utf8)),
        ("v1 double space", Array("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n".utf8)),
        ("v1 trailing space", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n".utf8)),
        ("v1 port too large", Array("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n".utf8)),
        ("v1 port with leading zero", Array("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n".utf8)),
        ("v1 address out of range", Array("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n".utf8)),
        ("v1 bare LF", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n".utf8)),
        ("v1 CR without LF", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX".utf8)),
        ("v1 longer than 107 bytes", Array("PROXY UNKNOWN \(String(repeating: "x", count: 100))\r\n".utf8)),
        ("v1 no line end within 107 bytes", Array("PROXY TCP6 \(String(repeating: "f", count: 120))".utf8)),
        ("v2 wrong signature", [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B, 0x21, 0x11, 0, 12] + inet),
        ("v2 version 1", v2(command: 0x11, family: 0x11, payload: inet)),
        ("v2 command 2", v2(command: 0x22, family: 0x11, payload: inet)),
        ("v2 family 4", v2(family: 0x41, payload: inet)),
        ("v2 transport 3", v2(family: 0x13, payload: inet)),
        ("v2 INET block too short", v2(family: 0x11, payload: Array(inet[..<11]))),
        ("v2 INET6 block too short", v2(family: 0x21, payload: Array(inet6[..<35]))),
        ("v2 UNIX block too short", v2(family: 0x31, payload: Array(unix[..<215]))),
        ("v2 TLV past the end", v2(family: 0x11, payload: inet + [0x01, 0x00, 0x05, 0x61])),
        ("v2 TLV header cut", v2(family: 0x11, payload: inet + [0x01, 0x00])),
        ("v2 payload above the bound", v2(family: 0x11, payload: inet, declaredLength: ProxyHeaderParser.maximumV2PayloadLength + 1)),
        ("v2 largest declared length", v2(family: 0x11, payload: inet, declaredLength: 65535)),
    ]

    func testInvalidHeadersAreRefused() {
        for (name, bytes) in Self.invalid {
            XCTAssertEqual(parse(bytes), .invalid, name)
        }
    }

    func testGarbageIsRefusedAtItsFirstByte() {
        XCTAssertEqual(parse(Array("G".utf8)), .invalid)
        XCTAssertEqual(parse([0x16, 0x03, 0x01]), .invalid, "a TLS ClientHello")
        XCTAssertEqual(parse(Array("PROXX".utf8)), .invalid)
        XCTAssertEqual(parse([0x0D, 0x0A, 0x0D, 0x0B]), .invalid)
    }
}
