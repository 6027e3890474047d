// The transport seam's second case: a transport that passes at most a few
// bytes per call to a real socket and answers every other call EAGAIN, driving
// the connection driver's body sending over a socketpair. Partial writes and
// EAGAIN then happen on every step, deterministically, and the body must still
// arrive whole, resumed at the right offset, with the producer never run ahead.
// The same transport also carries the driver's whole request cycle (reads,
// the responses in order) as a connection's own transport, through the generic
// entry points the event loop calls.
import Glibc
import Logging
import TestSupport
import XCTest

@testable import HTTP1
@testable import ServerSystem
@testable import Server

/// What a throttled transport did, kept in a class because transport calls do not mutate the transport.
private final class ThrottleLog {
    var calls = 0
    var refused = 0
    var partial = 0
}

/// Passes at most `limit` bytes per read, write or sendfile to `socket`, and refuses every
/// other call with EAGAIN before touching the socket.
private struct ThrottledTransport: Transport, ~Copyable {
    let socket: Socket
    let limit: Int
    let log = ThrottleLog()

    var fd: Int32 { socket.fd }

    /// Every second call meets a "full socket".
    private func refuses() -> Bool {
        log.calls += 1
        if log.calls % 2 == 0 { log.refused += 1 }
        return log.calls % 2 == 0
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome {
        if refuses() { return .wouldBlock }
        return try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(limit)))
    }

    func write(_ bytes: UnsafeRawBufferPointer, moreFollows: Bool) throws(SystemError) -> WriteOutcome {
        if refuses() { return .wouldBlock }
        if bytes.count > limit { log.partial += 1 }
        return try socket.write(UnsafeRawBufferPointer(rebasing: bytes.prefix(limit)), moreFollows: moreFollows)
    }

    func sendFile(from file: Int32, offset: inout Int, count: Int) throws(SystemError) -> WriteOutcome {
        if refuses() { return .wouldBlock }
        if count > limit { log.partial += 1 }
        return try socket.sendFile(from: file, offset: &offset, count: min(count, limit))
    }

    func shutdownWrite() { socket.shutdownWrite() }
    func resetOnClose() { socket.resetOnClose() }
    func close() { socket.close() }
}

/// Counts how many bytes it has produced: 0, 1, 2, ... (mod 251), `total` in all.
private final class CountingProducer: BodyProducer, @unchecked Sendable {
    let total: Int
    var produced = 0
    init(total: Int) { self.total = total }
    func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(total - produced, buffer.count)
        for index in 0..<count { buffer[index] = UInt8((produced + index) % 251) }
        produced += count
        return count
    }
}

/// Answers every request with its path and body, so that order and integrity show in the responses.
private struct PathAndBodyEcho: HTTPHandler {
    func respond(to request: Request, with response: inout Response) {
        response.body = .bytes(Array("[\(request.path.string) \(request.body.string)]".utf8))
    }
}

final class TransportSeamTests: XCTestCase {
    private var pair: SocketPair!
    private var driver: ConnectionDriver!

