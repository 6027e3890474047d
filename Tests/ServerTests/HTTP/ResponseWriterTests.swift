// ResponseWriter and DateCache: the bytes of a serialised response, read back
// field by field, and the IMF-fixdate the Date field carries.
import XCTest
@testable import HTTP1
@testable import Server

final class ResponseWriterTests: XCTestCase {
    /// RFC 9110 §5.6.7's example instant: Sun, 06 Nov 1994 08:49:37 GMT.
    private static let exampleInstant = 784_111_777
    private static let exampleDate = "Sun, 06 Nov 1994 08:49:37 GMT"

    // MARK: Framing fields

    func testStatusLineNamesCodeAndReason() {
        XCTAssertEqual(write(Response()).statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(write(Response(status: .notFound)).statusLine, "HTTP/1.1 404 Not Found")
        // RFC 9110 §6.2: a server sends its own highest version, even to an HTTP/1.0 client.
        XCTAssertEqual(write(Response(), version: .http1_0).statusLine, "HTTP/1.1 200 OK")
    }

    func testServerFieldNamesTheServer() {
        XCTAssertEqual(write(Response()).values("server"), ["unit-test"])
    }

    func testDateFieldIsTheCachedIMFFixdate() throws {
        let date = try XCTUnwrap(write(Response()).value("date"))
        XCTAssertEqual(date, Self.exampleDate)
        XCTAssertEqual(date.utf8.count, DateCache.length)
    }

    func testContentTypeIsTheResponses() {
        let response = Response(contentType: "application/json", body: .text("{}"))
        XCTAssertEqual(write(response).values("content-type"), ["application/json"])
    }

    func testContentLengthMatchesTheBody() {
        let bodies: [(name: String, body: ResponseBody, expected: String)] = [
            ("text", .text("hello, world"), "hello, world"),
            ("bytes", .bytes(Array("été".utf8)), "été"),
            ("empty", .empty, ""),
        ]
        for (name, body, expected) in bodies {
            let written = write(Response(body: body))
            XCTAssertEqual(written.values("content-length"), ["\(expected.utf8.count)"], name)
            XCTAssertEqual(written.bodyText, expected, name)
        }
    }

    // MARK: Persistence (RFC 9112 §9.3)

    func testConnectionCloseWhenNotKeptAlive() {
        for version in [HTTPVersion.http1_1, .http1_0] {
            XCTAssertEqual(write(Response(), version: version, keepAlive: false).values("connection"), ["close"])
        }
    }

    func testHTTP11KeepAliveSendsNoConnectionField() {
        XCTAssertEqual(write(Response(), version: .http1_1, keepAlive: true).values("connection"), [])
    }

    func testHTTP10KeepAliveIsAnnounced() {
        // An HTTP/1.0 client closes unless the response says keep-alive (RFC 9112 §9.3, Appendix C.2.2).
        XCTAssertEqual(write(Response(), version: .http1_0, keepAlive: true).values("connection"), ["keep-alive"])
    }

    // MARK: Responses without content

    func testHeadResponseHasTheGetFieldsButNoBody() {
        let response = Response(body: .text("twelve bytes"))
        let get = write(response)
        let head = write(response, isHead: true)
        // RFC 9110 §9.3.2: the same fields as GET, Content-Length included, and no content.
        XCTAssertEqual(head.fields.map(\.name), get.fields.map(\.name))
        XCTAssertEqual(head.values("content-length"), ["12"])
        XCTAssertEqual(head.body, [])
    }

    func testNoContentResponseHasNoBody() {
        let written = write(Response(status: .noContent, body: .text("ignored")))
        XCTAssertEqual(written.statusLine, "HTTP/1.1 204 No Content")
        XCTAssertEqual(written.body, [])
    }

    func testNoContentResponseHasNoContentLength() {
        // RFC 9110 §8.6: a server MUST NOT send Content-Length in a 1xx or 204 response.
        XCTAssertEqual(write(Response(status: .noContent)).values("content-length"), [])
    }

    // MARK: Extra fields

    func testAddedFieldsFollowInOrder() {
        var response = Response(body: .text("x"))
        response.addHeader("Cache-Control", "no-store")
        response.addHeader("X-Request-Id", "42")
        let written = write(response)
        XCTAssertEqual(Array(written.fields.suffix(2).map(\.name)), ["Cache-Control", "X-Request-Id"])
        XCTAssertEqual(written.values("cache-control"), ["no-store"])
        XCTAssertEqual(written.values("x-request-id"), ["42"])
        XCTAssertEqual(written.bodyText, "x")
    }

    func testFieldValueWithLineBreakIsDropped() {
        // RFC 9110 §5.5: CR, LF and NUL never appear in a field value; letting them through would split the response.
        var response = Response()
        response.addHeader("X-Split", "a\r\nSet-Cookie: stolen")
        response.addHeader("X-Split", "a\nb")
        response.addHeader("X-Split", "a\rb")
        response.addHeader("X-Nul", "a\u{0}b")
        response.addHeader("X-Kept", "fine")
        XCTAssertEqual(response.headers.map(\.value), ["fine"])
        let written = write(response)
        XCTAssertEqual(written.values("set-cookie"), [])
        XCTAssertEqual(written.values("x-split"), [])
        XCTAssertEqual(written.values("x-kept"), ["fine"])
    }

    // MARK: Error responses

    func testErrorResponseClosesAndNamesTheStatus() {
        let written = writeError(.badRequest)
        XCTAssertEqual(written.statusLine, "HTTP/1.1 400 Bad Request")
        XCTAssertEqual(written.values("connection"), ["close"])
        XCTAssertEqual(written.values("date"), [Self.exampleDate])
        XCTAssertEqual(written.bodyText, "Bad Request\n")
        XCTAssertEqual(written.values("content-length"), ["12"])
    }

    func testErrorResponsesAreFramedExactly() {
        let statuses: [HTTPStatus] = [.badRequest, .contentTooLarge, .uriTooLong, .requestHeaderFieldsTooLarge,
                                      .internalServerError, .notImplemented, .httpVersionNotSupported]
        for status in statuses {
            let written = writeError(status)
            XCTAssertEqual(written.statusLine, "HTTP/1.1 \(status)")
            XCTAssertEqual(written.values("content-length"), ["\(written.body.count)"], "\(status)")
        }
    }

    func testResponsesWrittenBackToBackStayApart() {
        let cache = Self.exampleDateCache()
        let writer = ResponseWriter(dateCache: cache, serverName: "unit-test")
        let out = ByteBuffer(capacity: 16)
        writer.write(Response(body: .text("one")), for: Self.head(), keepAlive: true, into: out)
        let firstLength = out.readableCount
        writer.write(Response(body: .text("two")), for: Self.head(), keepAlive: true, into: out)
        let bytes = Self.bytes(of: out)
        XCTAssertEqual(WrittenResponse(bytes[..<firstLength]).bodyText, "one")
        let second = WrittenResponse(bytes[firstLength...])
        XCTAssertEqual(second.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(second.bodyText, "two")
    }

    // MARK: DateCache (RFC 9110 §5.6.7)

    func testDateCacheFormatsIMFFixdate() {
        let instants: [(seconds: Int, date: String)] = [
            (Self.exampleInstant, Self.exampleDate),
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ]
        let cache = DateCache()
        for (seconds, date) in instants {
            cache.refresh(now: seconds)
            XCTAssertEqual(String(decoding: cache.value, as: UTF8.self), date, "\(seconds)")
        }
    }

    func testDateCacheStartsAtTheCurrentTime() {
        let cache = DateCache()
        let value = withExtendedLifetime(cache) { String(decoding: cache.value, as: UTF8.self) }
        XCTAssertEqual(value.utf8.count, DateCache.length)
        XCTAssertTrue(value.hasSuffix(" GMT"), value)
        XCTAssertNotEqual(value, "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    // MARK: Helpers

    private static func exampleDateCache() -> DateCache {
        let cache = DateCache()
        cache.refresh(now: exampleInstant)
        return cache
    }

    /// A parsed request head with just what the writer reads: the version and whether it is HEAD.
    private static func head(version: HTTPVersion = .http1_1, isHead: Bool = false) -> RequestHead {
        RequestHead(method: Span(start: 0, count: 0), target: Span(start: 0, count: 0), version: version,
                    headerCount: 0, headLength: 0, bodyLength: 0, totalLength: 0, isChunked: false, expectsContinue: false,
                    keepAlive: true, isHead: isHead)
    }

    /// A copy of what `buffer` holds; taking it as an argument keeps the buffer alive while copying.
    private static func bytes(of buffer: ByteBuffer) -> [UInt8] { buffer.withReadableBytes { Array($0) } }

    private func write(_ response: Response, version: HTTPVersion = .http1_1, keepAlive: Bool = true,
                       isHead: Bool = false) -> WrittenResponse {
        let writer = ResponseWriter(dateCache: Self.exampleDateCache(), serverName: "unit-test")
        let out = ByteBuffer(capacity: 16)
        writer.write(response, for: Self.head(version: version, isHead: isHead), keepAlive: keepAlive, into: out)
        return WrittenResponse(Self.bytes(of: out)[...])
    }

    private func writeError(_ status: HTTPStatus) -> WrittenResponse {
        let writer = ResponseWriter(dateCache: Self.exampleDateCache(), serverName: "unit-test")
        let out = ByteBuffer(capacity: 16)
        writer.writeError(status, into: out)
        return WrittenResponse(Self.bytes(of: out)[...])
    }
}

/// A serialised response split at its empty line into status line, fields and body.
private struct WrittenResponse {
    var statusLine = ""
    var fields: [(name: String, value: String)] = []
    var body: [UInt8] = []

    init(_ bytes: ArraySlice<UInt8>) {
        let crlfcrlf: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: crlfcrlf) }) else {
            XCTFail("no empty line in \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            return
        }
        // Every line of the head ends in CRLF (RFC 9112 §2.1), so splitting at LF leaves a CR on each.
        var lines = (bytes[..<end] + [13]).split(separator: 10, omittingEmptySubsequences: false).map { line in
            XCTAssertEqual(line.last, 13, "line without CRLF: \(String(decoding: line, as: UTF8.self).debugDescription)")
            return String(decoding: line.dropLast(), as: UTF8.self)
        }
        statusLine = lines.removeFirst()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else {
                XCTFail("field line without a colon: \(line.debugDescription)")
                continue
            }
            let value = line[line.index(after: colon)...].drop(while: { $0 == " " })
            fields.append((String(line[..<colon]), String(value)))
        }
        body = Array(bytes[(end + 4)...])
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Values of every field named `name`, ignoring case.
    func values(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name }.map(\.value)
    }

    func value(_ name: String) -> String? { values(name).first }
}

// MARK: File and stream bodies

/// Produces `pieces` in turn, then the end.
private final class PiecesProducer: BodyProducer, @unchecked Sendable {
    private var pieces: [[UInt8]]
    init(_ pieces: [[UInt8]]) { self.pieces = pieces }
    func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard !pieces.isEmpty else { return 0 }
        let piece = pieces.removeFirst()
        buffer.copyBytes(from: piece)
        return piece.count
    }
}

