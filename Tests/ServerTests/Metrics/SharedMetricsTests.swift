// The swift-metrics backend without a server: series keys, the shared table
// claimed from several processes at once, handles that record into a worker's
// block, the master's fold when a worker retires, and garbage in the table.
import CoreMetrics
import Glibc
import Logging
@testable import Server
import XCTest

final class SharedMetricsTests: XCTestCase {
    private func key(_ label: String, _ dimensions: [(String, String)] = [], _ kind: SeriesKind = .counter) -> String? {
        SeriesKey.make(label: label, dimensions: dimensions, kind: kind).map { String(decoding: $0, as: UTF8.self) }
    }

    func testKeysAreValidPrometheusSeriesWithSortedEscapedLabels() {
        XCTAssertEqual(key("todos_created_total"), "todos_created_total")
        XCTAssertEqual(key("http.requests", [("z", "1"), ("a-b", "x\"y\\z\nw")]),
                       #"http_requests_total{a_b="x\"y\\z\nw",z="1"}"#, "counters end in _total")
        XCTAssertEqual(key("9lives", [], .gauge), "_9lives")
        XCTAssertEqual(key("g", [("b", "2"), ("a", "1")], .gauge), key("g", [("a", "1"), ("b", "2")], .gauge),
                       "the same dimensions in another order are the same series")
        XCTAssertNil(key("long", [("v", String(repeating: "x", count: 300))]), "longer than the slot")
        for valid in ["a_total", #"a{b="c\"d"}"#, #"a:b{c="",d="e"}"#] {
            XCTAssertNotNil(SeriesKey.parse(Array(valid.utf8)), valid)
        }
        for garbage in ["", "9a", "a b", "a{", "a{b}", #"a{b="c}"#, "a{b=\"c\n\"}", #"a{b="c\q"}"#, #"a{b="c",}"#] {
            XCTAssertNil(SeriesKey.parse(Array(garbage.utf8)), garbage)
        }
    }

    func testProcessesRegisteringTheSameSeriesAtOnceShareOneSlot() throws {
        let scoreboard = try Scoreboard()
        let children = try (0..<4).map { slot -> pid_t in
            let record = try XCTUnwrap(scoreboard.claimRecord(slot: slot))
            let pid = fork()
            if pid == 0 {
                let factory = SharedMetricsFactory(region: scoreboard.metrics, recordIndex: record, logger: Logger(label: "t"))
                for index in 0..<20 {
                    Counter(label: "shared_total", dimensions: [("n", String(index))], factory: factory).increment(by: 2)
                }
                _exit(0)
            }
            scoreboard.setPID(pid, ofRecord: record)
            return pid
        }
        for child in children {
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
        let text = MetricsExposition.render(scoreboard, now: 0)
        let metrics = try PrometheusText(text)
        XCTAssertEqual(metrics.all("shared_total").count, 20, "one series per key, not one per process")
        XCTAssertTrue(metrics.all("shared_total").allSatisfy { $0.value == 8 }, text)
        XCTAssertEqual(metrics.value("prefork_metrics_series"), 20)
    }

    func testARetiredWorkersCountsStayAndItsGaugesGo() throws {
        let scoreboard = try Scoreboard()
        let record = try XCTUnwrap(scoreboard.claimRecord(slot: 0))
        scoreboard.setPID(getpid(), ofRecord: record)
        let factory = SharedMetricsFactory(region: scoreboard.metrics, recordIndex: record, logger: Logger(label: "t"))
        Counter(label: "done_total", factory: factory).increment(by: 5)
        Gauge(label: "level", factory: factory).record(4)
        Timer(label: "took", factory: factory).recordMilliseconds(500)
        Recorder(label: "sizes", factory: factory).record(1.5)
        let meter = Meter(label: "queued", factory: factory)
        meter.set(10)
        meter.increment(by: 2.5)
        meter.decrement()
        let live = try PrometheusText(MetricsExposition.render(scoreboard, now: 0))
        XCTAssertEqual(live.value("level"), 4)
        XCTAssertEqual(live.value("took_sum"), 0.5)
        XCTAssertEqual(live.value("queued"), 11.5)
        XCTAssertEqual(live.types["queued"], "gauge")
        scoreboard.retireRecord(record)
        let retired = try PrometheusText(MetricsExposition.render(scoreboard, now: 0))
        XCTAssertEqual(retired.value("done_total"), 5)
        XCTAssertEqual(retired.value("took_count"), 1)
        XCTAssertEqual(retired.value("took_sum"), 0.5)
        XCTAssertEqual(retired.value("sizes_sum"), 1.5)
        XCTAssertEqual(retired.value("level"), 0, "a gauge is what live workers hold")
        let next = try XCTUnwrap(scoreboard.claimRecord(slot: 0))
        XCTAssertEqual(next, record, "the record is reused, its block fresh")
        scoreboard.setPID(getpid(), ofRecord: next)
        Counter(label: "done_total", factory: SharedMetricsFactory(region: scoreboard.metrics, recordIndex: next,
                                                                    logger: Logger(label: "t"))).increment()
        XCTAssertEqual(try PrometheusText(MetricsExposition.render(scoreboard, now: 0)).value("done_total"), 6)
    }

    func testASeriesClaimedAgainPastAStalledClaimShowsBothSlotsCounts() throws {
        let scoreboard = try Scoreboard()
        let region = scoreboard.metrics
        let key = Array("stalled_total".utf8)
        let first = Int(MetricsRegion.hash(key, kind: .counter) % UInt64(MetricsRegion.seriesLimit))
        // Another worker has claimed the series' first slot and stalls (preempted) past the claim wait.
        region.header(first).pointee.store(SeriesHeader.claiming, ordering: .releasing)
        let record = try XCTUnwrap(scoreboard.claimRecord(slot: 0))
        scoreboard.setPID(getpid(), ofRecord: record)
        let factory = SharedMetricsFactory(region: region, recordIndex: record, logger: Logger(label: "t"))
        Counter(label: "stalled_total", factory: factory).increment(by: 5)  // waits out the claim, takes the next slot
        // The stalled worker finishes its claim and counts into its own block, in its slot.
        region.writeKey(key, into: first)
        region.header(first).pointee.store(SeriesHeader(kind: .counter, keyLength: key.count).encoded, ordering: .releasing)
        let stalled = try XCTUnwrap(scoreboard.claimRecord(slot: 1))
        scoreboard.setPID(getpid(), ofRecord: stalled)
        region.block(stalled)[2 * first].store(3, ordering: .relaxed)
        let text = MetricsExposition.render(scoreboard, now: 0)
        let metrics = try PrometheusText(text)
        XCTAssertEqual(metrics.all("stalled_total").count, 1, "one series, whatever slots hold it")
        XCTAssertEqual(metrics.value("stalled_total"), 8, "both workers' counts: \(text)")
        scoreboard.retireRecord(stalled)
        XCTAssertEqual(try PrometheusText(MetricsExposition.render(scoreboard, now: 0)).value("stalled_total"), 8,
                       "and once one of them has exited")
    }

    func testAFullTableRefusesAndCountsWithoutRecording() throws {
        let scoreboard = try Scoreboard()
        let record = try XCTUnwrap(scoreboard.claimRecord(slot: 0))
        scoreboard.setPID(getpid(), ofRecord: record)
        let factory = SharedMetricsFactory(region: scoreboard.metrics, recordIndex: record, logger: Logger(label: "t"))
        for index in 0..<(MetricsRegion.seriesLimit + 3) {
            Counter(label: "many_total", dimensions: [("n", String(index))], factory: factory).increment()
        }
        let metrics = try PrometheusText(MetricsExposition.render(scoreboard, now: 0))
        XCTAssertEqual(metrics.value("prefork_metrics_series"), Double(MetricsRegion.seriesLimit))
        XCTAssertEqual(metrics.value("prefork_metrics_registrations_refused_total"), 3)
        Gauge(label: "prefork_workers", factory: factory).record(9)
        let again = try PrometheusText(MetricsExposition.render(scoreboard, now: 0))
        XCTAssertEqual(again.value("prefork_metrics_registrations_refused_total"), 4, "the server's prefix is its own")
        XCTAssertEqual(again.all("prefork_workers").count, 1)
        XCTAssertEqual(metrics.all("many_total").reduce(0) { $0 + $1.value }, Double(MetricsRegion.seriesLimit))
    }
}
