// SharedMetricsFactory: the swift-metrics backend of a worker. A Counter,
// Gauge, Recorder or Timer made in any worker finds (or claims) its series in
// the scoreboard's shared table (SeriesClaim.swift) and records into this
// worker's value block, so /metrics, from whichever worker answers it, shows
// one series with the server-wide value (ApplicationMetricsExposition.swift).
// Making a metric takes a lock and may allocate; recording never does.
//
// The table is bounded (`MetricsRegion.seriesLimit` series for the server's
// life). A metric that finds it full, or whose key is too long, is refused:
// its handle records nothing, the worker logs one line per name, and
// `prefork_metrics_registrations_refused_total` counts it.
import CoreMetrics
import Logging
import Synchronization

package final class SharedMetricsFactory: MetricsFactory, @unchecked Sendable {
    private let region: MetricsRegion
    private let block: UnsafeMutablePointer<Atomic<UInt64>>
    private let logger: Logger
    /// Slots already found by this process (by kind and key), and names already refused (for the log).
    private let known = Mutex<(slots: [[UInt8]: Int], refused: Set<String>)>(([:], []))

    /// A factory recording into the value block of scoreboard record `recordIndex`.
    package init(region: MetricsRegion, recordIndex: Int, logger: Logger) {
        self.region = region
        block = region.block(recordIndex)
        self.logger = logger
    }

    package func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        guard let cells = cells(label, dimensions, .counter) else { return NOOPMetricsHandler.instance }
        return SharedCounter(cells: cells)
    }

    package func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        guard let cells = cells(label, dimensions, aggregate ? .summary : .gauge) else { return NOOPMetricsHandler.instance }
        return aggregate ? SharedSummary(cells: cells) : SharedGauge(cells: cells)
    }

    package func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        guard let cells = cells(label, dimensions, .timer) else { return NOOPMetricsHandler.instance }
        return SharedTimer(cells: cells)
    }

    // A series keeps its slot for the server's life (another worker may still record
    // into it, and a counter's total must not go back), so destroying a handle frees nothing.
    package func destroyCounter(_ handler: CounterHandler) {}
    package func destroyRecorder(_ handler: RecorderHandler) {}
    package func destroyTimer(_ handler: TimerHandler) {}

    /// This worker's two cells of the metric's series, or nil (logged and counted) when it is refused.
    private func cells(_ label: String, _ dimensions: [(String, String)], _ kind: SeriesKind) -> UnsafeMutablePointer<Atomic<UInt64>>? {
        guard let key = SeriesKey.make(label: label, dimensions: dimensions, kind: kind) else {
            refuse(SeriesKey.name(of: label, kind: kind),
                   because: "its name and labels take more than \(MetricsRegion.keyCapacity) bytes")
            return nil
        }
        let lookup = [UInt8(kind.rawValue)] + key
        let slot = known.withLock { known -> Int? in
            if let slot = known.slots[lookup] { return slot }
            let slot = region.findOrClaim(key, kind: kind)
            if let slot { known.slots[lookup] = slot }
            return slot
        }
        guard let slot else {
            refuse(SeriesKey.name(of: label, kind: kind),
                   because: "the server's table of \(MetricsRegion.seriesLimit) metric series is full")
            return nil
        }
        return block + 2 * slot
    }

    private func refuse(_ name: String, because reason: String) {
        block[MetricsRegion.refusedCell].wrappingAdd(1, ordering: .relaxed)
        let first = known.withLock { $0.refused.insert(name).inserted }
        if first {
            logger.error("metric \(name) is not recorded: \(reason) (see prefork_metrics_registrations_refused_total)")
        }
    }
}

/// The worker's side of application metrics: swift-metrics recording into the scoreboard.
package enum ApplicationMetrics {
    /// Makes this worker's SharedMetricsFactory the process's metrics backend, unless the
    /// embedder bootstrapped one of its own (before the server started, so the workers inherit it).
    package static func bootstrapUnlessSet(scoreboard: Scoreboard, recordIndex: Int, logger: Logger) {
        guard MetricsSystem.factory is NOOPMetricsHandler else { return }
        MetricsSystem.bootstrap(SharedMetricsFactory(region: scoreboard.metrics, recordIndex: recordIndex, logger: logger))
    }
}
