// OperationsRoutes in process: /health follows the scoreboard's draining flag,
// /metrics renders it, and every other path reaches the embedder's handler.
import Glibc
import Logging
import TestSupport
import XCTest

@testable import HTTP1
@testable import ServerSystem
@testable import Server

final class OperationsRoutesTests: XCTestCase {
    private struct Teapot: HTTPHandler {
        func respond(to request: Request, with response: inout Response) {
            response.status = HTTPStatus(code: 418, reason: "I'm a teapot")
        }
    }

    /// Sends `request` through a driver whose handler is the operations layer over `Teapot`.
    private func exchange(_ request: String, scoreboard: Scoreboard) throws -> String {
        let pair = try SocketPair()
        defer { pair.close() }
        let driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                      handler: OperationsRoutes(scoreboard: scoreboard, next: Teapot()),
                                      logger: Logger(label: "test"))
        pair.clientSends(request)
        _ = driver.readable(Connection(socket: Socket(fd: pair.server), token: 1))
        return pair.clientReceives()
    }

    func testHealthAnswers503WhileTheServerDrains() throws {
        let scoreboard = try Scoreboard()
        XCTAssertTrue(try exchange("GET /health HTTP/1.1\r\nHost: t\r\n\r\n", scoreboard: scoreboard)
            .hasPrefix("HTTP/1.1 200 OK\r\n"))
        scoreboard.setServer(.draining, 1)
        let draining = try exchange("GET /health HTTP/1.1\r\nHost: t\r\n\r\n", scoreboard: scoreboard)
        XCTAssertTrue(draining.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), draining)
        XCTAssertTrue(draining.hasSuffix("\r\n\r\ndraining\n"), draining)
    }

    func testAbsoluteFormTargetIsRoutedByItsPath() throws {
        let response = try exchange("GET http://t/health HTTP/1.1\r\nHost: t\r\n\r\n", scoreboard: try Scoreboard())
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 200 OK\r\n"), response)
        XCTAssertTrue(response.hasSuffix("\r\n\r\nok\n"), response)
    }

    func testOptionsAsteriskIsAnsweredForTheServerWithoutReachingTheHandler() throws {
        // RFC 9110 §9.3.7: a response without content carries Content-Length: 0.
        let response = try exchange("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", scoreboard: try Scoreboard())
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 200 OK\r\n"), response)
        XCTAssertTrue(response.contains("\r\nContent-Length: 0\r\n"), response)
        XCTAssertTrue(response.hasSuffix("\r\n\r\n"), response)
    }

    func testConnectIsNotImplementedAndClosesTheConnection() throws {
        // RFC 9110 §9.1: an origin server answers a method it does not implement with 501.
        let response = try exchange("CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n", scoreboard: try Scoreboard())
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 501 Not Implemented\r\n"), response)
        XCTAssertTrue(response.contains("\r\nConnection: close\r\n"), response)
    }

    func testOtherPathsReachTheEmbeddersHandler() throws {
        let response = try exchange("GET /health/deep HTTP/1.1\r\nHost: t\r\n\r\n", scoreboard: try Scoreboard())
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 418 I'm a teapot\r\n"), response)
    }

    func testMetricsShowEveryCounterOfTheScoreboard() throws {
        let scoreboard = try Scoreboard()
        let index = try XCTUnwrap(scoreboard.claimRecord(slot: 3))
        let record = scoreboard.worker(index)
        record.setPID(4242)
        record.add(.requests, 7)
        record.countResponse(status: 503)
        scoreboard.setServer(.retiredRequests, 5)
        scoreboard.setServer(.exitsBySignal, 2)
        scoreboard.setServer(.draining, 1)
        let text = MetricsExposition.render(scoreboard, now: Int(record[.heartbeat]) + 1500)
        let metrics = try PrometheusText(text)
        XCTAssertEqual(metrics.value("prefork_requests_total"), 12, "live plus retired")
        XCTAssertEqual(metrics.value("prefork_worker_requests_total", ["slot": "3", "pid": "4242"]), 7)
        XCTAssertEqual(metrics.value("prefork_worker_responses_total", ["slot": "3", "class": "5xx"]), 1)
        XCTAssertEqual(metrics.value("prefork_worker_exits_total", ["reason": "signal"]), 2)
        XCTAssertEqual(metrics.value("prefork_worker_heartbeat_age_seconds", ["slot": "3"]), 1.5)
        XCTAssertEqual(metrics.value("prefork_draining"), 1)
        XCTAssertTrue(text.contains("# TYPE prefork_requests_total counter\n"))
    }
}
