// Router in process: patterns match whole segments and capture percent-decoded
// parameters; a request goes to the first route of its method and path, a known
// path with another method gets 405 with Allow, an unknown one the fallback or
// 404; HEAD is answered by a GET route. Through a real driver over a socketpair.
import Logging
import TestSupport
import XCTest

@testable import HTTP1
@testable import Server
@testable import ServerSystem

final class RouterTests: XCTestCase {
    private func matches(_ pattern: String, _ path: String) -> [String: String]? {
        var parameters = RouteParameters()
        var path = path
        let matched = path.withUTF8 { RoutePattern(pattern).match(UnsafeRawBufferPointer($0), capture: true, into: &parameters) }
        return matched ? Dictionary(uniqueKeysWithValues: parameters.all.map { ($0.name, $0.value) }) : nil
    }

    func testLiteralPatternsMatchOnlyTheSamePath() {
        XCTAssertEqual(matches("/", "/"), [:])
        XCTAssertEqual(matches("/todos", "/todos"), [:])
        XCTAssertNil(matches("/todos", "/todos/"))
        XCTAssertNil(matches("/todos", "/todo"))
        XCTAssertNil(matches("/todos", "/todosx"))
        XCTAssertNil(matches("/todos", "/"))
        XCTAssertNil(matches("/", "/todos"))
        XCTAssertNil(matches("/todos", "todos"))
    }

    func testParametersTakeOneNonEmptySegmentPercentDecoded() {
        XCTAssertEqual(matches("/todos/{id}", "/todos/42"), ["id": "42"])
        XCTAssertEqual(matches("/todos/{id}/tags/{tag}", "/todos/7/tags/a%20b%2Fc"), ["id": "7", "tag": "a b/c"])
        XCTAssertEqual(matches("/files/{name}", "/files/100%"), ["name": "100%"], "a bare % stays")
        XCTAssertNil(matches("/todos/{id}", "/todos/"))
        XCTAssertNil(matches("/todos/{id}", "/todos"))
        XCTAssertNil(matches("/todos/{id}", "/todos/1/2"))
    }

    func testARestParameterTakesTheRemainingPath() {
        XCTAssertEqual(matches("/static/{path...}", "/static/css/site.css"), ["path": "css/site.css"])
        XCTAssertEqual(matches("/static/{path...}", "/static/"), ["path": ""])
        XCTAssertNil(matches("/static/{path...}", "/other/x"))
    }

    private struct Teapot: HTTPHandler {
        func respond(to request: Request, with response: inout Response) {
            response.status = HTTPStatus(code: 418, reason: "I'm a teapot")
        }
    }

    private func makeRouter(fallback: (any HTTPHandler)? = nil) -> Router {
        var router = Router(fallback: fallback)
        router.get("/todos", .inline { _, _, response in response.body = .text("list\n") })
        router.post("/todos", .blocking { request in Response(body: .bytes(Array("created \(request.bodyCount)\n".utf8))) })
        router.get("/todos/{id}", .async { request in Response(body: .bytes(Array("todo \(request.parameters["id"]!)\n".utf8))) })
        router.delete("/todos/{id}", .blocking { _ in Response(status: .noContent) })
        router.get("/todos/{id}", .inline { _, _, response in response.body = .text("shadowed\n") })
        return router
    }

