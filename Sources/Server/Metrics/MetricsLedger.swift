// MetricsLedger: the master's side of application metrics. When a worker exits,
// the master folds what its value block counted (counters, and the counts and
// sums of summaries and timers) into totals kept in its own memory, under the
// scoreboard's retirement seqlock like the built-in totals (ScoreboardLedger.swift),
// so a server-wide counter never goes back when a worker dies or is replaced.
// Gauges are not folded: a gauge is what the live workers hold now. The totals
// are published to the region's retired area, and again at every tick, so
// garbage a worker writes there is seen only until then.
import Synchronization

struct MetricsLedger {
    /// In a value block's layout: two cells per series, then the registrations refused.
    private(set) var totals = [UInt64](repeating: 0, count: MetricsRegion.blockCells)

    /// Adds a retired worker's block, read as the series table says each slot is
    /// (both are any worker's to write: garbage garbles the totals, never the master).
    mutating func fold(_ block: UnsafeMutablePointer<Atomic<UInt64>>, region: MetricsRegion) {
        for slot in 0..<MetricsRegion.seriesLimit {
            guard let header = region.readyHeader(slot) else { continue }
            let (count, second) = (block[2 * slot].load(ordering: .relaxed), block[2 * slot + 1].load(ordering: .relaxed))
            switch header.kind {
            case .gauge: continue
            case .counter: totals[2 * slot] &+= count
            case .timer:
                totals[2 * slot] &+= count
                totals[2 * slot + 1] &+= second
            case .summary:
                totals[2 * slot] &+= count
                totals[2 * slot + 1] = (Double(bitPattern: totals[2 * slot + 1]) + Double(bitPattern: second)).bitPattern
            }
        }
        totals[MetricsRegion.refusedCell] &+= block[MetricsRegion.refusedCell].load(ordering: .relaxed)
    }
}

extension Scoreboard {
    /// Folds a retiring record's metrics into the ledger and clears its block; called
    /// by `retireRecord` inside its seqlock, so a scrape sees the counts in one place.
    func retireMetrics(ofRecord index: Int) {
        metricsLedger.fold(metrics.block(index), region: metrics)
        metrics.resetBlock(index)
        publishMetricsTotals()
    }

    /// Writes the ledger's totals over their shared copies.
    func publishMetricsTotals() {
        let shared = metrics.retiredTotals
        for (cell, value) in metricsLedger.totals.enumerated() { shared[cell].store(value, ordering: .relaxed) }
    }
}
