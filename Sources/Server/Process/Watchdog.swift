// Watchdog: --worker-timeout. Every worker stores the time of its loop's last
// turn in its scoreboard record, and its loop turns at least every heartbeat
// interval even when idle; a worker whose heartbeat is older than the timeout
// is stuck (a handler in an endless loop, a stopped process), so the master
// kills it and the slot is refilled as after any death.
import Glibc
import ServerSystem

struct Watchdog {
    let timeoutMilliseconds: Int
    /// Workers killed by the watchdog and not reaped yet, so their exit is classified as such.
    private var victims: Set<pid_t> = []

    init(timeoutMilliseconds: Int) {
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// How often the master looks: a stuck worker is found within a quarter of the timeout.
    var checkIntervalMilliseconds: Int { min(1000, max(25, timeoutMilliseconds / 4)) }

    func isStuck(heartbeat: UInt64, now: Int) -> Bool {
        now - Int(truncatingIfNeeded: heartbeat) > timeoutMilliseconds
    }

    mutating func killed(_ pid: pid_t) { victims.insert(pid) }

    /// Whether the watchdog killed `pid`, which has now been reaped.
    mutating func forget(_ pid: pid_t) -> Bool { victims.remove(pid) != nil }

    func hasKilled(_ pid: pid_t) -> Bool { victims.contains(pid) }
}

extension Supervisor {
    func checkHeartbeats() {
        // Only event-loop workers keep a heartbeat; a prefork worker blocks in accept.
        guard configuration.model == .hybrid else { return }
        let now = Clock.monotonicMilliseconds()
        let watched = slots.compactMap { slot in slot.pid.flatMap { pid in slot.recordIndex.map { (pid, $0, slot.index) } } }
            + retiring.map { ($0.pid, $0.recordIndex, $0.slot) }
        for (pid, recordIndex, slot) in watched where !watchdog.hasKilled(pid) {
            let heartbeat = scoreboard.worker(recordIndex)[.heartbeat]
            guard watchdog.isStuck(heartbeat: heartbeat, now: now) else { continue }
            let silence = now - Int(truncatingIfNeeded: heartbeat)
            logger.error("worker \(pid) in slot \(slot) has not turned its event loop for \(silence) ms (--worker-timeout \(watchdog.timeoutMilliseconds) ms); killing it")
            ChildProcess.kill(pid, SIGKILL, logger: logger)
            watchdog.killed(pid)
        }
    }
}