extension ResponseWriterTests {
    func testStreamOfUnknownLengthIsFramedChunkedWithoutContentLength() {
        let response = Response(body: .stream(BodyStream(producer: PiecesProducer([]))))
        let written = write(response)
        XCTAssertEqual(written.value("transfer-encoding"), "chunked")
        XCTAssertNil(written.value("content-length"))
        XCTAssertEqual(written.body, [], "the pieces follow the head, from the connection")
    }

    func testStreamOfUnknownLengthToHTTP10HasNeitherFramingFieldAndClosesTheConnection() {
        let body = ResponseBody.stream(BodyStream(producer: PiecesProducer([])))
        XCTAssertFalse(body.allowsKeepAlive(for: .http1_0), "RFC 9112 §6.3: the close delimits it")
        XCTAssertTrue(body.allowsKeepAlive(for: .http1_1))
        let written = write(Response(body: body), version: .http1_0, keepAlive: false)
        XCTAssertNil(written.value("transfer-encoding"))
        XCTAssertNil(written.value("content-length"))
        XCTAssertEqual(written.value("connection"), "close")
    }

    func testStreamOfKnownLengthAndFileRegionCarryContentLength() {
        let stream = Response(body: .stream(BodyStream(length: 12, producer: PiecesProducer([]))))
        XCTAssertEqual(write(stream).value("content-length"), "12")
        XCTAssertNil(write(stream).value("transfer-encoding"))
        let region = FileRegion(owning: -1, offset: 5, length: 1000)
        XCTAssertEqual(write(Response(body: .file(region))).value("content-length"), "1000")
        XCTAssertEqual(write(Response(body: .file(region))).body, [])
    }