    override func setUpWithError() throws {
        pair = try SocketPair()
        driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                  handler: BuiltinRoutes(), logger: Logger(label: "test"))
    }

    /// A connection over the server end of the pair, at most `limit` bytes per call.
    private func throttledConnection(limit: Int) -> Connection<ThrottledTransport> {
        Connection(transport: ThrottledTransport(socket: Socket(fd: pair.server), limit: limit), token: 1)
    }

    override func tearDown() {
        pair.close()
    }

    private static var head: RequestHead {
        RequestHead(method: Span(start: 0, count: 0), target: Span(start: 0, count: 0),
                                          version: .http1_1, headerCount: 0, headLength: 0, bodyLength: 0, totalLength: 0,
                                          isChunked: false, expectsContinue: false, keepAlive: true, isHead: false)
    }

    /// Sends `body` through a transport of at most `limit` bytes per call, reading the client end
    /// between steps, until the body is complete (bounded in steps); returns what arrived.
    private func sendThrottled(_ body: PendingBody, limit: Int, log: inout ThrottleLog?) -> [UInt8] {
        let connection = throttledConnection(limit: limit)
        log = connection.transport.log
        let output = ByteBuffer(capacity: 64)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        for _ in 0..<1_000_000 {
            let status = driver.send(body, through: output, via: connection.transport, on: connection)
            while case let count = Glibc.read(pair.client, &chunk, chunk.count), count > 0 { received += chunk[..<count] }
            if status == nil { break }
            XCTAssertNotEqual(status, .closed)
            if status == .closed { break }
        }
        return received
    }

    func testFileRegionIsResumedAtItsOffsetThroughPartialSendsAndEAGAIN() throws {
        let bytes = (0..<100_000).map { _ in UInt8.random(in: 0...255) }
        let path = "/tmp/transport-seam-\(getpid())"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        defer { unlink(path) }
        let region = try XCTUnwrap(try FileRegion.open(path))
        // A region inside the file: from byte 1000, 90 000 bytes.
        let inner = FileRegion(owning: dup(region.fd), offset: 1000, length: 90_000)
        region.close()
        let body = try XCTUnwrap(PendingBody.holding(Response(body: .file(inner)), for: Self.head))
        var log: ThrottleLog?
        let received = sendThrottled(body, limit: 1000, log: &log)
        XCTAssertEqual(received.count, 90_000)
        XCTAssertTrue(received == Array(bytes[1000..<91_000]), "the region's bytes, in order")
        XCTAssertGreaterThan(log?.refused ?? 0, 80, "EAGAIN met again and again")
        XCTAssertGreaterThan(log?.partial ?? 0, 80, "short sends resumed")
        body.release()
        XCTAssertFalse(inner.isOpen, "the file is closed once the body is done")
    }

    func testChunkedStreamArrivesWholeAndTheProducerWaitsForTheTransport() throws {
        let producer = CountingProducer(total: 200_000)
        let stream = BodyStream(producer: producer)
        let body = try XCTUnwrap(PendingBody.holding(Response(body: .stream(stream)), for: Self.head))
        var log: ThrottleLog?
        let received = sendThrottled(body, limit: 700, log: &log)
        let decoded = try XCTUnwrap(decodeChunked(received), "well-formed chunked body ending in the last chunk")
        XCTAssertEqual(decoded.count, 200_000)
        XCTAssertTrue(decoded.enumerated().allSatisfy { $0.element == UInt8($0.offset % 251) })
        XCTAssertGreaterThan(log?.refused ?? 0, 100)
    }

    func testStreamProducesNoMoreThanOnePieceAheadOfWhatTheTransportTook() throws {
        let producer = CountingProducer(total: 1 << 20)
        let body = try XCTUnwrap(PendingBody.holding(Response(body: .stream(BodyStream(length: 1 << 20, producer: producer))),
                                                     for: Self.head))
        let connection = throttledConnection(limit: 1000)
        let output = ByteBuffer(capacity: 64)
        var taken = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        for _ in 0..<100_000 {
            let status = driver.send(body, through: output, via: connection.transport, on: connection)
            while case let count = Glibc.read(pair.client, &chunk, chunk.count), count > 0 { taken += count }
            // Pieces join the head and each other (a head and a small body leave in one write),
            // but the producer is asked for no more than the room one piece leaves.
            XCTAssertLessThanOrEqual(producer.produced - taken, ConnectionDriver.streamPiece, "at most one piece queued")
            if status == nil { break }
        }
        XCTAssertEqual(taken, 1 << 20, "a known length is sent raw, every byte")
    }

    func testPipelinedRequestsAreAnsweredInOrderThroughASecondTransport() throws {
        let driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                      handler: PathAndBodyEcho(), logger: Logger(label: "test"))
        let connection = throttledConnection(limit: 7)
        // GETs and POSTs with bodies, pipelined in one send; the last one closes the connection.
        let count = 30
        var requests = ""
        var expected: [String] = []
        for index in 0..<count {
            let body = index % 2 == 0 ? "" : String(repeating: "b", count: index)
            let close = index == count - 1 ? "Connection: close\r\n" : ""
            let method = body.isEmpty ? "GET" : "POST"
            requests += "\(method) /r\(index) HTTP/1.1\r\nHost: t\r\n\(close)Content-Length: \(body.count)\r\n\r\n\(body)"
            expected.append("[/r\(index) \(body)]")
        }
        // Sent behind the closing request, so never answered.
        requests += "GET /unanswered HTTP/1.1\r\nHost: t\r\n\r\n"
        pair.clientSends(requests)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status = ConnectionStatus.idle
        for _ in 0..<100_000 where status != .closed {
            // As the event loop does: write while output is pending, else read.
            status = connection.output == nil ? driver.readable(connection) : driver.writable(connection)
            while true {
                let got = Glibc.read(pair.client, &chunk, chunk.count)
                guard got > 0 else { break }
                received += chunk[..<got]
            }
        }
        // Reads of 7 bytes leave the last request's successor unread in the socket, so the
        // closing response ends the connection at once.
        XCTAssertEqual(status, .closed, "the closing response ends the connection")
        let text = String(decoding: received, as: UTF8.self)
        XCTAssertEqual(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count - 1, count)
        var searchFrom = text.startIndex
        for body in expected {
            let found = try XCTUnwrap(text.range(of: body, range: searchFrom..<text.endIndex), "\(body) after its predecessors")
            searchFrom = found.upperBound
        }
        XCTAssertFalse(text.contains("/unanswered"), "nothing after the closing request is answered")
        XCTAssertGreaterThan(connection.transport.log.refused, 100, "EAGAIN met again and again")
        XCTAssertGreaterThan(connection.transport.log.partial, 30, "short writes resumed")
    }

    func testLineProtocolAnswersEveryLineThroughASecondTransport() {
        let driver = LineDriver(answer: "pid 1\n", maxLineBytes: 8192, logger: Logger(label: "test"))
        let connection = throttledConnection(limit: 5)
        let lines = 40
        pair.clientSends(String(repeating: "hello\n", count: lines))
        var received = ""
        for _ in 0..<100_000 where received.count < lines * 6 {
            let status = connection.output == nil ? driver.readable(connection) : driver.writable(connection)
            received += pair.clientReceives()
            XCTAssertNotEqual(status, .closed, "answering lines never closes the connection")
            if status == .closed { break }
        }
        XCTAssertEqual(received, String(repeating: "pid 1\n", count: lines))
        XCTAssertGreaterThan(connection.transport.log.refused, 50)
    }
}