    /// Sends `request` through a driver whose handler is `handler` (deferred work runs inline).
    private func exchange(_ request: String, _ handler: any HTTPHandler) throws -> String {
        let pair = try SocketPair()
        defer { pair.close() }
        let driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                      handler: handler, logger: Logger(label: "test"))
        pair.clientSends(request)
        _ = driver.readable(Connection(socket: Socket(fd: pair.server), token: 1))
        return pair.clientReceives()
    }

    func testEachShapeOfRouteAnswersItsMethodAndPath() throws {
        let router = makeRouter()
        XCTAssertTrue(try exchange("GET /todos HTTP/1.1\r\nHost: t\r\n\r\n", router).hasSuffix("\r\n\r\nlist\n"))
        XCTAssertTrue(try exchange("POST /todos HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", router)
            .hasSuffix("\r\n\r\ncreated 3\n"))
        XCTAssertTrue(try exchange("GET /todos/12?x=1 HTTP/1.1\r\nHost: t\r\n\r\n", router).hasSuffix("\r\n\r\ntodo 12\n"),
                      "the first route declared wins; the query is not part of the path")
        XCTAssertTrue(try exchange("DELETE /todos/12 HTTP/1.1\r\nHost: t\r\n\r\n", router).hasPrefix("HTTP/1.1 204 No Content\r\n"))
    }

    func testAKnownPathWithAnotherMethodGets405WithAllow() throws {
        let response = try exchange("PUT /todos/3 HTTP/1.1\r\nHost: t\r\n\r\n", makeRouter(fallback: Teapot()))
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"), response)
        XCTAssertTrue(response.contains("\r\nAllow: GET, HEAD, DELETE, OPTIONS\r\n"), response)
        let lowercase = try exchange("get /todos HTTP/1.1\r\nHost: t\r\n\r\n", makeRouter())
        XCTAssertTrue(lowercase.contains("\r\nAllow: GET, HEAD, POST, OPTIONS\r\n"), "methods are case-sensitive (RFC 9110 §9.1): \(lowercase)")
    }

    /// RFC 9110 §9.3.7: OPTIONS on a routed path says what the path allows, with no body;
    /// a route of its own for OPTIONS wins, and an unknown path still goes to the fallback.
    func testOptionsOnARoutedPathIs204WithAllow() throws {
        let response = try exchange("OPTIONS /todos/3 HTTP/1.1\r\nHost: t\r\n\r\n", makeRouter(fallback: Teapot()))
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 204 No Content\r\n"), response)
        XCTAssertTrue(response.contains("\r\nAllow: GET, HEAD, DELETE, OPTIONS\r\n"), response)
        XCTAssertFalse(response.contains("Content-Length"), "no Content-Length in a 204 (RFC 9110 §8.6): \(response)")
        XCTAssertTrue(response.hasSuffix("\r\n\r\n"), response)
        XCTAssertTrue(try exchange("OPTIONS /elsewhere HTTP/1.1\r\nHost: t\r\n\r\n", makeRouter(fallback: Teapot()))
            .hasPrefix("HTTP/1.1 418 "))
        var router = makeRouter()
        router.add("OPTIONS", "/todos", .inline { _, _, response in response.body = .text("own\n") })
        XCTAssertTrue(try exchange("OPTIONS /todos HTTP/1.1\r\nHost: t\r\n\r\n", router).hasSuffix("\r\n\r\nown\n"))
    }

    func testHeadIsAnsweredByTheGetRouteWithoutItsBody() throws {
        let response = try exchange("HEAD /todos HTTP/1.1\r\nHost: t\r\n\r\n", makeRouter())
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 200 OK\r\n"), response)
        XCTAssertTrue(response.contains("\r\nContent-Length: 5\r\n"), response)
        XCTAssertTrue(response.hasSuffix("\r\n\r\n"), response)
    }

    func testAnUnknownPathGoesToTheFallbackOrGets404() throws {
        XCTAssertTrue(try exchange("GET /elsewhere HTTP/1.1\r\nHost: t\r\n\r\n", makeRouter(fallback: Teapot()))
            .hasPrefix("HTTP/1.1 418 I'm a teapot\r\n"))
        XCTAssertTrue(try exchange("GET /todos/1/x HTTP/1.1\r\nHost: t\r\n\r\n", makeRouter())
            .hasPrefix("HTTP/1.1 404 Not Found\r\n"))
    }

    func testRoutersComposeThroughTheirFallbacks() throws {
        var api = Router(fallback: Teapot())
        api.get("/api/{name}", .inline { _, parameters, response in
            response.body = .bytes(Array("api \(parameters["name"]!)\n".utf8))
        })
        var front = Router(fallback: api)
        front.get("/", .inline { _, _, response in response.body = .text("home\n") })
        XCTAssertTrue(try exchange("GET / HTTP/1.1\r\nHost: t\r\n\r\n", front).hasSuffix("\r\n\r\nhome\n"))
        XCTAssertTrue(try exchange("GET /api/x HTTP/1.1\r\nHost: t\r\n\r\n", front).hasSuffix("\r\n\r\napi x\n"))
        XCTAssertTrue(try exchange("GET /other HTTP/1.1\r\nHost: t\r\n\r\n", front).hasPrefix("HTTP/1.1 418 "))
    }

    func testAThrownErrorIsA500WithoutItsText() throws {
        struct Secret: Error, CustomStringConvertible { var description: String { "password=hunter2" } }
        var router = Router()
        router.get("/a", .async { _ in throw Secret() })
        router.get("/b", .blocking { _ in throw Secret() })
        for path in ["/a", "/b"] {
            let response = try exchange("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n", router)
            XCTAssertTrue(response.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"), response)
            XCTAssertFalse(response.contains("hunter2"), response)
        }
    }
}
