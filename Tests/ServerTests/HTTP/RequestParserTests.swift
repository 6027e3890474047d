// RequestParser over in-memory bytes: complete requests, every byte boundary of
// incomplete ones, pipelining, the RFC 9112/9110 rules that make a request
// invalid, and the Request view a handler sees.
import XCTest
@testable import HTTP1
@testable import Server

final class RequestParserTests: XCTestCase {
    // MARK: Complete requests

    func testGetWithHeadersIsComplete() throws {
        let text = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
        let head = try XCTUnwrap(completeHead(text))
        XCTAssertEqual(string(head.method, in: text), "GET")
        XCTAssertEqual(string(head.target, in: text), "/index.html?q=1")
        XCTAssertEqual(head.version, .http1_1)
        XCTAssertEqual(head.headerCount, 2)
        XCTAssertEqual(head.headLength, text.utf8.count)
        XCTAssertEqual(head.bodyLength, 0)
        XCTAssertFalse(head.isHead)
    }

    func testHTTP10RequestWithoutHeadersIsComplete() throws {
        let head = try XCTUnwrap(completeHead("GET / HTTP/1.0\r\n\r\n"))
        XCTAssertEqual(head.version, .http1_0)
        XCTAssertEqual(head.headerCount, 0)
        XCTAssertEqual(head.totalLength, 18)
    }

    func testHeadRequestIsMarkedAsHead() {
        XCTAssertEqual(completeHead("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")?.isHead, true)
        // Methods are case-sensitive (RFC 9110 §9.1): "head" is some other method.
        XCTAssertEqual(completeHead("head / HTTP/1.1\r\nHost: h\r\n\r\n")?.isHead, false)
    }

    func testPostBodyIsCountedInTotalLength() throws {
        let headText = "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"
        let head = try XCTUnwrap(completeHead(headText + "hello world"))
        XCTAssertEqual(head.headLength, headText.utf8.count)
        XCTAssertEqual(head.bodyLength, 11)
        XCTAssertEqual(head.totalLength, headText.utf8.count + 11)
    }

    func testLeadingEmptyLinesAreIgnored() throws {
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
        let text = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"
        let head = try XCTUnwrap(completeHead(text))
        XCTAssertEqual(string(head.method, in: text), "GET")
        XCTAssertEqual(head.headLength, text.utf8.count, "the skipped lines belong to this request's bytes")
    }

    func testBareLineFeedsEndLines() throws {
        // RFC 9112 §2.2: a recipient MAY accept a single LF as a line terminator.
        let text = "GET /lf HTTP/1.1\nHost: h\nX-A: b\n\n"
        let head = try XCTUnwrap(completeHead(text))
        XCTAssertEqual(string(head.target, in: text), "/lf")
        XCTAssertEqual(head.headerCount, 2)
        XCTAssertEqual(head.headLength, text.utf8.count)
    }

    func testFieldValueWhitespaceIsTrimmed() {
        // RFC 9112 §5: OWS around the field value is not part of it.
        let fields = fieldStrings("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t v  w \t \r\nX-Empty:   \r\n\r\n")
        XCTAssertEqual(fields.map(\.name), ["Host", "X-A", "X-Empty"])
        XCTAssertEqual(fields.map(\.value), ["h", "v  w", ""])
    }

