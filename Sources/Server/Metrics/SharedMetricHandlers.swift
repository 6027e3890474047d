// SharedMetricHandlers: the swift-metrics handlers SharedMetricsFactory hands
// out, each a pointer to its series' cells in this worker's value block. Only
// this worker writes the block, but its threads (the handler pool, Swift tasks)
// may record at once, so counts are atomic adds (a `lock xadd`, uncontended
// across processes); no handler allocates or takes a lock when it records.
import CoreMetrics
import Synchronization

/// A Counter: adds to cell 0. A server-wide counter never goes back, so `reset` does nothing
/// and a negative increment is ignored.
final class SharedCounter: CounterHandler, @unchecked Sendable {
    private let cells: UnsafeMutablePointer<Atomic<UInt64>>

    init(cells: UnsafeMutablePointer<Atomic<UInt64>>) { self.cells = cells }

    @inline(__always)
    func increment(by amount: Int64) {
        guard amount > 0 else { return }
        cells[0].wrappingAdd(UInt64(amount), ordering: .relaxed)
    }

    func reset() {}
}

/// A Gauge (a recorder keeping the last value): this worker's value in cell 0;
/// the server's value is the sum over the live workers.
final class SharedGauge: RecorderHandler, @unchecked Sendable {
    private let cells: UnsafeMutablePointer<Atomic<UInt64>>

    init(cells: UnsafeMutablePointer<Atomic<UInt64>>) { self.cells = cells }

    func record(_ value: Int64) { record(Double(value)) }

    func record(_ value: Double) { cells[0].store(value.bitPattern, ordering: .relaxed) }
}

/// An aggregating Recorder, exposed as a summary: a count in cell 0, a sum in cell 1.
final class SharedSummary: RecorderHandler, @unchecked Sendable {
    private let cells: UnsafeMutablePointer<Atomic<UInt64>>

    init(cells: UnsafeMutablePointer<Atomic<UInt64>>) { self.cells = cells }

    func record(_ value: Int64) { record(Double(value)) }

    func record(_ value: Double) {
        cells[0].wrappingAdd(1, ordering: .relaxed)
        var current = cells[1].load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: current) + value).bitPattern
            let (exchanged, found) = cells[1].weakCompareExchange(expected: current, desired: next, ordering: .relaxed)
            if exchanged { return }
            current = found
        }
    }
}

/// A Timer, exposed as a summary in seconds: a count in cell 0, nanoseconds summed in cell 1.
final class SharedTimer: TimerHandler, @unchecked Sendable {
    private let cells: UnsafeMutablePointer<Atomic<UInt64>>

    init(cells: UnsafeMutablePointer<Atomic<UInt64>>) { self.cells = cells }

    func recordNanoseconds(_ duration: Int64) {
        cells[0].wrappingAdd(1, ordering: .relaxed)
        cells[1].wrappingAdd(UInt64(max(duration, 0)), ordering: .relaxed)
    }
}
