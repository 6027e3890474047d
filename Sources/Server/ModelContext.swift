// ModelContext: what every model is handed (settings, handler factory, logger,
// where to print the startup line), and the steps the single-process models
// share before they serve: signals, listener, startup line.
import Glibc
import Logging
import ServerSystem
import TLS

struct ModelContext {
    let configuration: ServerConfiguration
    let makeHandler: () -> any HTTPHandler
    /// What each event-loop worker runs beside its connections (nil: nothing).
    var makeServices: () -> (any WorkerServices)? = { nil }
    let logger: Logger
    /// The loaded certificates, when some listener speaks TLS.
    let tls: TLSContext?
    let announce: (String) -> Void

    /// What the startup line says in parentheses: the model, its own settings, the protocol.
    func startupDetails(_ details: String?) -> String {
        configuration.model.rawValue + (details.map { ": \($0)" } ?? "") + ", protocol \(configuration.wireProtocol.rawValue)"
            + (tls.map { ", " + $0.fileBodyPath.startupDescription } ?? "")
    }

    /// Sets the process's signal dispositions and blocks `signals` (before any thread
    /// or child exists, so all inherit the mask), opens the listener and announces it.
    func start(blocking signals: SignalSet = ReactorServing.handledSignals, details: String? = nil) throws -> Listener {
        SignalDisposition.ignoreBrokenPipe()
        SignalDisposition.ignoreUnusedControlSignals()
        try signals.block()
        // Their one listener: --host/--port, or the single --listen (validation allows no more).
        let address = configuration.listenAddresses[0]
        let listener = try Listener.open(host: address.host, port: address.port, backlog: Int32(clamping: configuration.backlog),
                                         reusePort: false, ipv6Only: !configuration.listen.isEmpty)
        let host = configuration.listen.isEmpty ? configuration.host : address.host
        // "listening on 127.0.0.1:8080 (serial, protocol http)"
        announce("listening on \(Address.display(host: host, port: listener.port)) (\(startupDetails(details)))")
        return listener
    }

    /// `start` for a model that serves every configured listener (`--listen`): a socket for each.
    func startListeners(details: String? = nil) throws -> ListenerSet {
        SignalDisposition.ignoreBrokenPipe()
        SignalDisposition.ignoreUnusedControlSignals()
        try ReactorServing.handledSignals.block()
        let listeners = try ListenerSet.open(configuration.listenAddresses, like: nil, backlog: Int32(clamping: configuration.backlog),
                                             reusePort: false, ipv6Only: !configuration.listen.isEmpty,
                                             tlsUnsentLimit: configuration.tlsUnsentLimit)
        let addresses = listeners.display(hostOverride: configuration.listen.isEmpty ? configuration.host : nil)
        announce("listening on \(addresses) (\(startupDetails(details)))")
        return listeners
    }

    /// The blocking connection loop of one process or thread, over its own serving parts.
    func blockingConnection(stop: StopNotice, thread: Int32? = nil, worker: WorkerContext? = nil) -> BlockingConnection {
        let parts = ServingParts(configuration: configuration, makeHandler: makeHandler, logger: logger,
                                 thread: thread, worker: worker)
        return BlockingConnection(parts: parts, timeouts: configuration.timeouts, stop: stop, logger: logger)
    }

    /// A serving process's stop notice, read from its own signalfd (the stop signals must be blocked).
    func processStop() throws(SystemError) -> StopNotice {
        StopNotice(signals: try SignalDescriptor(ReactorServing.stopSignals), gracefulMilliseconds: configuration.gracefulTimeout)
    }

    /// One serving thread's stop notice, over the pipes its main thread raises.
    func threadStop(_ pipes: StopPipes) -> StopNotice {
        StopNotice(pipes: pipes, gracefulMilliseconds: configuration.gracefulTimeout)
    }
}
