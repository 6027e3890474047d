// ReactorServing: one process's epoll loop over a listener, until a stop
// signal: the whole of the reactor model, and the body of each hybrid worker.
// The loop is built for the configured protocol's concrete service type, so
// the HTTP loop is compiled for ConnectionDriver alone.
import Glibc
import HTTP1
import Logging
import ServerSystem
import TLS

enum ReactorServing {
    /// The signals that stop a loop (TERM and INT at once, QUIT after a graceful
    /// drain); the caller has blocked them, so they queue for the signalfd.
    static let stopSignals = SignalSet([SIGTERM, SIGINT, SIGQUIT])
    /// What a loop reads from its signalfd: the stop signals and USR1 (reopen the logs).
    static let handledSignals = SignalSet([SIGTERM, SIGINT, SIGQUIT, SIGUSR1])

    /// Plain HTTP: the accepted socket is the connection's transport.
    private static func plain(_ socket: consuming Socket, listener: Int) -> Socket { socket }

    /// - Parameter worker: the hybrid worker's place in the scoreboard (which also
    ///   serves /metrics); nil for the reactor model, which has no scoreboard.
    ///   `tls`: the loaded certificates, when some listener speaks TLS.
    static func serve(listeners: ListenerSet, sharedListener: Bool, configuration: ServerConfiguration,
                      makeHandler: () -> any HTTPHandler, makeServices: () -> (any WorkerServices)? = { nil }, logger: Logger,
                      worker: WorkerContext? = nil, tls: TLSContext? = nil) throws(SystemError) {
        guard let tls else {
            return try serve(listeners: listeners, sharedListener: sharedListener, configuration: configuration,
                             makeHandler: makeHandler, makeServices: makeServices, logger: logger, worker: worker,
                             makeTransport: plain)
        }
        // Counted, never logged: a scanner's garbage must not fill the log.
        let record = worker?.record ?? .detached
        tls.onHandshakeFailure = { record.add(.tlsHandshakeFailures) }
        let speaksTLS = listeners.addresses.map(\.tls)
        try serve(listeners: listeners, sharedListener: sharedListener, configuration: configuration,
                  makeHandler: makeHandler, makeServices: makeServices, logger: logger, worker: worker) { (socket, listener) throws(SystemError) -> SocketOrTLS in
            speaksTLS[listener] ? .tls(try tls.makeSession(socket)) : .plain(socket)
        }
    }

    /// The loop over the connections' transport `T`: the socket, or SocketOrTLS when some listener speaks TLS.
    private static func serve<T: Transport & ~Copyable>(
        listeners: ListenerSet, sharedListener: Bool, configuration: ServerConfiguration,
        makeHandler: () -> any HTTPHandler, makeServices: () -> (any WorkerServices)?, logger: Logger, worker: WorkerContext?,
        makeTransport: @escaping (consuming Socket, _ listener: Int) throws(SystemError) -> T
    ) throws(SystemError) {
        let signals = try SignalDescriptor(handledSignals)
        // The reactor model may run embedded (HTTPServer), where a leaked descriptor outlives the server.
        defer { signals.close() }
        // A hybrid worker opened it before dropping privileges.
        let accessLog = if let worker { worker.accessLog } else {
            try AccessLog.open(configuration.accessLog, requestIDs: configuration.logsRequestIDs, logger: logger)
        }
        // On every way out of the loop, so the last second's lines are not lost.
        defer { accessLog?.close() }
        let dateCache = DateCache()
        let settings = EventLoopSettings(mode: configuration.triggerMode, timeouts: configuration.timeouts,
                                         maxConnections: configuration.maxConnections,
                                         drainMilliseconds: configuration.gracefulTimeout,
                                         heartbeatMilliseconds: configuration.heartbeatMilliseconds)
        let record = worker?.record ?? .detached
        let clients = configuration.acceptsProxyProtocol || configuration.realIPHeader != nil
            ? ClientAddresses(trustedProxies: configuration.trustedProxies, realIPHeader: configuration.realIPHeader) : nil
        let proxyHeaders = clients.map { ProxyHeaderReader(clients: $0, accessLog: accessLog, record: record, logger: logger) }
        switch configuration.wireProtocol {
        case .http:
            let writer = ResponseWriter(dateCache: dateCache, serverName: configuration.serverName)
            let handler = OperationsRoutes(scoreboard: worker?.scoreboard, next: makeHandler())
            // Made here, in the worker after fork; its threads start only when a handler first defers.
            let deferral = try DeferredDispatch(threads: configuration.handlerThreads,
                                                processorShare: configuration.processorShare, logger: logger,
                                                fileSending: configuration.fileSending)
            defer { deferral.close() }
            // Started before serving, stopped once the loop has drained (WorkerServices).
            let services = makeServices()
            services?.start(logger: logger)
            defer { services?.stop(waitingAtMost: configuration.gracefulTimeout) }
            worker?.reportServing()
            let driver = ConnectionDriver(limits: configuration.limits, writer: writer, handler: handler,
                                          logger: logger, record: record, accessLog: accessLog,
                                          bodyRate: configuration.minBodyRate, deferral: deferral, clientAddresses: clients,
                                          compression: configuration.compression, fileSending: configuration.fileSending)
            try EventLoop(listeners: listeners, sharedListener: sharedListener, signals: signals, settings: settings,
                          driver: driver, dateCache: dateCache, logger: logger,
                          record: record, scoreboard: worker?.scoreboard, accessLog: accessLog, proxyHeaders: proxyHeaders,
                          makeTransport: makeTransport).run()
        case .line:
            let driver = LineDriver(answer: LineDriver.answer(pid: getpid(), thread: nil),
                                    maxLineBytes: configuration.limits.maxRequestLineBytes, logger: logger)
            worker?.reportServing()
            try EventLoop(listeners: listeners, sharedListener: sharedListener, signals: signals, settings: settings,
                          driver: driver, dateCache: dateCache, logger: logger,
                          record: record, scoreboard: worker?.scoreboard, proxyHeaders: proxyHeaders,
                          makeTransport: makeTransport).run()
        }
    }
}
