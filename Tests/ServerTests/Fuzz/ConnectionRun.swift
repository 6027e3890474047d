// ConnectionRun: one property-test case for a whole connection. The input goes
// through a socketpair in random-sized pieces into a ConnectionDriver, as the
// event loop would serve it; what the client reads back and what the handler was
// given are then checked against a model: the parser run over all the bytes at
// once, request after request, the way a reader that sees the whole stream would.
import Glibc
import Logging
import TestSupport

@testable import HTTP1
@testable import ServerSystem
@testable import Server

/// What one handler call saw (the same record is made for the model's requests).
struct HandledRequest: Equatable {
    var body: [UInt8]
    var isHead: Bool
    var closes: Bool

    init(_ request: Request) {
        body = Array(request.body.bytes)
        isHead = request.method == "HEAD"
        closes = request.header("x-close") != nil
    }
}

private final class RecordingHandler: HTTPHandler {
    var calls: [HandledRequest] = []

    func respond(to request: Request, with response: inout Response) {
        let call = HandledRequest(request)
        calls.append(call)
        response.body = .text("ok\n")
        response.closeConnection = call.closes
    }
}

/// What a batch of runs exercised, so a test can show it was not vacuous.
struct ConnectionTally: CustomStringConvertible {
    var connections = 0
    var handled = 0
    var errors = 0
    var continues = 0

    var description: String {
        "\(connections) connections: \(handled) requests handled, \(errors) error responses, \(continues) 100 Continue"
    }
}

struct ConnectionRun {
    let limits: RequestLimits
    private let writer = ResponseWriter(dateCache: DateCache(), serverName: "t")

    /// Feeds `bytes` to a fresh connection and returns the first broken invariant, if any.
    func violation(feeding bytes: [UInt8], _ generator: inout RequestGenerator, tally: inout ConnectionTally) -> String? {
        guard let pair = try? SocketPair() else { return "socketpair failed" }
        defer { pair.close() }
        let handler = RecordingHandler()
        let driver = ConnectionDriver(limits: limits, writer: writer, handler: handler, logger: Logger(label: "fuzz"))
        let connection = Connection(socket: Socket(fd: pair.server), token: 1)
        var received: [UInt8] = []
        var offset = 0
        var closed = false
        while offset < bytes.count && !closed {
            let piece = min(bytes.count - offset, generator.chance(80) ? generator.int(1...16) : generator.int(1...512))
            let sent = bytes.withUnsafeBytes { Glibc.write(pair.client, $0.baseAddress! + offset, piece) }
            guard sent == piece else { return "the client could write only \(sent) of \(piece) bytes" }
            offset += piece
            guard let status = serve(driver, connection, pair, &received) else { return "the driver never settled" }
            closed = status
        }
        if !closed {
            // The client has sent everything and hangs up: the connection must end, answered or not.
            Glibc.shutdown(pair.client, Int32(SHUT_WR))
            guard serve(driver, connection, pair, &received) == true else { return "still open after the client's EOF" }
        }
        received += Self.readAll(pair.client)
        return outcomeViolation(sent: bytes, received: received, calls: handler.calls, tally: &tally)
    }

    /// Services the connection as the event loop would until it waits for the
    /// client again (false) or is closed (true); nil if it never settles.
    private func serve(_ driver: ConnectionDriver, _ connection: Connection<Socket>, _ pair: SocketPair,
                       _ received: inout [UInt8]) -> Bool? {
        var status = driver.readable(connection)
        for _ in 0..<1000 {
            received += Self.readAll(pair.client)
            switch status {
            case .idle: return false
            case .closed: return true
            case .yielded: status = driver.readable(connection)
            case .outputPending: status = driver.writable(connection)
            }
        }
        return nil
    }

