// A request whose body arrives late keeps its own header fields, though the
// worker's shared field storage serves other connections' requests meanwhile
// (see HeaderStorage): in-process, one driver, two connections over socketpairs.
import Logging
import TestSupport
import XCTest

@testable import HTTP1
@testable import ServerSystem
@testable import Server

/// Records each request's X-Name field and body.
private final class FieldRecorder: HTTPHandler {
    var seen: [String] = []

    func respond(to request: Request, with response: inout Response) {
        seen.append("\(request.header("x-name")?.string ?? "-") \(request.body.string)")
        response.body = .bytes(Array("ok".utf8))
    }
}

final class LateBodyFieldsTests: XCTestCase {
    func testALateBodyIsAnsweredWithItsOwnFieldsAfterOtherConnectionsRequests() throws {
        let slowPair = try SocketPair()
        let quickPair = try SocketPair()
        defer { slowPair.close(); quickPair.close() }
        let handler = FieldRecorder()
        let driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                      handler: handler, logger: Logger(label: "test"))
        let slow = Connection(socket: Socket(fd: slowPair.server), token: 1)
        let quick = Connection(socket: Socket(fd: quickPair.server), token: 2)

        slowPair.clientSends("POST / HTTP/1.1\r\nHost: t\r\nX-Name: alpha\r\nContent-Length: 6\r\n\r\nab")
        XCTAssertEqual(driver.readable(slow), .idle)
        XCTAssertTrue(slow.progress.awaitingBody)
        for round in 1...2 {
            quickPair.clientSends("GET / HTTP/1.1\r\nAccept: */*\r\nX-Name: beta\(round)\r\nHost: t\r\n\r\n")
            XCTAssertEqual(driver.readable(quick), .idle)
            slowPair.clientSends(round == 1 ? "cd" : "ef")
            XCTAssertEqual(driver.readable(slow), .idle)
        }
        XCTAssertEqual(handler.seen, ["beta1 ", "beta2 ", "alpha abcdef"])
        XCTAssertNil(slow.progress.parked, "the parked head is released once the request is answered")
        XCTAssertNil(slow.input, "an idle connection holds no buffer")
    }
}
