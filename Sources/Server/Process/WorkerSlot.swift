// WorkerSlot: one place in the master's table of workers, which outlives the
// processes that fill it: a dead worker's replacement takes the same slot (and,
// with SO_REUSEPORT, the same listener with its queued connections).

struct WorkerSlot {
    let index: Int
    /// The worker filling the slot, nil between its death and its replacement.
    var pid: Int32?
    /// The current worker's record in the scoreboard.
    var recordIndex: Int?
    /// When the current worker was forked (monotonic ms).
    var startedAt = 0
    /// Consecutive workers that died within `quickDeathMilliseconds` of starting.
    var quickDeaths = 0
    /// When an empty slot gets its next worker (monotonic ms).
    var respawnAt: Int?
    /// Where the current worker reports that it serves, until it has (Readiness.swift).
    var servingReport: ServingReport?
    /// Whether the current worker has reported serving.
    var serving = false

    /// A worker dying sooner than this after its start counts as a failure to start.
    static let quickDeathMilliseconds = 1000
    static let maximumBackoffMilliseconds = 10_000

    init(index: Int) {
        self.index = index
    }

    mutating func started(pid: Int32, recordIndex: Int? = nil, at now: Int) {
        self.pid = pid
        self.recordIndex = recordIndex
        startedAt = now
        respawnAt = nil
        serving = false
    }

    /// Records the worker's death and schedules its replacement: at once after
    /// a worker that ran a while or a single quick death, then with a backoff
    /// that doubles (100 ms, 200 ms, ... up to 10 s) while workers keep dying at startup.
    mutating func died(at now: Int) -> Int {
        pid = nil
        quickDeaths = now - startedAt < Self.quickDeathMilliseconds ? quickDeaths + 1 : 0
        let delay = quickDeaths <= 1 ? 0 : min(100 << min(quickDeaths - 2, 10), Self.maximumBackoffMilliseconds)
        respawnAt = now + delay
        return delay
    }
}
