// Micro benchmark of the swift-metrics backend (Sources/Server/Metrics): what a
// handler pays to bump a Counter that records into the shared scoreboard, and
// that it allocates nothing. Prints figures, asserts no time.
import CoreMetrics
import Logging
import Server
import XCTest

final class MetricsBenchmarks: XCTestCase {
    func testCounterIncrementThroughTheSharedScoreboard() throws {
        let scoreboard = try Scoreboard()
        let record = try XCTUnwrap(scoreboard.claimRecord(slot: 0))
        let factory = SharedMetricsFactory(region: scoreboard.metrics, recordIndex: record, logger: Logger(label: "bench"))
        let counter = Counter(label: "bench_increments_total", dimensions: [("route", "/todos")], factory: factory)
        let nanoseconds = Measure.medianNanoseconds(iterations: 2_000_000) { iterations in
            for _ in 0..<iterations { counter.increment() }
        }
        let allocations = Measure.allocations {
            for _ in 0..<10_000 { counter.increment() }
        }
        XCTAssertEqual(allocations, 0, "a counter increment allocates nothing")
        Measure.report("swift-metrics counter increment (shared scoreboard)",
                       "\(Measure.format(nanoseconds)) ns/increment, \(Measure.format(Double(allocations) / 10_000, decimals: 3)) allocations/increment\(Measure.buildNote)")
    }
}
