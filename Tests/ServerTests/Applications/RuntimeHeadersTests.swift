// Run-time header fields and content types: names must be tokens and values
// free of controls (RFC 9110 §5.1, §5.5), the server's own framing fields are
// refused, and what is accepted is written after the fixed fields.
import XCTest

@testable import HTTP1

final class RuntimeHeadersTests: XCTestCase {
    func testNamesMustBeTokensAndValuesFreeOfControls() {
        var response = Response()
        XCTAssertThrowsError(try response.setHeader(name: "X Bad", value: "v"))
        XCTAssertThrowsError(try response.setHeader(name: "", value: "v"))
        XCTAssertThrowsError(try response.setHeader(name: "X-Name:", value: "v"))
        XCTAssertThrowsError(try response.setHeader(name: "X-Split", value: "a\r\nSet-Cookie: evil=1"))
        XCTAssertThrowsError(try response.setHeader(name: "X-Nul", value: "a\0b"))
        XCTAssertThrowsError(try response.setContentType("text/html\r\n\r\n<script>"))
        XCTAssertThrowsError(try response.setContentType(""))
        XCTAssertTrue(response.runtimeHeaders.isEmpty)
        XCTAssertNil(response.mediaType)
    }

    func testTheServersFramingFieldsAreRefused() {
        var response = Response()
        for name in ["Content-Length", "transfer-encoding", "Connection", "Date", "Server"] {
            XCTAssertThrowsError(try response.setHeader(name: name, value: "1"), name)
        }
    }

    func testSetReplacesIgnoringCaseAddAppendsAndContentTypeIsTheMediaType() throws {
        var response = Response()
        try response.setHeader(name: "X-Id", value: " 1 ")
        try response.setHeader(name: "x-id", value: "2\tb")
        try response.addHeader(name: "Set-Cookie", value: "a=1")
        try response.addHeader(name: "Set-Cookie", value: "b=2")
        try response.setHeader(name: "Content-Type", value: "application/json")
        XCTAssertEqual(response.runtimeHeaders.map { "\($0.name): \($0.value)" }, ["x-id: 2\tb", "Set-Cookie: a=1", "Set-Cookie: b=2"])
        XCTAssertEqual(response.runtimeHeader("X-ID"), "2\tb")
        XCTAssertEqual(response.mediaType?.value, "application/json")
    }

    func testTheWriterSendsThemAfterTheFixedFields() throws {
        var response = Response(body: .text("{}"))
        try response.setContentType("application/json")
        try response.setHeader(name: "Location", value: "/todos/1")
        response.addHeader("Cache-Control", "no-store")
        let out = ByteBuffer(capacity: 16)
        let head = RequestHead(method: Span(start: 0, count: 0), target: Span(start: 0, count: 0), version: .http1_1,
                               headerCount: 0, headLength: 0, bodyLength: 0, totalLength: 0, isChunked: false,
                               expectsContinue: false, keepAlive: true, isHead: false)
        ResponseWriter(dateCache: DateCache(), serverName: "t").write(response, for: head, keepAlive: true, into: out)
        let text = out.withReadableBytes { String(decoding: $0, as: UTF8.self) }
        XCTAssertTrue(text.contains("\r\nContent-Type: application/json\r\n"), text)
        XCTAssertTrue(text.hasSuffix("\r\nCache-Control: no-store\r\nLocation: /todos/1\r\n\r\n{}"), text)
    }
}
