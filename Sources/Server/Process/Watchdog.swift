// Watchdog: --worker-timeout. Every worker stores the time of its loop's last
// turn in its scoreboard record, and its loop turns at least every heartbeat
// interval even when idle; a worker whose heartbeat has not moved for the
// timeout is stuck (a handler in an endless loop, a stopped process), so the
// master kills it and the slot is refilled as after any death.
//
// The heartbeat is the worker's own report in memory any worker can write, so
// the master does no arithmetic on its value: it notes, on its own clock, when
// it last saw the value change. Garbage there can neither trap the master nor
// make it wait forever; at worst the worker that wrote it is judged by it.
import Glibc
import ServerSystem

struct Watchdog {
    let timeoutMilliseconds: Int
    /// Workers killed by the watchdog and not reaped yet, so their exit is classified as such.
    private var victims: Set<pid_t> = []
    /// Each watched worker's heartbeat as last read, and when (the master's clock) it was first read so.
    private var lastSeen: [pid_t: (heartbeat: UInt64, since: Int)] = [:]

    init(timeoutMilliseconds: Int) {
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// How often the master looks: a stuck worker is found within a quarter of the timeout
    /// after its heartbeat's last change has been seen.
    var checkIntervalMilliseconds: Int { min(1000, max(25, timeoutMilliseconds / 4)) }

    /// How long `pid`'s heartbeat has read `heartbeat`, as far as the master has seen.
    mutating func silence(of pid: pid_t, heartbeat: UInt64, now: Int) -> Int {
        guard let seen = lastSeen[pid], seen.heartbeat == heartbeat else {
            lastSeen[pid] = (heartbeat, now)
            return 0
        }
        return now - seen.since
    }

    mutating func killed(_ pid: pid_t) { victims.insert(pid) }

    /// Whether the watchdog killed `pid`, which has now been reaped.
    mutating func forget(_ pid: pid_t) -> Bool {
        lastSeen[pid] = nil
        return victims.remove(pid) != nil
    }

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
            let silence = watchdog.silence(of: pid, heartbeat: scoreboard.worker(recordIndex)[.heartbeat], now: now)
            guard silence > watchdog.timeoutMilliseconds else { continue }
            logger.error("worker \(pid) in slot \(slot) has not turned its event loop for \(silence) ms (--worker-timeout \(watchdog.timeoutMilliseconds) ms); killing it")
            ChildProcess.kill(pid, SIGKILL, logger: logger)
            watchdog.killed(pid)
        }
    }
}