    func testConnectionPersistenceFollowsVersionAndOptions() {
        // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". Options are a
        // case-insensitive comma-separated list (RFC 9110 §7.6.1), and "close" wins.
        let cases: [(name: String, request: String, keepAlive: Bool)] = [
            ("HTTP/1.1 persists by default", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", true),
            ("HTTP/1.1 with close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false),
            ("HTTP/1.1 with a list ending in Close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Close\r\n\r\n", false),
            ("HTTP/1.1 with keep-alive and close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive,close\r\n\r\n", false),
            ("HTTP/1.1 with an option only containing close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", true),
            ("HTTP/1.0 closes by default", "GET / HTTP/1.0\r\n\r\n", false),
            ("HTTP/1.0 with keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
            ("HTTP/1.0 with Keep-Alive in a list", "GET / HTTP/1.0\r\nConnection: te,  Keep-Alive\r\n\r\n", true),
            ("HTTP/1.0 with keep-alive then close", "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false),
        ]
        for testCase in cases {
            XCTAssertEqual(completeHead(testCase.request)?.keepAlive, testCase.keepAlive, testCase.name)
        }
    }

    // MARK: Incomplete requests, at every byte boundary

    private static let samples = [
        "GET /a?b=c HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\nHost: h\nX: y\n\n",
        "GET / HTTP/1.1\r\nHost: h\n\r\n",
        "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: h\r\nX:\r\n\r\n",
        "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n\r\n\r\n",
    ]

    func testEveryStrictPrefixIsIncomplete() {
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            for length in 0..<bytes.count {
                let result = parse(Array(bytes[..<length]))
                XCTAssertEqual(Verdict(result), .incomplete, "\(sample.debugDescription) cut at \(length)")
            }
        }
    }

    func testFeedingOneByteAtATimeMatchesSingleShot() throws {
        for sample in Self.samples {
            let expected = try XCTUnwrap(completeHead(sample).map(Snapshot.init))
            let parser = RequestParser(limits: RequestLimits())
            var buffer: [UInt8] = []
            var scanned = ParseProgress()
            for byte in sample.utf8 {
                buffer.append(byte)
                let before = scanned.headScanned
                let result = buffer.withUnsafeBytes { parser.parse($0, progress: &scanned) }
                let label = "\(sample.debugDescription) after \(buffer.count) bytes"
                if buffer.count < sample.utf8.count {
                    XCTAssertEqual(Verdict(result), .incomplete, label)
                    XCTAssertGreaterThanOrEqual(scanned.headScanned, before, "scan position went back: " + label)
                    XCTAssertLessThanOrEqual(scanned.headScanned, buffer.count, "scan position past the bytes: " + label)
                } else if case .complete(let head) = result {
                    XCTAssertEqual(Snapshot(head), expected, label)
                } else {
                    XCTFail("expected complete, got \(Verdict(result)): " + label)
                }
            }
        }
    }

    func testSplittingAnywhereWithCarriedScanMatchesSingleShot() throws {
        for sample in Self.samples {
            let expected = try XCTUnwrap(completeHead(sample).map(Snapshot.init))
            let bytes = Array(sample.utf8)
            for split in 0..<bytes.count {
                let parser = RequestParser(limits: RequestLimits())
                var scanned = ParseProgress()
                _ = Array(bytes[..<split]).withUnsafeBytes { parser.parse($0, progress: &scanned) }
                let result = bytes.withUnsafeBytes { parser.parse($0, progress: &scanned) }
                guard case .complete(let head) = result else {
                    XCTFail("\(sample.debugDescription) split at \(split): \(Verdict(result))")
                    continue
                }
                XCTAssertEqual(Snapshot(head), expected, "\(sample.debugDescription) split at \(split)")
            }
        }
    }

    // MARK: Pipelining

    func testPipelinedRequestsParseOneAfterAnother() throws {
        let first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        let second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        let bytes = Array((first + second).utf8)
        let firstHead = try XCTUnwrap(completeHead(bytes))
        XCTAssertEqual(firstHead.totalLength, first.utf8.count, "the first parse consumes exactly the first request")
        let rest = Array(bytes[firstHead.totalLength...])
        let secondHead = try XCTUnwrap(completeHead(rest))
        XCTAssertEqual(string(secondHead.target, in: second), "/b")
        XCTAssertEqual(secondHead.totalLength, second.utf8.count)
    }

    // MARK: Malformed and refused requests

    func testMalformedRequestsAreRejectedWithTheRightStatus() {
        for rule in Self.rules {
            let result = parse(Array(rule.request.utf8), limits: rule.limits)
            XCTAssertEqual(Verdict(result), rule.expected, rule.name, line: rule.line)
        }
    }

    private static let small = RequestLimits(maxRequestLineBytes: 32, maxHeaderBytes: 64,
                                             maxHeaderCount: 3, maxBodyBytes: 10)

    /// No bound on the body at all, as no configuration allows: the parser alone must keep lengths from overflowing.
    private static let unbounded = RequestLimits(maxBodyBytes: Int.max)

    private static let rules: [Rule] = [
        // Request line: method SP request-target SP HTTP-version CRLF (RFC 9112 §3).
        rule("empty method (RFC 9112 §3: method = token)", " / HTTP/1.1\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("non-token byte in method (RFC 9110 §9.1)", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("double space before target (RFC 9112 §3: one SP)", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("double space before version (RFC 9112 §3: one SP)", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("missing version (RFC 9112 §3)", "GET /\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("missing target (RFC 9112 §3)", "GET HTTP/1.1\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("trailing space after version (RFC 9112 §3)", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", .rejected(400)),
        rule("NUL byte in target (RFC 9112 §3.2)", "GET /a\u{0}b HTTP/1.1\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("DEL byte in target (RFC 9112 §3.2)", "GET /a\u{7F}b HTTP/1.1\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("bare CR ends the request line (RFC 9112 §2.2)", "GET / HTTP/1.1\rHost: h\r\n\r\n", .rejected(400)),
        rule("bare CR before the request line is no empty line (RFC 9112 §2.2)", "\rGET / HTTP/1.0\r\n\r\n", .rejected(400)),
        // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); unsupported majors get 505 (RFC 9110 §15.6.6).
        rule("HTTP/2.0 is not supported (RFC 9110 §15.6.6)", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", .rejected(505)),
        rule("HTTP/1.2 is not supported (RFC 9110 §15.6.6)", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", .rejected(505)),
        rule("HTTX is not HTTP-name (RFC 9112 §2.3)", "GET / HTTX/1.1\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("HTTP-name is case-sensitive (RFC 9112 §2.3)", "GET / http/1.1\r\nHost: h\r\n\r\n", .rejected(400)),
        rule("two-digit minor version (RFC 9112 §2.3: one DIGIT)", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", .rejected(400)),
        // Field lines: field-name ":" OWS field-value OWS (RFC 9112 §5).
        rule("space before colon (RFC 9112 §5.1)", request("X-A : b\r\n"), .rejected(400)),
        rule("tab before colon (RFC 9112 §5.1)", request("X-A\t: b\r\n"), .rejected(400)),
        rule("obs-fold with SP (RFC 9112 §5.2)", request("X-A: b\r\n c\r\n"), .rejected(400)),
        rule("obs-fold with HT (RFC 9112 §5.2)", request("X-A: b\r\n\tc\r\n"), .rejected(400)),
        rule("whitespace before the first field (RFC 9112 §2.2)", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", .rejected(400)),
        rule("bare CR inside a field value (RFC 9112 §2.2)", request("X-A: b\rc\r\n"), .rejected(400)),
        rule("bare CR before CRLF (RFC 9112 §2.2)", request("X-A: b\r\r\n"), .rejected(400)),
        rule("bare CR as a line (RFC 9112 §2.2)", request("\rX-A: b\r\n"), .rejected(400)),
        rule("control byte in field value (RFC 9110 §5.5)", request("X-A: b\u{1}c\r\n"), .rejected(400)),
        rule("NUL in field value (RFC 9110 §5.5)", request("X-A: b\u{0}c\r\n"), .rejected(400)),
        rule("DEL in field value (RFC 9110 §5.5)", request("X-A: b\u{7F}c\r\n"), .rejected(400)),
        rule("HTAB and obs-text are allowed in values (RFC 9110 §5.5)", request("X-A: b\tc\u{E9}\r\n"), .accepted),
        rule("empty field name (RFC 9110 §5.1: token)", request(": b\r\n"), .rejected(400)),
        rule("non-token byte in field name (RFC 9110 §5.1)", request("X@A: b\r\n"), .rejected(400)),
        rule("field line without colon (RFC 9112 §5)", request("X-A b\r\n"), .rejected(400)),
        // Content-Length = 1*DIGIT (RFC 9110 §8.6); an invalid one is unrecoverable (RFC 9112 §6.3).
        rule("Content-Length with a plus sign (RFC 9110 §8.6)", request("Content-Length: +5\r\n") + "hello", .rejected(400)),
        rule("Content-Length with a minus sign (RFC 9110 §8.6)", request("Content-Length: -5\r\n"), .rejected(400)),
        rule("Content-Length with inner space (RFC 9110 §8.6)", request("Content-Length: 1 2\r\n"), .rejected(400)),
        rule("Content-Length as a list (RFC 9110 §8.6)", request("Content-Length: 5,5\r\n") + "hello", .rejected(400)),
        rule("Content-Length with letters (RFC 9110 §8.6)", request("Content-Length: 5a\r\n"), .rejected(400)),
        rule("Content-Length in hex (RFC 9110 §8.6)", request("Content-Length: 0x5\r\n"), .rejected(400)),
        rule("empty Content-Length (RFC 9110 §8.6)", request("Content-Length:\r\n"), .rejected(400)),
        rule("Content-Length overflows (RFC 9112 §6.3)", request("Content-Length: 99999999999999999999\r\n"), .rejected(400)),
        rule("different Content-Lengths (RFC 9112 §6.3)", request("Content-Length: 5\r\nContent-Length: 6\r\n"), .rejected(400)),
        rule("identical Content-Lengths (RFC 9110 §8.6)", request("Content-Length: 5\r\nContent-Length: 5\r\n") + "hello", .accepted),
        rule("OWS around Content-Length (RFC 9112 §5)", request("content-length: \t5 \r\n") + "hello", .accepted),
        // Transfer-Encoding (RFC 9112 §6.1): only chunked is decoded.
        rule("a coding other than chunked is not implemented (RFC 9112 §6.1, RFC 9110 §15.6.2)", request("Transfer-Encoding: gzip\r\n"), .rejected(501)),
        rule("Transfer-Encoding then Content-Length (RFC 9112 §6.1)", request("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), .rejected(400)),
        rule("Content-Length then Transfer-Encoding (RFC 9112 §6.1)", request("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), .rejected(400)),
        // Host (RFC 9112 §3.2).
        rule("HTTP/1.1 without Host (RFC 9112 §3.2)", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", .rejected(400)),
        rule("two Host fields (RFC 9112 §3.2)", request("Host: h\r\n"), .rejected(400)),
        rule("two Host fields differing in case (RFC 9112 §3.2)", request("HOST: h\r\n"), .rejected(400)),
        rule("HTTP/1.0 without Host (RFC 9112 §3.2)", "GET / HTTP/1.0\r\n\r\n", .accepted),
        rule("HTTP/1.0 with two Host fields (RFC 9112 §3.2: any request)", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", .rejected(400)),
        // Limits: 413 (RFC 9110 §15.5.14), 414 (RFC 9110 §15.5.15), 431 (RFC 6585 §5).
        rule("body over the limit (RFC 9110 §15.5.14)", request("Content-Length: 11\r\n"), .rejected(413), limits: small),
        rule("body at the limit", request("Content-Length: 10\r\n") + "0123456789", .accepted, limits: small),
        rule("complete header block over the limit (RFC 6585 §5)", request("X-A: \(pad(40))\r\n"), .rejected(431), limits: small),
        rule("unfinished header block over the limit (RFC 6585 §5)", "GET / HTTP/1.1\r\nX-A: \(pad(60))", .rejected(431), limits: small),
        rule("unfinished request line over the limit (RFC 9110 §15.5.15)", "GET /\(pad(40))", .rejected(414), limits: small),
        rule("complete request line over the limit (RFC 9110 §15.5.15)", "GET /\(pad(30)) HTTP/1.1\r\nHost: h\r\n\r\n", .rejected(414), limits: small),
        rule("endless empty lines before the request line (RFC 9112 §2.2, RFC 6585 §5)", pad(40, "\r\n"), .rejected(431), limits: small),
        rule("empty lines before the request line count towards the limit (RFC 6585 §5)", pad(40, "\r\n") + "GET / HTTP/1.0\r\n\r\n", .rejected(431), limits: small),
        rule("too many header fields (RFC 6585 §5)", request("A: 1\r\nB: 2\r\nC: 3\r\n"), .rejected(431), limits: small),
        rule("header fields at the limit", request("A: 1\r\nB: 2\r\n"), .accepted, limits: small),
        rule("Content-Length whose end no offset can hold (RFC 9110 §15.5.14)", request("Content-Length: 9223372036854775807\r\n"),
             .rejected(413), limits: unbounded),
    ]

    // MARK: The Request view

    func testRequestViewExposesMethodTargetAndPath() {
        withRequest("GET /search?q=swift&n=1 HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            XCTAssertEqual(request.method.string, "GET")
            XCTAssertEqual(request.target.string, "/search?q=swift&n=1")
            XCTAssertEqual(request.path.string, "/search")
            XCTAssertTrue(request.path == "/search", "compares with a literal without a String")
            XCTAssertEqual(request.version, .http1_1)
            XCTAssertTrue(request.keepAlive)
        }
        withRequest("GET /plain HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            XCTAssertEqual(request.path.string, "/plain", "a target without a query is all path")
        }
    }

    func testRequestViewRoutesAnAbsoluteFormTargetByItsPathWithItsAuthorityAsHost() {
        withRequest("GET http://example.com:8080/search?q=1 HTTP/1.1\r\nHost: other\r\n\r\n") { request in
            XCTAssertEqual(request.targetForm, .absolute)
            XCTAssertEqual(request.target.string, "http://example.com:8080/search?q=1", "the target as sent")
            XCTAssertEqual(request.path.string, "/search")
            XCTAssertEqual(request.query?.string, "q=1")
            XCTAssertEqual(request.host?.string, "example.com:8080", "RFC 9112 §3.2.2: the authority, not the Host field")
        }
        withRequest("GET HTTPS://h?x HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            XCTAssertEqual(request.path.string, "/", "an empty path is / (RFC 9110 §4.2.3)")
            XCTAssertTrue(request.path == "/")
            XCTAssertEqual(request.query?.string, "x")
            XCTAssertEqual(request.host?.string, "h")
        }
        withRequest("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            XCTAssertEqual(request.path.string, "/")
            XCTAssertNil(request.query)
        }
    }

    func testRequestViewOfTheOtherTargetForms() {
        withRequest("GET /a?b HTTP/1.1\r\nHost: example.com\r\n\r\n") { request in
            XCTAssertEqual(request.targetForm, .origin)
            XCTAssertEqual(request.query?.string, "b")
            XCTAssertEqual(request.host?.string, "example.com", "origin-form takes the Host field")
        }
        withRequest("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            XCTAssertEqual(request.targetForm, .asterisk)
            XCTAssertEqual(request.path.string, "*")
            XCTAssertEqual(request.host?.string, "h")
        }
        withRequest("CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n") { request in
            XCTAssertEqual(request.targetForm, .authority)
            XCTAssertTrue(request.path.isEmpty)
            XCTAssertNil(request.query)
            XCTAssertEqual(request.host?.string, "example.com:443")
        }
    }

    func testRequestViewBodyIsContentLengthBytes() {
        withRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello") { request in
            XCTAssertEqual(request.body.string, "hello")
        }
        withRequest("GET / HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            XCTAssertTrue(request.body.isEmpty)
        }
    }

    func testRequestViewFindsHeadersIgnoringCase() {
        withRequest("GET / HTTP/1.1\r\nHOST: example.com\r\nX-Dup: first\r\nx-dup: second\r\n\r\n") { request in
            XCTAssertEqual(request.header("host")?.string, "example.com")
            XCTAssertEqual(request.header("x-dup")?.string, "first", "the first field of a name wins")
            XCTAssertNil(request.header("accept"))
        }
    }

    func testRequestViewListsHeadersInArrivalOrder() {
        withRequest("GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nX-Empty:\r\n\r\n") { request in
            XCTAssertEqual(request.headerCount, 3)
            let fields = (0..<request.headerCount).map { request.header(at: $0) }
            XCTAssertEqual(fields.map(\.name.string), ["Host", "Accept", "X-Empty"])
            XCTAssertEqual(fields.map(\.value.string), ["h", "*/*", ""])
        }
    }

    // MARK: Helpers

    /// Parses `bytes` in one call with a fresh parser and scan position.
    private func parse(_ bytes: [UInt8], limits: RequestLimits = RequestLimits()) -> ParseResult {
        let parser = RequestParser(limits: limits)
        var scanned = ParseProgress()
        return bytes.withUnsafeBytes { parser.parse($0, progress: &scanned) }
    }

    /// The head of the request at the start of `bytes`, failing the test unless it is complete.
    private func completeHead(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> RequestHead? {
        let result = parse(bytes)
        guard case .complete(let head) = result else {
            XCTFail("expected a complete request, got \(Verdict(result))", file: file, line: line)
            return nil
        }
        return head
    }

    private func completeHead(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> RequestHead? {
        completeHead(Array(text.utf8), file: file, line: line)
    }

    /// The bytes `span` covers in `text`.
    private func string(_ span: Span, in text: String) -> String {
        String(decoding: Array(text.utf8)[Int(span.start)..<span.end], as: UTF8.self)
    }

    /// The header fields the parser stored for `text`, as strings.
    private func fieldStrings(_ text: String) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        withRequest(text) { request in
            fields = (0..<request.headerCount).map { (request.header(at: $0).name.string, request.header(at: $0).value.string) }
        }
        return fields
    }

    /// Parses `text`, which must be one complete request, and hands `body` its view.
    private func withRequest(_ text: String, file: StaticString = #filePath, line: UInt = #line,
                             _ body: (Request) -> Void) {
        let parser = RequestParser(limits: RequestLimits())
        let storage = HeaderStorage(limits: parser.limits)
        var scanned = ParseProgress()
        Array(text.utf8).withUnsafeBytes { bytes in
            let result = parser.parse(bytes, progress: &scanned, fields: storage.buffer)
            guard case .complete(let head) = result else {
                return XCTFail("expected a complete request, got \(Verdict(result))", file: file, line: line)
            }
            // The view points into the field storage, so the storage must outlive it.
            withExtendedLifetime(storage) {
                body(Request(bytes: bytes, head: head, fields: UnsafeBufferPointer(storage.buffer)))
            }
        }
    }

    /// A GET for "/" with one Host field, then `fields` (each ending in CRLF) and the empty line.
    private static func request(_ fields: String) -> String {
        "GET / HTTP/1.1\r\nHost: h\r\n\(fields)\r\n"
    }

    private static func pad(_ count: Int, _ text: String = "a") -> String { String(repeating: text, count: count) }

    private static func rule(_ name: String, _ request: String, _ expected: Verdict,
                             limits: RequestLimits = RequestLimits(), line: UInt = #line) -> Rule {
        Rule(name: name, request: request, expected: expected, limits: limits, line: line)
    }
}

/// One table row: the rule a request tests (with where it is written) and what the parser must answer.
private struct Rule {
    let name: String
    let request: String
    let expected: Verdict
    let limits: RequestLimits
    let line: UInt
}


/// Every field of a RequestHead, so two parses can be compared whole.
private struct Snapshot: Equatable {
    let method: Span, target: Span, version: HTTPVersion
    let headerCount: Int, headLength: Int, contentLength: Int
    let keepAlive: Bool, isHead: Bool

    init(_ head: RequestHead) {
        method = head.method; target = head.target; version = head.version
        headerCount = head.headerCount; headLength = head.headLength; contentLength = head.bodyLength
        keepAlive = head.keepAlive; isHead = head.isHead
    }
}
