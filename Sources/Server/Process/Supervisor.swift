// Supervisor: the master process's cycle (as in nginx's master). It opens the
// listeners, blocks its signals, forks the workers, then sleeps in
// sigtimedwait: SIGCHLD reaps and replaces dead workers, SIGUSR1 is passed on to
// every worker (reopen the logs), SIGTERM/SIGINT/SIGQUIT stop the whole tree. It never serves a request and never runs a signal handler.
import Glibc
import Logging

final class Supervisor {
    private let configuration: ServerConfiguration
    private let makeHandler: () -> any HTTPHandler
    private let logger: Logger
    private var listeners: [Listener] = []
    private var slots: [WorkerSlot]
    private var scoreboard: Scoreboard!

    private static let signals = SignalSet([SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGUSR1])
    /// How long stopping workers get to exit before they are killed.
    static let stopDeadlineMilliseconds = 5000

    init(configuration: ServerConfiguration, makeHandler: @escaping () -> any HTTPHandler, logger: Logger) {
        self.configuration = configuration
        self.makeHandler = makeHandler
        var logger = logger
        // Workers replace these with their own pid and slot after fork.
        logger[metadataKey: "role"] = "master"
        logger[metadataKey: "pid"] = "\(getpid())"
        self.logger = logger
        slots = (0..<configuration.workers).map(WorkerSlot.init(index:))
    }

    /// Starts the workers and supervises them until a stop signal; returns the exit code.
    func run(announce: (String) -> Void) throws -> Int32 {
        SignalDisposition.ignoreBrokenPipe()
        SignalDisposition.ignoreUnusedControlSignals()
        try Self.signals.block()
        try configuration.accessLog.checkOpens()
        listeners = try openListeners()
        scoreboard = try Scoreboard()
        scoreboard.setServer(.workersWanted, UInt64(configuration.workers))
        announce(startupLine())
        do {
            for index in slots.indices { try spawn(index) }
        } catch {
            stopWorkers()
            throw error
        }
        superviseUntilStopped()
        return 0
    }

    // MARK: Listeners

    /// One shared listener, or with SO_REUSEPORT one per slot, all on the port the
    /// first one got (which matters for `--port 0`). The master keeps them all for
    /// its whole life, so a dead worker's queued connections wait for its replacement.
    private func openListeners() throws(SystemError) -> [Listener] {
        let count = configuration.reusePort ? configuration.workers : 1
        if configuration.reusePort && configuration.port != 0 {
            try Listener.ensurePortIsFree(host: configuration.bindAddress, port: configuration.port)
        }
        let first = try openListener(port: configuration.port)
        var opened = [first]
        do {
            while opened.count < count { opened.append(try openListener(port: first.port)) }
        } catch {
            opened.forEach { $0.close() }
            throw error
        }
        return opened
    }

    private func openListener(port: Int) throws(SystemError) -> Listener {
        try Listener.open(host: configuration.bindAddress, port: port,
                          backlog: Int32(clamping: configuration.backlog), reusePort: configuration.reusePort)
    }

    private func startupLine() -> String {
        let address = Address.display(host: configuration.host, port: listeners[0].port)
        let reusePort = configuration.reusePort ? "on" : "off"
        let edge = configuration.triggerMode == .edge ? "on" : "off"
        return "listening on \(address) (\(configuration.workers) workers, reuseport \(reusePort), edge-triggered \(edge))"
    }

    // MARK: Workers

    private func spawn(_ index: Int) throws {
        let masterPID = getpid()
        let listenerIndex = configuration.reusePort ? index : 0
        guard let recordIndex = scoreboard.claimRecord(slot: index) else {
            throw SystemError(call: "claim a scoreboard record for slot \(index)", errno: ENOSPC)
        }
        let pid: Int32
        do {
            pid = try ChildProcess.fork()
        } catch {
            scoreboard.retireRecord(recordIndex)
            throw error
        }
        if pid == 0 {
            for (other, listener) in listeners.enumerated() where other != listenerIndex { listener.close() }
            Worker(slot: index, listener: listeners[listenerIndex], sharedListener: !configuration.reusePort,
                   configuration: configuration, makeHandler: makeHandler, logger: logger,
                   scoreboard: scoreboard, recordIndex: recordIndex)
                .run(masterPID: masterPID)
        }
        scoreboard.worker(recordIndex).setPID(pid)
        scoreboard.addServer(.workersSpawned, 1)
        slots[index].started(pid: pid, recordIndex: recordIndex, at: Clock.monotonicMilliseconds())
    }

