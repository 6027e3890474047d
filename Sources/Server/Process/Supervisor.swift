// Supervisor: the master process's cycle (as in nginx's master). It opens (or
// inherits) the listeners, blocks its signals, forks the workers, then sleeps
// in sigtimedwait and acts on what wakes it:
//
//   SIGCHLD          reap, classify and replace dead workers
//   SIGTERM, SIGINT  fast shutdown (TERM graceful with --graceful-sigterm)
//   SIGQUIT          graceful shutdown, after --drain-delay (GracefulShutdown.swift)
//   SIGHUP           rolling restart                    (RollingRestart.swift)
//   SIGTTIN/SIGTTOU  one worker more / fewer            (WorkerCount.swift)
//   SIGUSR2          upgrade the binary in place        (BinaryUpgrade.swift)
//   SIGUSR1          passed on to every worker: reopen the log files
//   every tick       watchdog, retirements in progress  (Watchdog.swift, WorkerCount.swift)
//                    the master's scoreboard numbers    (ScoreboardLedger.swift)
//                    written over their shared copies
//
// It never serves a request and never runs a signal handler.
import Glibc
import Logging
import ServerSystem

final class Supervisor {
    let configuration: ServerConfiguration
    /// What each worker process runs: an epoll loop (hybrid) or an accept loop (prefork).
    let workerBody: WorkerBody
    /// What the startup line says of the model and its workers, given the worker count.
    let describe: (_ workers: Int) -> String
    let logger: Logger
    /// With SO_REUSEPORT, one set of sockets per slot in the order they joined their
    /// ports' groups: slot i serves listeners[i], and sets past the slots are being
    /// retired (WorkerCount.swift). Without it, one set shared by all. A set holds
    /// one socket per configured listener (ListenerSet).
    var listeners: [ListenerSet] = []
    var slots: [WorkerSlot] = []
    /// Workers that no longer fill a slot and are finishing their connections.
    var retiring: [RetiringWorker] = []
    var scoreboard: Scoreboard!
    var exits = ExitClassifier()
    var watchdog: Watchdog
    /// The new master of a binary upgrade in progress.
    var upgrade: pid_t?
    /// Set once a graceful shutdown has begun: no slot is refilled.
    var stopping = false
    /// After a binary upgrade with SO_REUSEPORT, the old master, which may still hold
    /// sockets of the group it did not hand over (being retired by TTOU): new connections
    /// stay steered to this master's sockets until it has exited (BinaryUpgrade.swift).
    var steeredAwayFromOldMaster: pid_t?
    let pidFile: PIDFile?
    let credentials: Credentials?
    /// The binary a USR2 executes: the path this one was started from, read now,
    /// since once the file is replaced /proc/self/exe names the deleted old one.
    let executablePath: String
    /// The TLS context workers are forked with, re-read on HUP; nil without a TLS listener.
    let tls: TLSCertificates?

    static let signals = SignalSet([SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGHUP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2])
    /// How long fast-stopping workers get to exit before they are killed.
    static let stopDeadlineMilliseconds = 5000

    init(configuration: ServerConfiguration, logger: Logger, tls: TLSCertificates? = nil,
         describe: @escaping (_ workers: Int) -> String, workerBody: @escaping WorkerBody) throws {
        self.tls = tls
        self.configuration = configuration
        self.describe = describe
        self.workerBody = workerBody
        var logger = logger
        // Workers replace these with their own pid and slot after fork.
        logger[metadataKey: "role"] = "master"
        logger[metadataKey: "pid"] = "\(getpid())"
        self.logger = logger
        watchdog = Watchdog(timeoutMilliseconds: configuration.workerTimeout)
        pidFile = configuration.pidFile.map(PIDFile.init(path:))
        credentials = try configuration.user.map(Credentials.lookUp)
        executablePath = Files.readLink("/proc/self/exe") ?? CommandLine.arguments[0]
    }

    /// Starts the workers and supervises them until the server stops; returns the exit code.
    func run(announce: (String) -> Void) throws -> Int32 {
        SignalDisposition.ignoreBrokenPipe()
        SignalDisposition.ignoreUnusedControlSignals()
        try Self.signals.block()
        try configuration.accessLog.checkOpens(owner: credentials)
        let inherited = try InheritedListeners.take()
        let inheritedSets = try inherited.map { try ListenerSet.sets(inheritedFrom: $0, configuration: configuration) }
        try refuseUnservedListeners(inheritedSets)
        listeners = try inheritedSets ?? openListeners()
        slots = (0..<workerCount(inherited: inherited)).map(WorkerSlot.init(index:))
        if let inherited { takeOverSteering(inheritedFrom: inherited.source) }
        scoreboard = try Scoreboard()
        scoreboard.setServer(.workersWanted, UInt64(slots.count))
        publishTLSFileBodyPath()
        // Before the startup line: a pid file that cannot be written fails the start.
        try pidFile?.write()
        announce(startupLine(inherited: inherited?.source))
        do {
            for index in slots.indices { try spawn(index) }
        } catch {
            pidFile?.remove()
            stopWorkers()
            throw error
        }
        if case .upgrade(let oldMaster, _)? = inherited?.source { finishUpgrade(oldMaster: oldMaster) }
        superviseUntilStopped()
        pidFile?.remove()
        return 0
    }

