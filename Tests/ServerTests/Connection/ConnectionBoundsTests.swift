// What one connection can make a worker hold, driven in-process over a
// socketpair: pipelined requests are answered only while little output waits,
// one read takes at most the read size, and buffers that grew for a spike
// shrink back once it has passed.
import Glibc
import Logging
import TestSupport
import XCTest

@testable import Server

/// Answers every request with a body of `responseSize` bytes, and notes for each
/// call how many bytes were still unread in the server's socket (FIONREAD).
private final class MeasuringHandler: HTTPHandler {
    var paths: [String] = []
    var unreadAtCall: [Int] = []
    var responseSize = 2
    var socket: Int32 = -1

    func respond(to request: Request, with response: inout Response) {
        paths.append(request.path.string)
        var unread: Int32 = 0
        _ = ioctl(socket, UInt(FIONREAD), &unread)
        unreadAtCall.append(Int(unread))
        response.body = .bytes(Array(repeating: UInt8(ascii: "r"), count: responseSize))
    }
}

final class ConnectionBoundsTests: XCTestCase {
    private var pair: SocketPair!
    private var handler: MeasuringHandler!
    private var driver: ConnectionDriver!
    private var connection: Connection<Socket>!

    override func setUpWithError() throws {
        pair = try SocketPair()
        handler = MeasuringHandler()
        handler.socket = pair.server
        driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                  handler: handler, logger: Logger(label: "test"))
        connection = Connection(socket: Socket(fd: pair.server), token: 1)
    }

    override func tearDown() {
        pair.close()
    }

    func testPipelinedRequestsAreAnsweredOnlyWhileLittleOutputWaits() {
        handler.responseSize = 5000  // about what /metrics renders
        let requests = (0..<2048).map { "GET /\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }
        pair.clientSends(requests.joined())
        XCTAssertEqual(driver.readable(connection), .outputPending, "the client reads nothing")
        let socketHolds = Self.sendBufferBytes(pair.server)
        XCTAssertLessThanOrEqual(handler.paths.count, (socketHolds + ConnectionDriver.queuedOutputBound) / 5000 + 2,
                                 "only what fills the socket and the bound is rendered, not all 2048")
        XCTAssertEqual(driver.readable(connection), .outputPending, "nothing more while the output waits")
        XCTAssertLessThanOrEqual(handler.paths.count, (socketHolds + ConnectionDriver.queuedOutputBound) / 5000 + 2)

        // As the client reads, the requests already buffered are answered on the writable
        // path alone: in edge-triggered mode no readable event would come for them.
        var received = 0
        var status = ConnectionStatus.outputPending
        for _ in 0..<100_000 where status != .idle {
            received += Self.discardAvailable(pair.client)
            status = status == .yielded ? driver.readable(connection) : driver.writable(connection)
        }
        XCTAssertEqual(status, .idle)
        XCTAssertEqual(handler.paths, (0..<2048).map { "/\($0)" }, "every request answered, in order")
        received += Self.discardAvailable(pair.client)
        XCTAssertGreaterThan(received, 2048 * 5000)
        XCTAssertNil(connection.input, "nothing left over")
        XCTAssertFalse(connection.requestsDeferred)
    }

    func testSixteenPipelinedSmallRequestsAreAnsweredInOneWrite() {
        pair.clientSends(String(repeating: "GET / HTTP/1.1\r\nHost: t\r\n\r\n", count: 16))
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertEqual(handler.paths.count, 16)
        XCTAssertFalse(connection.requestsDeferred, "far below the bound")
        XCTAssertNil(connection.input)
    }

    func testOneReadTakesAtMostTheReadSizeWhenTheConnectionsBufferHasGrown() throws {
        // A 200 KB body arriving in parts makes the connection's own buffer grow.
        let bodyLength = 200_000
        pair.clientSends("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: \(bodyLength)\r\n\r\n")
        pair.clientSends(String(repeating: "b", count: 100_000))
        XCTAssertEqual(driver.readable(connection), .idle)
        pair.clientSends(String(repeating: "b", count: 40_000))
        XCTAssertEqual(driver.readable(connection), .idle)

        // The rest of the body and 8 pipelined requests of 4 KB: more than one read may take.
        let padding = "X-Pad: " + String(repeating: "p", count: 4000) + "\r\n"
        let rest = String(repeating: "b", count: 60_000)
            + (0..<8).map { "GET /\($0) HTTP/1.1\r\nHost: t\r\n\(padding)\r\n" }.joined()
        let own = try XCTUnwrap(connection.input)
        XCTAssertGreaterThan(own.capacity - own.readableCount, rest.utf8.count, "room for all of it in one read")
        pair.clientSends(rest)
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertEqual(handler.paths.first, "/body")
        XCTAssertEqual(handler.paths.count, 9)
        XCTAssertEqual(handler.unreadAtCall.first, rest.utf8.count - ConnectionDriver.readSize,
                       "the read that completed the body took exactly the read size")
    }

    func testSharedOutputBufferShrinksBackAfterALargeResponse() {
        handler.responseSize = 1024 * 1024
        pair.clientSends("GET /large HTTP/1.1\r\nHost: t\r\n\r\n")
        var status = driver.readable(connection)
        for _ in 0..<10_000 where status == .outputPending {
            _ = Self.discardAvailable(pair.client)
            status = driver.writable(connection)
        }
        XCTAssertEqual(status, .idle)
        XCTAssertNil(connection.output, "the connection's own output is dropped once sent")
        XCTAssertEqual(driver.scratchOutput.capacity, ConnectionDriver.readSize, "the shared buffer is back to its normal size")
    }

    func testConnectionsInputShrinksOnceALargeBodyIsConsumed() throws {
        let bodyLength = 150_000
        pair.clientSends("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: \(bodyLength)\r\n\r\n")
        pair.clientSends(String(repeating: "b", count: 100_000))
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertGreaterThan(try XCTUnwrap(connection.input).capacity, ConnectionDriver.readSize, "grown for the body")
        // The body's end, then the start of the next request: the buffer is still needed.
        pair.clientSends(String(repeating: "b", count: 50_000) + "GET /next HTTP/1.1\r\n")
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertEqual(handler.paths, ["/body"])
        let own = try XCTUnwrap(connection.input)
        XCTAssertEqual(own.readableCount, "GET /next HTTP/1.1\r\n".utf8.count)
        XCTAssertLessThanOrEqual(own.capacity, ConnectionDriver.readSize, "shrunk back once the body was consumed")
        pair.clientSends("Host: t\r\n\r\n")
        XCTAssertEqual(driver.readable(connection), .idle)
        XCTAssertEqual(handler.paths, ["/body", "/next"])
        XCTAssertNil(connection.input)
    }

    /// Bytes queued in a socket's send buffer at most (SO_SNDBUF, as the kernel reports it).
    private static func sendBufferBytes(_ fd: Int32) -> Int {
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &length)
        return Int(size)
    }

    private static func discardAvailable(_ fd: Int32) -> Int {
        var total = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { return total }
            total += count
        }
    }
}
