// ServerConfiguration: every setting of a server, with its default, validated
// once before anything is opened or forked.
import Glibc
import HTTP1
import TLS

/// A setting that cannot work, with a message fit for one line on stderr.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The settings of a server.
public struct ServerConfiguration: Sendable {
    /// Which of the seven architectures serves.
    public var model = ServerModel.hybrid
    /// What the server speaks on its connections.
    public var wireProtocol = WireProtocol.http
    /// Address to listen on: a numeric IPv4 or IPv6 address, or `localhost` (127.0.0.1).
    public var host = "0.0.0.0"
    /// TCP port; 0 asks the kernel for a free one.
    public var port = 8080
    /// The listeners `--listen` asked for; empty means one plain listener on `host:port`.
    public var listen: [ListenAddress] = []
    /// The certificate chains and keys of the `tls` listeners; the first is served to clients
    /// that name no known host (SNI), the others to those that name one of theirs.
    public var tlsCertificates: [TLSCertificatePair] = []
    /// Seconds a session ticket key encrypts new tickets; tickets it issued resume for
    /// one period more, then cost a full handshake.
    public var tlsTicketKeyRotation = 3600
    /// Bytes of records a TLS connection keeps unsent in its socket at most (TCP_NOTSENT_LOWAT;
    /// 0: the kernel's default, no limit). See `ListenerSet.limitUnsentRecords(to:)`.
    public var tlsUnsentLimit = ServerConfiguration.defaultTLSUnsentLimit
    /// One TLS record's plaintext, as Cloudflare sets `net.ipv4.tcp_notsent_lowat`.
    public static let defaultTLSUnsentLimit = 16_384
    /// Peers whose PROXY headers (and, with `realIPHeader`, forwarded headers) are believed.
    public var trustedProxies = TrustedProxies()
    /// The request header naming the client behind a trusted proxy, if any is honoured.
    public var realIPHeader: RealIPHeader?
    /// Worker processes.
    public var workers = ServerConfiguration.onlineProcessorCount
    /// The listen(2) backlog: how many connections the kernel queues for accept.
    public var backlog = Int(SOMAXCONN)
    /// One SO_REUSEPORT listener per worker instead of one listener shared by all.
    public var reusePort = false
    /// How each worker's epoll set reports readiness.
    public var triggerMode = TriggerMode.level
    /// Bounds on a single request.
    public var limits = RequestLimits()
    /// Per-connection timeouts.
    public var timeouts = TimeoutDurations()
    /// The slowest a request body may arrive after a grace period; slower gets 408.
    public var minBodyRate = MinimumBodyRate()
    /// Connections one worker holds at most; past it the worker stops accepting until one closes.
    public var maxConnections = 10_000
    /// How long a graceful stop (QUIT, a worker retired by HUP or TTOU, the old
    /// master after USR2) lets connections finish before closing them (ms).
    public var gracefulTimeout = 30_000
    /// How long a graceful stop keeps accepting and serving, with /readyz answering 503,
    /// before it begins: time for a balancer's checks to take the server out (ms; 0: none).
    public var drainDelay = 0
    /// Whether SIGTERM (what Docker and Kubernetes send) stops gracefully, as QUIT does.
    public var gracefulSigterm = false
    /// A worker whose event loop has not turned for this long is killed and replaced (ms).
    public var workerTimeout = 30_000
    /// Where the master writes its pid, if anywhere.
    public var pidFile: String?
    /// The user the workers run as, if not the one that started the server.
    public var user: String?
    /// Threads of the thread-pool model.
    public var threads = 16
    /// Threads each event-loop worker starts, on first use, for handlers that defer
    /// blocking work (`Response.deferToPool`): that many such requests run at once.
    public var handlerThreads = 16
    /// Children the process-per-connection master keeps at most; past it, it stops accepting
    /// until one exits. 256 is Apache httpd's default bound on its prefork children.
    public var maxChildren = 256
    /// Threads the thread-per-connection model keeps at most, for the same reason and bound.
    public var maxThreads = 256
    /// Where each worker writes its access log (nginx's combined format); off by default.
    public var accessLog = AccessLogDestination.off
    /// Whether each access log line ends with the request's id, its response's `X-Request-Id`
    /// (`--request-id`; ServerEcosystem's `RequestIDs` handler gives every request one).
    public var logsRequestIDs = false
    /// On-the-fly and precompressed gzip of responses.
    public var compression = CompressionSettings()
    /// How file bodies are sent: sendfile's chunk, cold reads off the loop.
    public var fileSending = FileSendSettings()
    /// The Server header's value.
    public var serverName: StaticString = "swift-prefork"

    public init() {}

    /// The most workers a server runs (--workers, and growing it with TTIN).
    public static let maximumWorkers = 1024

    /// The processors one worker's handler pool may keep busy at once: the machine's processors
    /// divided among the workers (at least one). Every worker's pool using all of them put
    /// twice as many runnable threads as processors on a 2-core machine with 2 workers.
    var processorShare: Int { max(1, Self.onlineProcessorCount / max(1, workers)) }

