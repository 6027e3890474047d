// swift-metrics recorded by an application's handlers (example-server's
// MetricsRoutes), read back from /metrics of the real binary: one series with
// the whole server's value whichever worker recorded or answers the scrape, a
// counter that keeps a killed worker's counts, gauges, timers, escaping, and
// the series limit reported cleanly.
import Glibc
import TestSupport
import XCTest

final class ApplicationMetricsTests: XCTestCase {
    private func scrape(_ server: ServerProcess) throws -> PrometheusText {
        let response = try TestClient(port: server.port).get("/metrics")
        XCTAssertEqual(response.status, 200)
        return try PrometheusText(response.body)
    }

    /// Counts on new connections until every live worker has counted at least once (bounded);
    /// returns how many were counted and by whom.
    private func countOnEveryWorker(_ server: ServerProcess, workers: Int) throws -> [pid_t: Int] {
        var servedBy: [pid_t: Int] = [:]
        for _ in 0..<400 where servedBy.count < workers || servedBy.values.reduce(0, +) < 60 {
            let response = try TestClient(port: server.port).get("/example/metrics/count")
            XCTAssertEqual(response.status, 200)
            servedBy[response.servedBy ?? -1, default: 0] += 1
        }
        return servedBy
    }

    func testACounterFromEveryWorkerTotalsExactlyAndNeverGoesBackWhenOneIsKilled() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "3", "--reuseport"], executable: "example-server")
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 3 })
        let first = try countOnEveryWorker(server, workers: 3)
        XCTAssertEqual(Set(first.keys), server.workerPIDs(), "every worker counted")
        var sent = first.values.reduce(0, +)
        XCTAssertEqual(try scrape(server).value("example_hits_total"), Double(sent))
        XCTAssertEqual(try scrape(server).types["example_hits_total"], "counter")

        let victim = try XCTUnwrap(first.keys.first)
        kill(victim, SIGKILL)
        XCTAssertTrue(ServerProcess.eventually {
            let workers = server.workerPIDs()
            return workers.count == 3 && !workers.contains(victim)
        }, "the slot is refilled")
        XCTAssertEqual(try scrape(server).value("example_hits_total"), Double(sent),
                       "the killed worker's \(first[victim]!) still count")
        let second = try countOnEveryWorker(server, workers: 3)
        XCTAssertEqual(Set(second.keys), server.workerPIDs(), "the replacement counts too")
        sent += second.values.reduce(0, +)
        XCTAssertEqual(try scrape(server).value("example_hits_total"), Double(sent))
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testGaugesSumTheLiveWorkersAndTimersAreSummariesInSeconds() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"], executable: "example-server")
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/example/metrics/gauge?7").status, 200)
        XCTAssertEqual(try scrape(server).value("example_level"), 7)
        XCTAssertEqual(try client.get("/example/metrics/gauge?3").status, 200)
        for milliseconds in [250, 750, 500] {
            XCTAssertEqual(try client.get("/example/metrics/timer?\(milliseconds)").status, 200)
        }
        let metrics = try scrape(server)
        XCTAssertEqual(metrics.types["example_level"], "gauge")
        XCTAssertEqual(metrics.value("example_level"), 3, "a gauge holds the last value")
        XCTAssertEqual(metrics.types["example_duration_seconds"], "summary")
        XCTAssertEqual(metrics.value("example_duration_seconds_count"), 3)
        XCTAssertEqual(metrics.value("example_duration_seconds_sum"), 1.5)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testLabelValuesAreEscapedAndNamesMadeValid() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"], executable: "example-server")
        XCTAssertEqual(try TestClient(port: server.port).get("/example/metrics/escaped").status, 200)
        let text = try TestClient(port: server.port).get("/metrics").body
        XCTAssertTrue(text.contains(#"example_escaped_total{kind="odd",text="a\"b\\c\nd"} 1"#), text)
        XCTAssertNoThrow(try PrometheusText(text))
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testTheSeriesLimitIsLoggedOnceCountedAndServingGoesOn() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"], executable: "example-server")
        let client = try TestClient(port: server.port)
        let before = try scrape(server)
        let limit = try XCTUnwrap(before.value("prefork_metrics_series_limit"))
        let inUse = try XCTUnwrap(before.value("prefork_metrics_series"))
        XCTAssertEqual(limit, 256)
        let attempts = Int(limit) + 40
        for number in 0..<attempts {
            XCTAssertEqual(try client.get("/example/metrics/series?\(number)").status, 200, "series \(number)")
        }
        let metrics = try scrape(server)
        XCTAssertEqual(metrics.value("prefork_metrics_series"), limit, "the table is full")
        let accepted = Int(limit - inUse)
        XCTAssertEqual(metrics.value("prefork_metrics_registrations_refused_total"), Double(attempts - accepted))
        XCTAssertEqual(metrics.all("example_series_total").count, accepted)
        XCTAssertEqual(metrics.all("example_series_total").reduce(0) { $0 + $1.value }, Double(accepted))
        XCTAssertEqual(try client.get("/").status, 200, "the worker serves on")
        var log = ""
        XCTAssertTrue(ServerProcess.eventually {
            log += server.standardError()
            return log.contains("metric example_series_total is not recorded")
        }, log)
        XCTAssertEqual(log.components(separatedBy: "metric example_series_total is not recorded").count - 1, 1,
                       "one line for the name, not one per refusal: \(log)")
        XCTAssertTrue(log.contains("table of 256 metric series is full"), log)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}

/// Garbage in the shared series table, as a compromised or buggy worker could write it.
final class ApplicationMetricsCorruptionTests: XCTestCase {
    /// A header that decodes as a ready counter with a 240-byte key, and a slot "being claimed".
    private static let readyLooking: UInt64 = 0x0000_0000_00F0_0102
    private static let claiming: UInt64 = 1

    func testGarbageInTheSeriesTableIsSkippedAndRegistrationsStayBounded() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2"], executable: "example-server")
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
        let workers = server.workerPIDs()
        XCTAssertEqual(try TestClient(port: server.port).get("/example/metrics/count").status, 200)
        let writer = try XCTUnwrap(workers.first)
        for (number, value) in [Self.readyLooking, Self.claiming].enumerated() {
            try SharedRegion(of: writer).fill(with: value)
            let started = Launch.now()
            XCTAssertEqual(try TestClient(port: server.port).get("/example/metrics/series?\(number)").status, 200,
                           "a new series over \(String(value, radix: 16)) is refused, not a crash")
            XCTAssertLessThan(Launch.now() - started, 2_000, "a table of slots being claimed costs one bounded wait")
            let scrape = try TestClient(port: server.port).get("/metrics")
            XCTAssertEqual(scrape.status, 200)
            let metrics = try PrometheusText(scrape.body)
            XCTAssertTrue(metrics.samples.allSatisfy { !$0.name.isEmpty }, "garbage keys never reach the text")
            XCTAssertTrue(processExists(server.pid), "the master survives \(String(value, radix: 16))")
        }
        XCTAssertEqual(server.workerPIDs(), workers, "no worker died of the garbage")
        XCTAssertEqual(server.stop(signal: SIGQUIT).flatMap(exitCode(ofWaitStatus:)), 0, "a graceful stop still ends it")
    }
}
