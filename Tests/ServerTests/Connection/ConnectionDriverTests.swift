// The request cycle of one connection, in-process over a socketpair: what the
// handler is given, what goes back, and what happens when the peer stops reading.
import Glibc
import Logging
import TestSupport
import XCTest

@testable import HTTP1
@testable import ServerSystem
@testable import Server

/// Records what it was given and answers with a body of the requested size.
private final class RecordingHandler: HTTPHandler {
    var bodies: [String] = []
    var paths: [String] = []
    var responseSize = 2

    func respond(to request: Request, with response: inout Response) {
        bodies.append(request.body.string)
        paths.append(request.path.string)
        response.body = .bytes(Array(repeating: UInt8(ascii: "r"), count: responseSize))
        if request.header("x-close") != nil { response.closeConnection = true }
    }
}

final class ConnectionDriverTests: XCTestCase {
    private var pair: SocketPair!
    private var handler: RecordingHandler!
    private var driver: ConnectionDriver!
    private var connection: Connection<Socket>!

    override func setUpWithError() throws {
        pair = try SocketPair()
        handler = RecordingHandler()
        driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                  handler: handler, logger: Logger(label: "test"))
        connection = Connection(socket: Socket(fd: pair.server), token: 1)
    }

    override func tearDown() {
        pair.close()
    }

    func testContentLengthBodyIsHandedToTheHandler() {
        pair.clientSends("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world")
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertEqual(handler.bodies, ["hello world"])
        XCTAssertEqual(handler.paths, ["/upload"])
        XCTAssertTrue(pair.clientReceives().hasPrefix("HTTP/1.1 200 OK\r\n"))
    }

    func testBodyArrivingInPiecesIsHandedOverWhole() {
        pair.clientSends("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234")
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertEqual(handler.bodies, [], "not called before the body is complete")
        XCTAssertNotNil(connection.input, "the partial request is kept by the connection")
        pair.clientSends("56789")
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertEqual(handler.bodies, ["0123456789"])
        XCTAssertNil(connection.input, "an idle connection holds no buffer")
    }

    func testPipelinedResponsesGoOutInOneWriteInOrder() {
        pair.clientSends((1...5).map { "GET /\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined())
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertEqual(handler.paths, ["/1", "/2", "/3", "/4", "/5"])
        XCTAssertEqual(pair.clientReceives().components(separatedBy: "HTTP/1.1 200 OK").count - 1, 5)
    }

    func testHandlerCanCloseTheConnectionAndLaterRequestsAreIgnored() {
        pair.clientSends("GET /a HTTP/1.1\r\nHost: t\r\nX-Close: 1\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertTrue(connection.lingering, "unread pipelined bytes: linger instead of a reset")
        XCTAssertEqual(handler.paths, ["/a"])
        XCTAssertTrue(pair.clientReceives().contains("Connection: close\r\n"))
        pair.closeClient()
        XCTAssertEqual(driver.readable(connection), .closed, "closed once the client has closed too")
    }

    func testClosingResponseWithNothingUnreadClosesAtOnce() {
        pair.clientSends("GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(driver.readable(connection), .closed)
        XCTAssertFalse(connection.lingering)
    }

    func testMalformedRequestIsAnsweredWith400ThenLingers() {
        pair.clientSends("GET / HTTP/1.1\r\nHost t\r\n\r\n")
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertTrue(connection.lingering, "the write side is shut and the rest of the input drained")
        XCTAssertEqual(handler.paths, [], "the handler never sees a malformed request")
        XCTAssertTrue(pair.clientReceives().hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        pair.clientSends("more bytes the client was still sending")
        XCTAssertEqual(driver.readable(connection), .idle, "drained and discarded")
        XCTAssertEqual(handler.paths, [])
        pair.closeClient()
        XCTAssertEqual(driver.readable(connection), .closed)
    }

    func testPeerThatStopsReadingIsNotReadFromUntilItsOutputDrains() {
        handler.responseSize = 4 * 1024 * 1024  // far more than the socket buffer holds
        pair.clientSends("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(driver.readable(connection), .outputPending)
        XCTAssertNotNil(connection.output, "what the socket did not take is kept")

        pair.clientSends("GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(driver.readable(connection), .outputPending)
        XCTAssertEqual(handler.paths, ["/big"], "no new request is read while output is pending")

        var received = 0
        var status = ConnectionStatus.outputPending
        for _ in 0..<10_000 where status == .outputPending {
            received += pair.clientReceives().utf8.count
            status = driver.writable(connection)
        }
        XCTAssertEqual(status, .idle)
        XCTAssertEqual(handler.paths, ["/big", "/next"], "reading resumes once the output has drained")
        XCTAssertNil(connection.output)
        received += pair.clientReceives().utf8.count
        XCTAssertGreaterThan(received, 2 * 4 * 1024 * 1024)
    }

    func testPeerThatHasGoneIsClosed() {
        pair.clientSends("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        pair.closeClient()
        XCTAssertEqual(driver.readable(connection), .closed)
    }
}