    /// A worker has been reaped: its counts join the retired totals and its record is freed.
    private func forgetWorker(in index: Int) {
        if let recordIndex = slots[index].recordIndex { scoreboard.retireRecord(recordIndex) }
        scoreboard.addServer(.workersDied, 1)
    }

    private func superviseUntilStopped() {
        while true {
            let signal = Self.signals.wait(timeoutMilliseconds: millisecondsUntilNextRespawn())
            switch signal {
            case SIGTERM, SIGINT, SIGQUIT:
                logger.info("received \(signalName(signal!)), stopping \(liveWorkerCount) workers")
                stopWorkers()
                listeners.forEach { $0.close() }
                return
            case SIGUSR1:
                logger.info("received SIGUSR1, telling \(liveWorkerCount) workers to reopen their log files")
                for slot in slots { if let pid = slot.pid { ChildProcess.kill(pid, SIGUSR1) } }
            default:
                // SIGCHLD, a timeout or an interruption: reap whatever exited, refill due slots.
                reapWorkers()
                respawnDueWorkers()
            }
        }
    }

    private func reapWorkers() {
        while let (pid, status) = ChildProcess.reapAny() {
            guard let index = slots.firstIndex(where: { $0.pid == pid }) else { continue }
            forgetWorker(in: index)
            let delay = slots[index].died(at: Clock.monotonicMilliseconds())
            let when = delay == 0 ? "now" : "in \(delay) ms, as workers keep dying at startup"
            logger.error("worker \(pid) exited (\(status)); starting a replacement in slot \(index) \(when)")
        }
    }

    private func respawnDueWorkers() {
        let now = Clock.monotonicMilliseconds()
        for index in slots.indices {
            guard slots[index].pid == nil, let due = slots[index].respawnAt, due <= now else { continue }
            do {
                try spawn(index)
            } catch {
                logger.error("cannot start a worker in slot \(index): \(error)")
                slots[index].respawnAt = now + WorkerSlot.maximumBackoffMilliseconds
            }
        }
    }

    private func millisecondsUntilNextRespawn() -> Int? {
        let now = Clock.monotonicMilliseconds()
        return slots.compactMap { $0.pid == nil ? $0.respawnAt : nil }.min().map { max(0, $0 - now) }
    }

    private var liveWorkerCount: Int { slots.filter { $0.pid != nil }.count }

    /// SIGTERM to every worker; whoever has not exited by the deadline (or when a
    /// second stop signal arrives) gets SIGKILL. Every worker is reaped before return.
    private func stopWorkers() {
        for slot in slots { if let pid = slot.pid { ChildProcess.kill(pid, SIGTERM) } }
        let deadline = Clock.monotonicMilliseconds() + Self.stopDeadlineMilliseconds
        while liveWorkerCount > 0 {
            let remaining = deadline - Clock.monotonicMilliseconds()
            if remaining <= 0 { break }
            let signal = Self.signals.wait(timeoutMilliseconds: remaining)
            if signal == SIGTERM || signal == SIGINT { break }
            markExitedWorkers()
        }
        for index in slots.indices {
            guard let pid = slots[index].pid else { continue }
            logger.warning("worker \(pid) did not stop within \(Self.stopDeadlineMilliseconds) ms; killing it")
            ChildProcess.kill(pid, SIGKILL)
            _ = ChildProcess.reap(pid)
            slots[index].pid = nil
        }
    }

    private func markExitedWorkers() {
        while let (pid, _) = ChildProcess.reapAny() {
            if let index = slots.firstIndex(where: { $0.pid == pid }) { slots[index].pid = nil }
        }
    }
}