    // MARK: Listeners

    /// One shared listener, or with SO_REUSEPORT one per slot, all on the port the
    /// first one got (which matters for `--port 0`). The master keeps them for its
    /// whole life, so a dead or retired worker's queued connections wait for the next.
    private func openListeners() throws(SystemError) -> [ListenerSet] {
        let count = configuration.reusePort ? configuration.workers : 1
        if configuration.reusePort {
            for address in configuration.listenAddresses where address.port != 0 {
                try Listener.ensurePortIsFree(host: address.host, port: address.port, ipv6Only: !configuration.listen.isEmpty)
            }
        }
        let first = try openListenerSet(like: nil)
        var opened = [first]
        do {
            while opened.count < count { opened.append(try openListenerSet(like: first)) }
        } catch {
            opened.forEach { $0.close() }
            throw error
        }
        return opened
    }

    /// A socket for every listener, on the ports `like` got (the first set, for `--port 0`).
    func openListenerSet(like first: ListenerSet?) throws(SystemError) -> ListenerSet {
        try ListenerSet.open(configuration.listenAddresses, like: first, backlog: Int32(clamping: configuration.backlog),
                             reusePort: configuration.reusePort, ipv6Only: !configuration.listen.isEmpty,
                             tlsUnsentLimit: configuration.tlsUnsentLimit)
    }

    /// Without SO_REUSEPORT every worker serves listeners[0] alone, so further sockets
    /// passed by socket activation would accept connections nobody ever serves (clients
    /// hang): refused, before anything is forked. (A binary upgrade hands over one.)
    private func refuseUnservedListeners(_ inherited: [ListenerSet]?) throws {
        guard let inherited, inherited.count > 1, !configuration.reusePort else { return }
        inherited.forEach { $0.close() }
        throw ConfigurationError("socket activation passed \(inherited.count) sockets per listener (LISTEN_FDS), but without --reuseport every worker serves one: pass one socket per listener, or --reuseport for one worker per socket")
    }

    /// With SO_REUSEPORT every inherited socket needs its worker; a shared listener
    /// runs as many as the old master did (after its TTINs and TTOUs), or --workers.
    private func workerCount(inherited: InheritedListeners?) -> Int {
        guard let inherited else { return configuration.workers }
        if configuration.reusePort { return listeners.count }
        if case .upgrade(_, let workers?) = inherited.source { return workers }
        return configuration.workers
    }

    func listener(forSlot index: Int) -> ListenerSet {
        configuration.reusePort ? listeners[index] : listeners[0]
    }

    private func startupLine(inherited: InheritedListeners.Source?) -> String {
        // The host as the operator wrote it ("localhost") when it is the single plain listener.
        let address = listeners[0].display(hostOverride: configuration.listen.isEmpty ? configuration.host : nil)
        let origin: String
        switch inherited {
        case .upgrade(let oldMaster, _)?: origin = ", listeners inherited from master \(oldMaster)"
        case .socketActivation?: origin = ", listeners from socket activation"
        case nil: origin = ""
        }
        return "listening on \(address) (\(describe(slots.count))\(origin))"
    }

    // MARK: Workers

    /// Forks a worker into slot `index` (replacing whatever pid the slot recorded).
    func spawn(_ index: Int) throws {
        let masterPID = getpid()
        let listener = listener(forSlot: index)
        guard let recordIndex = scoreboard.claimRecord(slot: index) else {
            throw SystemError(call: "claim a scoreboard record for slot \(index)", errno: ENOSPC)
        }
        // Only an event loop keeps a heartbeat; a prefork worker blocks in accept.
        // A heartbeat of 0 says so (no watchdog, no heartbeat age in /metrics).
        if configuration.model != .hybrid { scoreboard.worker(recordIndex)[.heartbeat] = 0 }
        let report = try makeServingReport(recordIndex: recordIndex)
        let pid: Int32
        do {
            pid = try SingleThreadedFork.fork()
        } catch {
            report?.close()
            scoreboard.retireRecord(recordIndex)
            throw error
        }
        if pid == 0 {
            for other in listeners where other.fd != listener.fd { other.close() }
            keepOnlyWriter(of: report)
            var context = WorkerContext(slot: index, listeners: listener, sharedListener: !configuration.reusePort,
                                        scoreboard: scoreboard, recordIndex: recordIndex, logger: logger)
            context.servingReport = report
            Worker(context: context, body: workerBody, credentials: credentials,
                   accessLog: configuration.accessLog, logsRequestIDs: configuration.logsRequestIDs, logger: logger)
                .run(masterPID: masterPID)
        }
        scoreboard.setPID(pid, ofRecord: recordIndex)
        scoreboard.addServer(.workersSpawned, 1)
        slots[index].started(pid: pid, recordIndex: recordIndex, at: Clock.monotonicMilliseconds())
        awaitReport(report, slot: index)
    }

