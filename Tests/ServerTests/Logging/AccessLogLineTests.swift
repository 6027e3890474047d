// Access log lines formed in process: escaping of what the client sent, the
// fields of a refused request, and the client's address noted at accept.
import Foundation
import Glibc
import Logging
import TestSupport
import XCTest

@testable import HTTP1
@testable import ServerSystem
@testable import Server

final class AccessLogLineTests: XCTestCase {
    /// Serves `request` over a socketpair through a driver whose log goes to a file, and returns the line.
    private func logLine(for request: String) throws -> String {
        let path = NSTemporaryDirectory() + "access-line-\(getpid())-\(UUID().uuidString).log"
        defer { unlink(path) }
        let log = try XCTUnwrap(AccessLog.open(.file(path), logger: Logger(label: "test")))
        let pair = try SocketPair()
        defer { pair.close() }
        let driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                      handler: BuiltinRoutes(pid: 7), logger: Logger(label: "test"), accessLog: log)
        pair.clientSends(request)
        _ = driver.readable(Connection(socket: Socket(fd: pair.server), token: 1))
        log.close()
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    func testValuesFromTheClientAreEscapedSoNoLineCanBeForged() throws {
        let line = try logLine(for: "GET /a\"b HTTP/1.1\r\nHost: t\r\nUser-Agent: x\\\"y \u{e9}\r\nReferer: r\r\n\r\n")
        XCTAssertTrue(line.hasSuffix("\"GET /a\\x22b HTTP/1.1\" 404 10 \"r\" \"x\\x5C\\x22y \\xC3\\xA9\"\n"), line)
        XCTAssertTrue(line.hasPrefix("- - - ["), "a socketpair has no address: \(line)")
    }

    func testHeadLogsNoBodyBytesAndARefusedRequestLogsItsStatus() throws {
        XCTAssertTrue(try logLine(for: "HEAD / HTTP/1.0\r\n\r\n").contains("\"HEAD / HTTP/1.0\" 200 0 \"-\" \"-\"\n"))
        let refused = try logLine(for: "GET / HTTP/1.1\r\nBad Header\r\n\r\n")
        XCTAssertTrue(refused.hasSuffix("] \"-\" 400 12 \"-\" \"-\"\n"), refused)
    }

    func testAbsoluteFormTargetIsLoggedAsSent() throws {
        let line = try logLine(for: "GET http://t/?q HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(line.contains("\"GET http://t/?q HTTP/1.1\" 200 "), line)
    }

    func testLocalTimeHasNginxsShape() {
        let cache = LocalTimeCache()
        let text = withExtendedLifetime(cache) { String(decoding: cache.value(now: 0), as: UTF8.self) }
        XCTAssertNotNil(text.range(of: #"^\d{2}/[A-Z][a-z]{2}/19[67]\d:\d{2}:\d{2}:\d{2} [+-]\d{4}$"#, options: .regularExpression), text)
    }
}
