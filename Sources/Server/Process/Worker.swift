// Worker: a worker process's life after fork: tie its life to the master's,
// become the configured user, serve (an epoll loop in the hybrid model, an
// accept loop in prefork) until told to stop, exit.
import CEventPoll
import Glibc
import Logging
import ServerSystem

/// What a worker process is handed: its listener and its place in the scoreboard.
struct WorkerContext {
    let slot: Int
    /// The sockets it accepts from, one per configured listener.
    let listeners: ListenerSet
    /// Whether other workers accept from the same listener (no SO_REUSEPORT).
    let sharedListener: Bool
    let scoreboard: Scoreboard
    /// This worker's record in the scoreboard.
    let recordIndex: Int
    /// Says which process wrote each line (the worker's own pid and slot, once forked).
    var logger: Logger
    /// The access log, opened by the worker before it drops privileges (nil when off).
    var accessLog: AccessLog? = nil
    /// Where it tells the master it serves (nil once the server is ready: nobody asks).
    var servingReport: ServingReport? = nil

    var record: WorkerRecord { scoreboard.worker(recordIndex) }
    /// The one listener of a model that serves one (prefork).
    var listener: Listener { listeners.members[0] }
}

/// What a worker process does with its listener until a stop signal.
typealias WorkerBody = (_ context: WorkerContext) throws(SystemError) -> Void

struct Worker {
    let context: WorkerContext
    let body: WorkerBody
    /// `--user`: who the worker becomes before serving.
    let credentials: Credentials?
    let accessLog: AccessLogDestination
    /// Whether its lines end with the request id (`ServerConfiguration.logsRequestIDs`).
    var logsRequestIDs = false
    let logger: Logger

    /// Runs in the forked child; never returns.
    func run(masterPID: Int32) -> Never {
        var context = context
        context.logger = Self.logger(logger, slot: context.slot)
        WorkerRecord.ofThisProcess = context.record
        let logger = context.logger
        ApplicationMetrics.bootstrapUnlessSet(scoreboard: context.scoreboard, recordIndex: context.recordIndex, logger: logger)
        do {
            // Opened while still the master's user: logrotate may have renamed the log since
            // the master checked it, and under --user the worker could not create it in a
            // directory only root may write to. The next USR1 hands the new file over.
            context.accessLog = try AccessLog.open(accessLog, requestIDs: logsRequestIDs, logger: logger)
            // Then: the kernel clears the parent-death signal when the uid or gid changes.
            try credentials?.adopt()
            // A worker must not outlive its master: ask for SIGTERM when it dies, then
            // check it has not already died before the request took effect.
            _ = cep_set_parent_death_signal(SIGTERM)
            if getppid() != masterPID { ChildProcess.exitImmediately(0) }
            logger.info("worker started")
            try body(context)
            ChildProcess.exitImmediately(0)
        } catch {
            logger.critical("worker failed: \(error)")
            ChildProcess.exitImmediately(1)
        }
    }

    /// The master's logger with this worker's own pid and slot: every line a
    /// worker writes says which process wrote it, in every log format.
    static func logger(_ master: Logger, slot: Int) -> Logger {
        var logger = master
        logger[metadataKey: "role"] = "worker"
        logger[metadataKey: "pid"] = "\(getpid())"
        logger[metadataKey: "slot"] = "\(slot)"
        return logger
    }
}
