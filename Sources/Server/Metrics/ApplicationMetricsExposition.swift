// ApplicationMetricsExposition: the application's swift-metrics series as
// Prometheus text, each with its server-wide value: the live workers' blocks
// plus the master's retired totals for counters, summaries and timers (so a
// counter never goes back), the live workers' sum for gauges. Timers and
// aggregating recorders are summaries without quantiles (`_count` and `_sum`,
// a timer's sum in seconds). Then the table's own numbers: series in use, the
// limit, registrations refused. Runs only for a scrape, so it builds Strings
// freely; every header, key and index comes from memory any worker can write,
// and is checked before use (SeriesHeader, SeriesKey.parse).
import Synchronization

enum ApplicationMetricsExposition {
    /// One series as read: its name, its `{...}` labels, and its values.
    struct Series {
        let name: String
        let labels: String
        let kind: SeriesKind
        var count: UInt64 = 0
        /// A gauge's value, a summary's sum, or a timer's sum in nanoseconds (as a Double).
        var sum: Double = 0
    }

    /// Appends the families to a /metrics exposition.
    static func render(_ scoreboard: Scoreboard, into text: inout String) {
        let (series, refused) = scoreboard.readConsistently { read(scoreboard) }
        var byName: [String: [Series]] = [:]
        for item in series where byName[item.name]?.first.map({ $0.kind == item.kind }) ?? true {
            byName[item.name, default: []].append(item)
        }
        for name in byName.keys.sorted() { write(byName[name]!, named: name, into: &text) }
        let prefix = MetricsExposition.prefix
        text += """
            # HELP \(prefix)metrics_series Application metric series (swift-metrics) in the shared table.
            # TYPE \(prefix)metrics_series gauge
            \(prefix)metrics_series \(scoreboard.metrics.readySlotCount())
            # HELP \(prefix)metrics_series_limit Application metric series the shared table can hold.
            # TYPE \(prefix)metrics_series_limit gauge
            \(prefix)metrics_series_limit \(MetricsRegion.seriesLimit)
            # HELP \(prefix)metrics_registrations_refused_total Metrics made while the table was full (or with too long a key): they record nothing.
            # TYPE \(prefix)metrics_registrations_refused_total counter
            \(prefix)metrics_registrations_refused_total \(refused)

            """
    }

    /// Every ready series with a well-formed key, its values summed over the live
    /// workers and the retired totals; and the registrations refused, likewise.
    private static func read(_ scoreboard: Scoreboard) -> ([Series], UInt64) {
        let region = scoreboard.metrics
        // The records with a forked worker, as MetricsExposition.Snapshot reads them.
        let blocks = scoreboard.usedRecords.filter { scoreboard.worker($0).pid != nil }.map(region.block)
        let retired = region.retiredTotals
        var series: [Series] = []
        var indexes: [String: Int] = [:]
        for slot in 0..<MetricsRegion.seriesLimit {
            guard let header = region.readyHeader(slot),
                  let (name, labels) = SeriesKey.parse(region.key(of: slot, length: header.keyLength)) else { continue }
            // A series can hold two slots: a registration that stopped waiting for a claim another
            // worker stalled in took the next free one (SeriesClaim), and both workers record on.
            // Both slots count; the same key with another kind is garbage and skipped.
            let index = indexes[name + labels] ?? series.count
            if index == series.count {
                indexes[name + labels] = index
                series.append(Series(name: name, labels: labels, kind: header.kind))
            } else if series[index].kind != header.kind {
                continue
            }
            let cells = blocks + (header.kind == .gauge ? [] : [retired])
            for block in cells { add(block + 2 * slot, to: &series[index]) }
        }
        let refused = ([retired] + blocks).reduce(UInt64(0)) { $0 &+ $1[MetricsRegion.refusedCell].load(ordering: .relaxed) }
        return (series, refused)
    }

    private static func add(_ cells: UnsafeMutablePointer<Atomic<UInt64>>, to series: inout Series) {
        let (first, second) = (cells[0].load(ordering: .relaxed), cells[1].load(ordering: .relaxed))
        switch series.kind {
        case .counter: series.count &+= first
        case .gauge: series.sum += Double(bitPattern: first)
        case .summary:
            series.count &+= first
            series.sum += Double(bitPattern: second)
        case .timer:
            series.count &+= first
            series.sum += Double(second)
        }
    }

    private static func write(_ family: [Series], named name: String, into text: inout String) {
        let kind = family[0].kind
        let type = kind == .counter ? "counter" : kind == .gauge ? "gauge" : "summary"
        let unit = kind == .timer ? ", in seconds" : ""
        text += "# HELP \(name) Recorded by the application (swift-metrics), all workers\(unit).\n# TYPE \(name) \(type)\n"
        for series in family {
            switch kind {
            case .counter: text += "\(name)\(series.labels) \(series.count)\n"
            case .gauge: text += "\(name)\(series.labels) \(format(series.sum))\n"
            case .summary, .timer:
                let sum = kind == .timer ? series.sum / 1e9 : series.sum
                text += "\(name)_count\(series.labels) \(series.count)\n\(name)_sum\(series.labels) \(format(sum))\n"
            }
        }
    }

    /// A sample value: integers without a fraction, and the format's spellings of infinity and NaN.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
