// Measure: a tiny benchmark runner. It warms up, times several runs, and
// reports the median; it prints figures and never asserts a time.
import CMallocCounter
import Glibc

enum Measure {
    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Runs `body(iterations)` once to warm up, then `runs` times, and returns
    /// the median nanoseconds per iteration.
    static func medianNanoseconds(iterations: Int, runs: Int = 5, _ body: (Int) -> Void) -> Double {
        body(max(1, iterations / 10))
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = nanoseconds()
            body(iterations)
            samples.append(Double(nanoseconds() - start) / Double(iterations))
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    /// Heap allocations (malloc and friends) made by the process while `body` runs.
    static func allocations(_ body: () -> Void) -> UInt64 {
        let before = cmc_allocation_count()
        body()
        return cmc_allocation_count() - before
    }

    /// Heap allocations made by the calling thread while `body` runs: for work that stays on
    /// it (an inline request, a handler call), where another thread's allocation at the same
    /// moment (a test's leftover task, a timer) would otherwise be counted as the work's.
    static func allocationsOnThisThread(_ body: () -> Void) -> UInt64 {
        let before = cmc_thread_allocation_count()
        body()
        return cmc_thread_allocation_count() - before
    }

    static func report(_ name: String, _ figures: String) {
        print("benchmark \(name): \(figures)")
    }

    static func format(_ value: Double, decimals: Int = 1) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return "\(rounded)"
    }

    #if DEBUG
    static let buildNote = " (debug build: see README for release-mode figures)"
    #else
    static let buildNote = ""
    #endif
}
