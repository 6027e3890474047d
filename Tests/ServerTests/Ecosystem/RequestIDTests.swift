// --request-id end to end (example-server, its /eco/log route logging through
// the request's logger): a valid X-Request-Id is echoed, logged by the handler
// with request-id metadata and written as the access log line's last field; a
// malformed one is replaced by 32 new hex digits, never echoed or logged; off
// by default. In process: the acceptance rule, one row per case.
import Foundation
import Glibc
import TestSupport
import XCTest

@testable import ServerEcosystem

final class RequestIDTests: XCTestCase {
    private static func isGenerated(_ id: String?) -> Bool {
        guard let id else { return false }
        return id.utf8.count == 32 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static func accepted(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { RequestID.accepted(UnsafeRawBufferPointer($0)) }
    }

    func testIDsAreAcceptedOnlyWithinTheCharacterSetAndLength() {
        XCTAssertEqual(Self.accepted("abc-123"), "abc-123")
        XCTAssertEqual(Self.accepted("A_b.c:d+e=f/g@h"), "A_b.c:d+e=f/g@h")
        XCTAssertEqual(Self.accepted(String(repeating: "a", count: 200)), String(repeating: "a", count: 200))
        XCTAssertNil(Self.accepted(""), "empty")
        XCTAssertNil(Self.accepted(String(repeating: "a", count: 201)), "longer than 200")
        XCTAssertNil(Self.accepted("two words"), "a space")
        XCTAssertNil(Self.accepted("quote\"d"), "a quote would break the access log's field")
        XCTAssertNil(Self.accepted("caf\u{e9}"), "non-ASCII")
        XCTAssertNil(Self.accepted("a\tb"), "a control byte")
        XCTAssertTrue(Self.isGenerated(RequestID.generate()))
        XCTAssertNotEqual(RequestID.generate(), RequestID.generate())
    }

    func testAValidIDIsEchoedLoggedByTheHandlerAndEndsTheAccessLogLine() throws {
        let log = NSTemporaryDirectory() + "request-id-\(getpid())-\(Launch.now()).log"
        defer { unlink(log) }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--request-id", "--access-log", log],
                                       executable: "example-server")
        let client = try TestClient(port: server.port)
        let given = try client.get("/eco/log", headers: "X-Request-Id: trace-7f3a:9\r\n")
        XCTAssertEqual(given.header("X-Request-Id"), "trace-7f3a:9")
        XCTAssertEqual(given.body, "request id trace-7f3a:9\n")

        let malformed = "bad id \"quoted\""
        let replaced = try client.get("/eco/log", headers: "X-Request-Id: \(malformed)\r\n")
        let newID = replaced.header("X-Request-Id")
        XCTAssertTrue(Self.isGenerated(newID), "a malformed id is replaced: \(newID ?? "none")")
        let tooLong = try client.get("/eco/log", headers: "X-Request-Id: \(String(repeating: "x", count: 201))\r\n")
        XCTAssertTrue(Self.isGenerated(tooLong.header("X-Request-Id")))
        let none = try client.get("/apps/inline")
        XCTAssertTrue(Self.isGenerated(none.header("X-Request-Id")), "an inline route's answer has one too")
        XCTAssertEqual(server.stop(signal: SIGQUIT).flatMap(exitCode(ofWaitStatus:)), 0)

        let errors = server.standardError()
        XCTAssertTrue(errors.contains("request-id=trace-7f3a:9 [ExampleServer] handled /eco/log"), errors)
        XCTAssertTrue(errors.contains("request-id=\(newID ?? "?") [ExampleServer] handled /eco/log"), errors)
        XCTAssertFalse(errors.contains("bad id"), "the malformed id is not logged: \(errors)")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4, "\(lines)")
        XCTAssertTrue(lines[0].hasSuffix("\"trace-7f3a:9\""), "\(lines[0])")
        XCTAssertTrue(lines[1].hasSuffix("\"\(newID ?? "?")\""), "\(lines[1])")
        XCTAssertFalse(lines[1].contains("bad id"), "\(lines[1])")
        XCTAssertTrue(lines[3].hasPrefix("127.0.0.1 - - ["), "\(lines[3])")
    }

    func testWithoutTheFlagNoIDIsGivenOrLogged() throws {
        let log = NSTemporaryDirectory() + "request-id-off-\(getpid())-\(Launch.now()).log"
        defer { unlink(log) }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--access-log", log],
                                       executable: "example-server")
        let response = try TestClient(port: server.port).get("/eco/log", headers: "X-Request-Id: abc\r\n")
        XCTAssertNil(response.header("X-Request-Id"))
        XCTAssertEqual(response.body, "request id none\n")
        XCTAssertEqual(server.stop(signal: SIGQUIT).flatMap(exitCode(ofWaitStatus:)), 0)
        let line = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertTrue(line.hasSuffix("\"-\" \"-\"\n") || line.hasSuffix("\"-\"\n"), line)
        XCTAssertFalse(line.contains("abc"), line)
    }
}
