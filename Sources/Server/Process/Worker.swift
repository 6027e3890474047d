// Worker: a worker process's life after fork: tie its life to the master's,
// set up its event loop over its listener, serve until told to stop, exit.
import CEventPoll
import Glibc
import Logging

struct Worker {
    let slot: Int
    let listener: Listener
    let sharedListener: Bool
    let configuration: ServerConfiguration
    let makeHandler: () -> any HTTPHandler
    let logger: Logger
    let scoreboard: Scoreboard
    /// This worker's record in the scoreboard.
    let recordIndex: Int

    /// The signals a worker acts on: stop (TERM, INT, QUIT) and reopen the log
    /// files (USR1). The master blocked them before forking, so they queue for
    /// the signalfd instead of running a handler.
    static let handledSignals = SignalSet([SIGTERM, SIGINT, SIGQUIT, SIGUSR1])

    /// Runs in the forked child; never returns.
    func run(masterPID: Int32) -> Never {
        // A worker must not outlive its master: ask for SIGTERM when it dies, then
        // check it has not already died before the request took effect.
        _ = cep_set_parent_death_signal(SIGTERM)
        if getppid() != masterPID { ChildProcess.exitImmediately(0) }
        let logger = Self.logger(self.logger, slot: slot)
        logger.info("worker started")
        do {
            try serve(logger: logger)
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

    private func serve(logger: Logger) throws(SystemError) {
        let signals = try SignalDescriptor(Self.handledSignals)
        let accessLog = try AccessLog.open(configuration.accessLog, logger: logger)
        // On every way out of the loop, so the last second's lines are not lost.
        defer { accessLog?.close() }
        let dateCache = DateCache()
        let writer = ResponseWriter(dateCache: dateCache, serverName: configuration.serverName)
        let record = scoreboard.worker(recordIndex)
        let handler = OperationsRoutes(scoreboard: scoreboard, next: makeHandler())
        let driver = ConnectionDriver(limits: configuration.limits, writer: writer,
                                      handler: handler, logger: logger, record: record, accessLog: accessLog)
        let settings = EventLoop.Settings(mode: configuration.triggerMode, timeouts: configuration.timeouts,
                                          maxConnections: configuration.maxConnections)
        let loop = try EventLoop(listener: listener, sharedListener: sharedListener, signals: signals,
                                 settings: settings, driver: driver, dateCache: dateCache, logger: logger,
                                 record: record, scoreboard: scoreboard, accessLog: accessLog)
        try loop.run()
    }
}
