// A handler written only against swift-http-types (Examples/ExampleServer's
// HTTPTypesNotes) answers through the real example-server: its status, reason
// phrase, fields and body arrive, it sees the method, path and fields of the
// request, and framing fields stay the server's. In process: the conversion
// of statuses the server has no constant for.
import HTTPTypes
import TestSupport
import XCTest

@testable import HTTP1
@testable import ServerEcosystem

final class HTTPTypesHandlerTests: XCTestCase {
    func testAHandlerWrittenAgainstHTTPTypesAnswersOverTheWire() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"], executable: "example-server")
        let client = try TestClient(port: server.port)
        try client.send("POST /eco/notes HTTP/1.1\r\nHost: t\r\nUser-Agent: tester/1\r\nContent-Length: 10\r\n\r\nhello note")
        let created = try client.readResponse()
        XCTAssertEqual(created.statusLine, "HTTP/1.1 201 Created")
        XCTAssertEqual(created.body, "POST /eco/notes from tester/1: HELLO NOTE")
        XCTAssertEqual(created.header("Content-Type"), "text/plain; charset=utf-8")
        XCTAssertEqual(created.header("Location"), "/eco/notes/1")
        XCTAssertEqual(created.header("X-Handled-By"), "swift-http-types")
        XCTAssertEqual(created.header("Content-Length"), "41", "the server frames the body")

        let refused = try client.get("/eco/notes")
        XCTAssertEqual(refused.status, 405)
        XCTAssertEqual(refused.header("Allow"), "POST")
        XCTAssertEqual(refused.body, "only POST\n")
        XCTAssertNil(refused.header("Content-Type"), "the handler named no Content-Type")

        try client.send("POST /eco/notes HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().statusLine, "HTTP/1.1 400 Bad Request")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAnHTTPResponseBecomesAResponseWithoutFramingFields() {
        var head = HTTPResponse(status: .init(code: 299))
        head.headerFields[.contentLength] = "999"
        head.headerFields[.connection] = "close"
        head.headerFields[.cacheControl] = "no-store"
        let response = Response(head, body: Array("x".utf8))
        XCTAssertEqual(response.status.code, 299)
        XCTAssertEqual("\(response.status.reason)", "Success", "a code without a phrase gets its class's")
        XCTAssertEqual(response.runtimeHeaders.map(\.name), ["Cache-Control"], "framing fields are the server's")
        XCTAssertEqual(StatusReasons.phrase(for: 418).description, "Client Error")
        XCTAssertEqual(StatusReasons.phrase(for: 429).description, "Too Many Requests")
    }
}