    func testChunkIsHexSizeLineDataAndCRLF() {
        let out = ByteBuffer(capacity: 16)
        let last = ChunkedWriter.appendChunk(into: out, maximum: 64) { buffer in
            buffer.copyBytes(from: Array("0123456789".utf8))
            return 10
        }
        XCTAssertFalse(last)
        XCTAssertEqual(String(decoding: out.withReadableBytes { Array($0) }, as: UTF8.self), "a\r\n0123456789\r\n")
    }

    func testLastChunkIsZeroAndTheEmptyTrailerSection() {
        let out = ByteBuffer(capacity: 16)
        XCTAssertTrue(ChunkedWriter.appendChunk(into: out, maximum: 64) { _ in 0 })
        XCTAssertEqual(String(decoding: out.withReadableBytes { Array($0) }, as: UTF8.self), "0\r\n\r\n")
    }

    func testChunksOfSeveralPiecesDecodeToTheProducedBytes() {
        let pieces: [[UInt8]] = [Array(repeating: 7, count: 16 * 1024), [1], Array(repeating: 9, count: 255)]
        let producer = PiecesProducer(pieces)
        let out = ByteBuffer(capacity: 16)
        var done = false
        for _ in 0..<10 where !done {
            done = ChunkedWriter.appendChunk(into: out, maximum: 16 * 1024) { producer.produce(into: $0) }
        }
        XCTAssertTrue(done)
        let text = out.withReadableBytes { Array($0) }
        XCTAssertTrue(text.starts(with: Array("4000\r\n".utf8)), "16 KiB is 4000 in hex")
        XCTAssertEqual(decodeChunked(text), pieces.flatMap { $0 })
    }
}

/// The body a chunked message carries (RFC 9112 §7.1), or nil if it is malformed or lacks its last chunk.
func decodeChunked(_ bytes: [UInt8]) -> [UInt8]? {
    var body: [UInt8] = []
    var index = 0
    while true {
        guard let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
              let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16) else { return nil }
        let dataStart = lineEnd + 2
        if size == 0 { return bytes[dataStart...].elementsEqual([13, 10]) ? body : nil }
        guard dataStart + size + 2 <= bytes.count, bytes[dataStart + size] == 13, bytes[dataStart + size + 1] == 10 else { return nil }
        body += bytes[dataStart..<dataStart + size]
        index = dataStart + size + 2
    }
}