    private func superviseUntilStopped() {
        while true {
            let received = Self.signals.waitWithSender(timeoutMilliseconds: millisecondsUntilNextTick())
            switch received?.signal {
            case SIGTERM? where configuration.gracefulSigterm:
                shutDownGracefully(requestedBy: received!.sender, signal: SIGTERM)
                return
            case SIGTERM?, SIGINT?:
                logger.info("received \(signalName(received!.signal)), stopping \(liveWorkerCount) workers")
                stopWorkers()
                listeners.forEach { $0.close() }
                return
            case SIGQUIT?:
                shutDownGracefully(requestedBy: received!.sender)
                return
            case SIGHUP?: restartWorkers()
            case SIGTTIN?: addWorker()
            case SIGTTOU?: removeWorker()
            case SIGUSR2?: beginUpgrade()
            case SIGUSR1?: reopenLogs()
            default: break
            }
            tick()
        }
    }

    /// After any wake-up: reap whatever exited, refill due slots, run the periodic checks.
    func tick() {
        reapWorkers()
        respawnDueWorkers()
        checkHeartbeats()
        progressRetirements()
        releaseSteeringOnceOldMasterIsGone()
        updateReadiness()
        if tls?.rotateTicketKeysIfDue(now: Clock.monotonicMilliseconds(), logger: logger) == true {
            scoreboard.addServer(.tlsTicketKeyRotations, 1)
        }
        scoreboard.republish()
    }

    // MARK: Reaping

    /// Reaps every exited child: a slot's worker is replaced, a retiring one is forgotten,
    /// the new master of a binary upgrade means the upgrade failed.
    func reapWorkers() {
        while let (pid, status) = ChildProcess.reapAny() {
            if pid == upgrade {
                upgradeFailed(status)
                continue
            }
            let byWatchdog = watchdog.forget(pid)
            let slotIndex = slots.firstIndex { $0.pid == pid }
            let retiringIndex = retiring.firstIndex { $0.pid == pid }
            // Anything else is a new master whose upgrade already completed.
            guard slotIndex != nil || retiringIndex != nil else { continue }
            let exit = exits.classify(status, byWatchdog: byWatchdog)
            scoreboard.addServer(exit.counter, 1)
            scoreboard.addServer(.workersDied, 1)
            if let slotIndex {
                workerDied(in: slotIndex, pid: pid, exit: exit)
            } else if let retiringIndex {
                let worker = retiring.remove(at: retiringIndex)
                scoreboard.retireRecord(worker.recordIndex)
                let level: Logger.Level = exit == .clean ? .info : .warning
                logger.log(level: level, "retired worker \(pid) of slot \(worker.slot) exited (\(exit))")
            }
        }
        closeRetiredListeners()
    }

    private func workerDied(in index: Int, pid: pid_t, exit: WorkerExit) {
        dropReport(slot: index)
        if let recordIndex = slots[index].recordIndex { scoreboard.retireRecord(recordIndex) }
        let delay = slots[index].died(at: Clock.monotonicMilliseconds())
        if stopping {
            slots[index].respawnAt = nil
            logger.info("worker \(pid) exited (\(exit))")
            return
        }
        let when = delay == 0 ? "now" : "in \(delay) ms, as workers keep dying at startup"
        logger.error("worker \(pid) exited (\(exit)); starting a replacement in slot \(index) \(when)")
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

    /// Sleep until the next respawn or periodic check, whichever comes first.
    func millisecondsUntilNextTick() -> Int {
        let now = Clock.monotonicMilliseconds()
        let respawn = slots.compactMap { $0.pid == nil ? $0.respawnAt : nil }.min().map { max(0, $0 - now) }
        return min(respawn ?? .max, watchdog.checkIntervalMilliseconds, retirementCheckMilliseconds, readinessTickMilliseconds)
    }

    /// USR1 (logrotate): every worker, retiring ones included, reopens its log files.
    func reopenLogs() {
        logger.info("received SIGUSR1, telling \(liveWorkerCount) workers to reopen their log files")
        do {
            try configuration.accessLog.checkOpens(owner: credentials)
        } catch {
            logger.error("cannot reopen the access log: \(error)")
        }
        for pid in slots.compactMap(\.pid) + retiring.map(\.pid) { ChildProcess.kill(pid, SIGUSR1, logger: logger) }
    }

    var liveWorkerCount: Int { slots.filter { $0.pid != nil }.count + retiring.count }

    var allWorkerPIDs: [pid_t] { slots.compactMap(\.pid) + retiring.map(\.pid) }
}