    /// The number of processors online, the default number of workers.
    public static var onlineProcessorCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The numeric address to bind.
    public var bindAddress: String { host == "localhost" ? "127.0.0.1" : host }

    /// Throws the first setting that cannot work.
    public func validate() throws(ConfigurationError) {
        guard workers >= 1 else { throw ConfigurationError("--workers must be at least 1 (got \(workers))") }
        guard workers <= Self.maximumWorkers else {
            throw ConfigurationError("--workers must be at most \(Self.maximumWorkers) (got \(workers))")
        }
        guard (0...65535).contains(port) else { throw ConfigurationError("--port must be between 0 and 65535 (got \(port))") }
        guard backlog >= 1 else { throw ConfigurationError("--backlog must be at least 1 (got \(backlog))") }
        guard Self.isNumericAddress(bindAddress) else {
            throw ConfigurationError("--host '\(host)' is not an IPv4 or IPv6 address (or localhost)")
        }
        guard limits.maxHeaderBytes >= 256 else {
            throw ConfigurationError("--max-header-size must be at least 256 bytes (got \(limits.maxHeaderBytes))")
        }
        guard limits.maxRequestLineBytes >= 64 else {
            throw ConfigurationError("--max-request-line must be at least 64 bytes (got \(limits.maxRequestLineBytes))")
        }
        try Self.checkMaximum("--max-header-size", limits.maxHeaderBytes, RequestLimits.maximumHeaderBytes)
        try Self.checkMaximum("--max-request-line", limits.maxRequestLineBytes, RequestLimits.maximumRequestLineBytes)
        guard maxConnections >= 1 else { throw ConfigurationError("--max-connections must be at least 1 (got \(maxConnections))") }
        for (flag, milliseconds) in [("--header-timeout", timeouts.header), ("--keepalive-timeout", timeouts.keepAlive),
                                     ("--body-timeout", timeouts.body), ("--write-timeout", timeouts.write),
                                     ("--handler-timeout", timeouts.handling)] {
            guard milliseconds >= 1 else { throw ConfigurationError("\(flag) must be positive") }
        }
        guard minBodyRate.bytesPerSecond >= 0 else {
            throw ConfigurationError("--min-body-rate must not be negative (got \(minBodyRate.bytesPerSecond))")
        }
        guard minBodyRate.graceMilliseconds >= 1 else { throw ConfigurationError("--min-body-rate-grace must be positive") }
        guard gracefulTimeout >= 1 else { throw ConfigurationError("--graceful-timeout must be positive") }
        guard drainDelay >= 0 else { throw ConfigurationError("--drain-delay must not be negative") }
        guard (0...Int(Int32.max)).contains(tlsUnsentLimit) else {
            throw ConfigurationError("--tls-notsent-lowat must be between 0 and \(Int32.max) bytes (got \(tlsUnsentLimit))")
        }
        guard workerTimeout >= 100 else {
            throw ConfigurationError("--worker-timeout must be at least 0.1 seconds (got \(Double(workerTimeout) / 1000))")
        }
        if let pidFile, pidFile.isEmpty { throw ConfigurationError("--pid-file must not be empty") }
        if let user, user.isEmpty { throw ConfigurationError("--user must not be empty") }
        for (flag, count) in [("--threads", threads), ("--max-children", maxChildren), ("--max-threads", maxThreads),
                              ("--handler-threads", handlerThreads)] {
            guard (1...10_000).contains(count) else { throw ConfigurationError("\(flag) must be between 1 and 10000 (got \(count))") }
        }
        guard accessLog != .file("") else { throw ConfigurationError("--access-log needs a path, '-' or 'off'") }
        try validateRedirects()
        guard limits.maxBodyBytes >= 0 else {
            throw ConfigurationError("--max-body-size must not be negative (got \(limits.maxBodyBytes))")
        }
        try Self.checkMaximum("--max-body-size", limits.maxBodyBytes, RequestLimits.maximumBodyBytes)
        try validateListeners()
        try compression.validate()
        try fileSending.validate()
    }

    /// A request limit beyond what the parser's offsets can hold (RequestLimits says which type bounds which).
    private static func checkMaximum(_ flag: String, _ value: Int, _ maximum: Int) throws(ConfigurationError) {
        guard value <= maximum else { throw ConfigurationError("\(flag) must be at most \(maximum) bytes (got \(value))") }
    }

    /// Whether file bodies sent on this configuration's listeners pass through the process: a `tls` listener
    /// without kernel TLS encrypts them in user space (pread and SSL_write), where a plain one uses sendfile(2).
    public var copiesFileBodies: Bool {
        listen.contains { $0.tls } && !KernelTLS.isAvailable
    }

    /// How often an idle worker's loop turns, to keep its heartbeat well inside --worker-timeout.
    var heartbeatMilliseconds: Int { min(1000, max(10, workerTimeout / 3)) }

    private static func isNumericAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
