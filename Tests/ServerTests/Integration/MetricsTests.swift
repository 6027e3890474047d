// /metrics and /health on the real binary: the whole server's numbers from any
// worker, totals that survive a worker's death, and text Prometheus can read.
import Glibc
import TestSupport
import XCTest

final class MetricsTests: XCTestCase {
    /// Scrapes /metrics on a new connection. The scrape's own request is counted
    /// only after its response is rendered, so it never appears in its own numbers.
    private func scrape(_ server: ServerProcess) throws -> PrometheusText {
        let response = try TestClient(port: server.port).get("/metrics")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        return try PrometheusText(response.body)
    }

    func testTotalsEqualTheRequestsSentWhicheverWorkersServedThem() throws {
        for flags in [[String](), ["--reuseport"]] {
            let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2"] + flags)
            XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
            // 30 connections held open together, so both workers take some; 3 requests each, one a 404.
            let clients = try (0..<30).map { _ in try TestClient(port: server.port) }
            var servedBy = Set<pid_t>()
            for client in clients {
                servedBy.insert(try client.get("/").servedBy ?? -1)
                XCTAssertEqual(try client.get("/").status, 200)
                XCTAssertEqual(try client.get("/missing").status, 404)
            }
            let metrics = try scrape(server)
            XCTAssertEqual(metrics.value("prefork_requests_total"), 90, "\(flags)")
            XCTAssertEqual(metrics.value("prefork_responses_total", ["class": "2xx"]), 60, "\(flags)")
            XCTAssertEqual(metrics.value("prefork_responses_total", ["class": "4xx"]), 30, "\(flags)")
            XCTAssertEqual(metrics.value("prefork_connections_accepted_total"), 31, "\(flags): 30 clients and the scrape")
            let perWorker = metrics.all("prefork_worker_requests_total")
            XCTAssertEqual(Set(perWorker.compactMap { $0.labels["slot"] }), ["0", "1"], "\(flags): a series per slot")
            XCTAssertEqual(Set(perWorker.compactMap { $0.labels["pid"].flatMap(pid_t.init) }), server.workerPIDs())
            XCTAssertEqual(perWorker.reduce(0) { $0 + $1.value }, 90, "\(flags): the slots add up to the total")
            XCTAssertEqual(metrics.value("prefork_workers"), 2)
            XCTAssertEqual(metrics.value("prefork_workers_wanted"), 2)
            XCTAssertEqual(metrics.value("prefork_workers_spawned_total"), 2)
            XCTAssertEqual(metrics.value("prefork_draining"), 0)
            XCTAssertEqual(try scrape(server).value("prefork_requests_total"), 91, "\(flags): the first scrape now counts")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testPreforkWorkersCountIntoTheScoreboardToo() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--model", "prefork", "--workers", "2"])
        // A prefork worker serves one connection until it closes: one request per connection.
        for path in ["/", "/", "/missing"] {
            XCTAssertNotNil(try TestClient(port: server.port).get(path, headers: "Connection: close\r\n").status)
        }
        let response = try TestClient(port: server.port).get("/metrics", headers: "Connection: close\r\n")
        let metrics = try PrometheusText(response.body)
        XCTAssertEqual(metrics.value("prefork_requests_total"), 3)
        XCTAssertEqual(metrics.value("prefork_responses_total", ["class": "4xx"]), 1)
        XCTAssertEqual(metrics.value("prefork_connections_accepted_total"), 4, "three clients and the scrape")
        XCTAssertEqual(metrics.value("prefork_workers"), 2)
        XCTAssertTrue(metrics.all("prefork_worker_heartbeat_age_seconds").isEmpty, "blocking workers keep no heartbeat")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testTotalsKeepTheCountsOfAKilledWorker() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--reuseport"])
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
        var servedBy: [pid_t: Int] = [:]
        var sent = 0
        while servedBy.count < 2 && sent < 400 {
            servedBy[try TestClient(port: server.port).get("/").servedBy ?? -1, default: 0] += 1
            sent += 1
        }
        let victim = try XCTUnwrap(servedBy.keys.first { $0 > 0 })
        kill(victim, SIGKILL)
        XCTAssertTrue(ServerProcess.eventually {
            let workers = server.workerPIDs()
            return workers.count == 2 && !workers.contains(victim)
        }, "the slot is refilled")
        let metrics = try scrape(server)
        XCTAssertEqual(metrics.value("prefork_requests_total"), Double(sent), "the dead worker's \(servedBy[victim]!) still count")
        XCTAssertEqual(metrics.value("prefork_workers_died_total"), 1)
        XCTAssertEqual(metrics.value("prefork_workers_spawned_total"), 3)
        XCTAssertNil(metrics.all("prefork_worker_requests_total").first { $0.labels["pid"] == "\(victim)" },
                     "a dead worker has no series of its own")
    }

    /// A request that was half sent when SIGQUIT arrived is finished during the drain,
    /// and /health tells the balancer to go away.
    func testHealthAnswers503WhileTheServerDrains() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"])
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/health").status, 200)
        try client.send("GET /health HTTP/1.1\r\nHost: t\r\n")
        XCTAssertTrue(ServerProcess.eventually { client.serverHasReadEverythingSent() }, "the worker has the half request")
        kill(server.pid, SIGQUIT)
        XCTAssertTrue(ServerProcess.eventually { server.isAtRest() }, "the master and its worker have acted on QUIT")
        try client.send("\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.body, "draining\n")
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 10_000).flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testMetricsAndHealthAreReadOnly() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"])
        let client = try TestClient(port: server.port)
        let health = try client.get("/health")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.body, "ok\n")
        for path in ["/metrics", "/health"] {
            try client.send("DELETE \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            let refused = try client.readResponse()
            XCTAssertEqual(refused.status, 405, path)
            XCTAssertEqual(refused.header("Allow"), "GET, HEAD", path)
        }
        try client.send("HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try client.readResponse(headOnly: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertGreaterThan(Int(head.header("Content-Length") ?? "0") ?? 0, 0, "HEAD gets the length of GET's body")
    }
}