    private func outcomeViolation(sent: [UInt8], received: [UInt8], calls: [HandledRequest],
                                  tally: inout ConnectionTally) -> String? {
        let (expectedCalls, expectedError) = model(sent)
        if calls != expectedCalls {
            return "handler saw \(calls.count) requests (bodies \(calls.map(\.body.count))), "
                + "the whole stream holds \(expectedCalls.count) (bodies \(expectedCalls.map(\.body.count)))"
        }
        if calls.contains(where: { $0.body.count > sent.count }) { return "a body longer than all that was sent" }
        let codes: [Int]
        switch Self.statusCodes(of: received, answering: calls) {
        case .success(let parsed): codes = parsed
        case .failure(let broken): return "response stream: \(broken.text)"
        }
        let finals = codes.filter { $0 != 100 }
        let errors = finals.filter { $0 != 200 }
        tally.connections += 1
        tally.handled += calls.count
        tally.errors += errors.count
        tally.continues += codes.count - finals.count
        if finals.count - errors.count != calls.count { return "\(finals) answered \(calls.count) handler calls" }
        if errors.count > 1 { return "more than one error response: \(codes)" }
        if let error = errors.first {
            if codes.last != error { return "answered after the error response: \(codes)" }
            guard let expected = expectedError else { return "error \(error) for a stream the parser reads without one" }
            // A refusal decided before all the bytes were in may differ (414 or 431 for a head
            // still growing; see ParserPropertyTests); any other must be the same.
            if error != expected.code && ![414, 431].contains(error) { return "answered \(error), expected \(expected)" }
        } else if let expected = expectedError {
            return "no error response; the parser refuses the stream with \(expected)"
        }
        let continues = codes.count - finals.count
        if continues > calls.count + 1 { return "\(continues) interim 100 responses for \(calls.count) requests" }
        return nil
    }

    /// The requests a reader of the whole stream finds before the first incomplete
    /// or invalid one (whose status is returned) or the first that closes the connection.
    private func model(_ sent: [UInt8]) -> ([HandledRequest], HTTPStatus?) {
        let parser = RequestParser(limits: limits)
        let storage = HeaderStorage(limits: limits)
        var copy = sent
        var calls: [HandledRequest] = []
        let error = copy.withUnsafeMutableBytes { raw -> HTTPStatus? in
            var offset = 0
            while offset < raw.count {
                let rest = UnsafeMutableRawBufferPointer(rebasing: raw[offset...])
                var progress = ParseProgress()
                switch parser.parse(UnsafeRawBufferPointer(rest), progress: &progress, fields: storage.buffer) {
                case .incomplete, .head: return nil  // .head comes only from parseHead
                case .invalid(let status): return status
                case .complete(var head):
                    if head.isChunked { head.bodyLength = ChunkedBody.decode(rest, from: head.headLength) }
                    let call = HandledRequest(Request(bytes: UnsafeRawBufferPointer(rest), head: head,
                                                      fields: UnsafeBufferPointer(storage.buffer)))
                    calls.append(call)
                    offset += head.totalLength
                    if !head.keepAlive || call.closes { return nil }
                }
            }
            return nil
        }
        return (calls, error)
    }

    struct Malformed: Error { let text: String }

    /// The status codes of the responses in `bytes`, which must be whole responses
    /// back to back: a status line, header fields, and the body Content-Length gives
    /// (none for 100, or for a 200 to a HEAD request).
    static func statusCodes(of bytes: [UInt8], answering calls: [HandledRequest]) -> Result<[Int], Malformed> {
        var codes: [Int] = []
        var index = 0
        var answered = 0
        while index < bytes.count {
            guard bytes[index...].starts(with: "HTTP/1.1 ".utf8), bytes.count - index >= 12,
                  let code = Int(String(decoding: bytes[(index + 9)..<(index + 12)], as: UTF8.self)),
                  let headEnd = endOfHead(bytes, from: index) else {
                let preview = String(decoding: bytes[index...].prefix(40), as: UTF8.self)
                return .failure(Malformed(text: "no response at byte \(index): \(preview.debugDescription)"))
            }
            let head = String(decoding: bytes[index..<headEnd], as: UTF8.self)
            var bodyLength = head.components(separatedBy: "\r\nContent-Length: ").dropFirst().first
                .flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
            if code != 100 && code != 200 && !head.contains("\r\nConnection: close\r\n") {
                return .failure(Malformed(text: "error \(code) without Connection: close"))
            }
            if code == 200 {
                if answered < calls.count && calls[answered].isHead { bodyLength = 0 }
                answered += 1
            }
            codes.append(code)
            index = headEnd + bodyLength
        }
        return index == bytes.count ? .success(codes) : .failure(Malformed(text: "the last body is cut short"))
    }

    /// One past the CRLFCRLF that ends the response head starting at `start`.
    private static func endOfHead(_ bytes: [UInt8], from start: Int) -> Int? {
        let end: [UInt8] = [13, 10, 13, 10]
        var index = start
        while index + 4 <= bytes.count {
            if bytes[index..<(index + 4)].elementsEqual(end) { return index + 4 }
            index += 1
        }
        return nil
    }

    static func readAll(_ fd: Int32) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            guard count > 0 else { return received }
            received += chunk[0..<count]
        }
    }
}
