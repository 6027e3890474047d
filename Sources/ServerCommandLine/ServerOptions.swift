// ServerOptions: the server's flags, shared by every executable built on the
// library (`server`, the example embedder): flags in, a ServerConfiguration out.
import ArgumentParser
import Glibc
import Logging
import Server

public struct ServerOptions: ParsableArguments {
    public init() {}

    @Option(help: "Architecture: \(ServerModel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model = ServerModel.hybrid

    @Option(name: .customLong("protocol"), help: "What connections speak: http, or line (one answer line per request line).")
    var wireProtocol = WireProtocol.http

    @Option(help: "Address to listen on: numeric IPv4 or IPv6, or localhost (default 0.0.0.0).")
    var host: String?

    @Option(help: "TCP port; 0 picks a free one (the startup line shows which) (default 8080).")
    var port: Int?

    @OptionGroup var listeners: ListenerOptions

    @Option(help: "Worker processes (prefork, hybrid); unless set, one per online CPU.")
    var workers: Int?

    @Option(help: "Threads of the thread-pool model (default \(ServerConfiguration().threads)).")
    var threads: Int?

    @Option(help: "Threads per event-loop worker for handlers that defer blocking work, started on first use (default \(ServerConfiguration().handlerThreads)).")
    var handlerThreads: Int?

    @Option(help: "Children the process-per-connection model keeps at most (default \(ServerConfiguration().maxChildren)).")
    var maxChildren: Int?

    @Option(help: "Threads the thread-per-connection model keeps at most (default \(ServerConfiguration().maxThreads)).")
    var maxThreads: Int?

    @Option(help: "listen(2) backlog; unless set, the kernel's SOMAXCONN.")
    var backlog = Int(SOMAXCONN)

    @Flag(help: "Give every worker its own SO_REUSEPORT listener; the kernel spreads connections (prefork, hybrid).")
    var reuseport = false

    @Flag(help: "Register sockets edge-triggered (EPOLLET) and drain them; default is level-triggered (reactor, hybrid).")
    var edgeTriggered = false

    @Option(help: "Largest request header block in bytes (at most \(RequestLimits.maximumHeaderBytes)); larger gets 431.")
    var maxHeaderSize = RequestLimits().maxHeaderBytes

    @Option(help: "Largest request body in bytes (at most \(RequestLimits.maximumBodyBytes)); larger gets 413.")
    var maxBodySize = RequestLimits().maxBodyBytes

    @Option(help: "Longest request line in bytes (at most \(RequestLimits.maximumRequestLineBytes)); longer gets 414.")
    var maxRequestLine = RequestLimits().maxRequestLineBytes

    @Option(help: "Connections one event loop holds at most; past it, it stops accepting until one closes (reactor, hybrid; default \(ServerConfiguration().maxConnections)).")
    var maxConnections: Int?

    @Option(help: "Seconds a client has to send a whole header block; then 408 and close.")
    var headerTimeout = Seconds(milliseconds: TimeoutDurations().header)

    @Option(help: "Seconds an idle keep-alive connection is kept open.")
    var keepaliveTimeout = Seconds(milliseconds: TimeoutDurations().keepAlive)

    @Option(help: "Seconds a client may pause while sending a body; then 408 and close.")
    var bodyTimeout = Seconds(milliseconds: TimeoutDurations().body)

    @Option(help: "Seconds a client may leave responses unread before it is closed (with a reset).")
    var writeTimeout = Seconds(milliseconds: TimeoutDurations().write)

    @Option(help: "Seconds a deferred handler may take to answer; then 503 (or, when nothing can be sent, close).")
    var handlerTimeout = Seconds(milliseconds: TimeoutDurations().handling)

    @Option(help: ArgumentHelp("Bytes per second a request body must average once --min-body-rate-grace has passed; slower gets 408 and close. 0 turns it off.",
                               valueName: "bytes-per-second"))
    var minBodyRate = MinimumBodyRate().bytesPerSecond

    @Option(help: "Seconds from a request's head before --min-body-rate applies.")
    var minBodyRateGrace = Seconds(milliseconds: MinimumBodyRate().graceMilliseconds)

    @Option(help: "Seconds a graceful stop (QUIT, HUP, TTOU, USR2) lets requests finish before closing connections (reactor, hybrid; default \(Seconds(milliseconds: ServerConfiguration().gracefulTimeout))).")
    var gracefulTimeout: Seconds?

    @Option(help: "Seconds a graceful stop (QUIT; TERM with --graceful-sigterm) keeps accepting and serving with /readyz answering 503, so a balancer's checks take the server out first (prefork, hybrid; default 0).")
    var drainDelay: Seconds?

    @Flag(help: "SIGTERM (what Docker and Kubernetes send) stops gracefully, as SIGQUIT does; a second TERM stops at once (prefork, hybrid).")
    var gracefulSigterm = false

    @Option(help: "Seconds a worker's event loop may go without turning before the master kills and replaces it (hybrid; default \(Seconds(milliseconds: ServerConfiguration().workerTimeout))).")
    var workerTimeout: Seconds?

    @Option(help: "Write the master's pid to this file (atomically); removed on exit (prefork, hybrid).")
    var pidFile: String?

    @Option(help: "Run the workers as this user (start as root to bind ports below 1024) (prefork, hybrid).")
    var user: String?
    @Option(help: ArgumentHelp("Access log in nginx's combined format: a file path, '-' for stdout, or 'off' (reactor, hybrid).",
                               discussion: "Each worker buffers its lines (written at least once a second) and reopens the file on SIGUSR1.",
                               valueName: "path"))
    var accessLog = "off"

    @Flag(help: ArgumentHelp("Give every request an id: the client's X-Request-Id when it is 1-200 characters of [A-Za-z0-9-_.:+=/@], else 32 new hex digits; echoed in X-Request-Id, last field of the access log, in handlers' log metadata (request-id).",
                             discussion: "Off by default: the inline request path then does no work for it."))
    public var requestId = false

    @Flag(help: "Compress compressible responses (text, JSON, JavaScript, XML, SVG, wasm...) with gzip on the fly for HTTP/1.1 clients that accept it.")
    var gzip = false

    @Option(help: "zlib level of --gzip, 1 (fastest) to 9 (smallest).")
    var gzipLevel = CompressionSettings().level

    @Option(help: ArgumentHelp("Bodies shorter than this are not compressed by --gzip.", valueName: "bytes"))
    var gzipMinLength = CompressionSettings().minimumLength

    @Flag(help: "Compress the same responses with brotli on the fly for HTTP/1.1 clients that accept br (preferred to gzip on equal weights).")
    var brotli = false

    @Option(help: "libbrotli quality of --brotli, 0 (fastest) to 11 (smallest).")
    var brotliLevel = CompressionSettings().brotliLevel

    @Option(help: "Least severe log level written to stderr.")
    public var logLevel = Logger.Level.info

    @Flag(name: [.customShort("t"), .customLong("check-configuration")],
          help: "Check the flags, listeners and files (--root, --access-log, --user) without serving: print 'configuration OK' or one error line, exit 0 or 1 (nginx -t).")
    var checkConfiguration = false

    @OptionGroup(title: "Static files") public var files: StaticFileFlags

    public var serverConfiguration: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.model = model
        configuration.wireProtocol = wireProtocol
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        listeners.apply(to: &configuration)
        if let workers { configuration.workers = workers }
        if let threads { configuration.threads = threads }
        if let handlerThreads { configuration.handlerThreads = handlerThreads }
        if let maxChildren { configuration.maxChildren = maxChildren }
        if let maxThreads { configuration.maxThreads = maxThreads }
        configuration.backlog = backlog
        configuration.reusePort = reuseport
        configuration.triggerMode = edgeTriggered ? .edge : .level
        configuration.limits.maxHeaderBytes = maxHeaderSize
        configuration.limits.maxBodyBytes = maxBodySize
        configuration.limits.maxRequestLineBytes = maxRequestLine
        if let maxConnections { configuration.maxConnections = maxConnections }
        configuration.timeouts.header = headerTimeout.milliseconds
        configuration.timeouts.keepAlive = keepaliveTimeout.milliseconds
        configuration.timeouts.body = bodyTimeout.milliseconds
        configuration.timeouts.write = writeTimeout.milliseconds
        configuration.timeouts.handling = handlerTimeout.milliseconds
        configuration.minBodyRate = MinimumBodyRate(bytesPerSecond: minBodyRate, graceMilliseconds: minBodyRateGrace.milliseconds)
        if let gracefulTimeout { configuration.gracefulTimeout = gracefulTimeout.milliseconds }
        if let workerTimeout { configuration.workerTimeout = workerTimeout.milliseconds }
        if let drainDelay { configuration.drainDelay = drainDelay.milliseconds }
        configuration.gracefulSigterm = gracefulSigterm
        configuration.pidFile = pidFile
        configuration.user = user
        configuration.accessLog = AccessLogDestination(argument: accessLog)
        configuration.logsRequestIDs = requestId
        configuration.compression.gzip = gzip
        configuration.compression.level = gzipLevel
        configuration.compression.minimumLength = gzipMinLength
        configuration.fileSending = files.fileSending
        configuration.compression.brotli = brotli
        configuration.compression.brotliLevel = brotliLevel
        return configuration
    }

    /// The model-specific flags given on the command line.
    var modelFlagsGiven: [ModelFlag] {
        let given: [(ModelFlag, Bool)] = [(.workers, workers != nil), (.threads, threads != nil), (.reusePort, reuseport),
                                          (.edgeTriggered, edgeTriggered), (.maxConnections, maxConnections != nil),
                                          (.maxChildren, maxChildren != nil), (.maxThreads, maxThreads != nil),
                                          (.gracefulTimeout, gracefulTimeout != nil), (.workerTimeout, workerTimeout != nil),
                                          (.pidFile, pidFile != nil), (.user, user != nil),
                                          (.accessLog, AccessLogDestination(argument: accessLog) != .off),
                                          (.drainDelay, drainDelay != nil), (.gracefulSigterm, gracefulSigterm)]
        return given.filter(\.1).map(\.0)
    }

    public func validate() throws {
        if let refused = modelFlagsGiven.first(where: { !$0.models.contains(model) }) {
            throw ValidationError(refused.refusal)
        }
        try listeners.validate(host: host, port: port)
        do {
            try serverConfiguration.validate()
        } catch {
            throw ValidationError(error.message)
        }
        try files.validate()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension ServerModel: ExpressibleByArgument {}
extension WireProtocol: ExpressibleByArgument {}

/// A flag value in seconds, fractions allowed ("0.5"), kept as milliseconds.
struct Seconds: ExpressibleByArgument, CustomStringConvertible {
    let milliseconds: Int

    init(milliseconds: Int) {
        self.milliseconds = milliseconds
    }

    init?(argument: String) {
        guard let seconds = Double(argument), seconds.isFinite, seconds > 0, seconds < 1e6 else { return nil }
        milliseconds = max(1, Int((seconds * 1000).rounded()))
    }

    var description: String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }

    var defaultValueDescription: String { description }
}

