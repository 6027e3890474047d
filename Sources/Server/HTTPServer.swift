// HTTPServer: the library's entry point: a configuration and a handler in,
// a running server out, built as the configured model (prefork + epoll by default).
import Glibc
import Logging

/// An HTTP/1.1 server in one of seven architectures; by default a master process
/// supervising worker processes, each serving connections from its own epoll event loop.
public struct HTTPServer {
    public let configuration: ServerConfiguration
    private let makeHandler: () -> any HTTPHandler
    private let makeServices: () -> (any WorkerServices)?
    private let logger: Logger

    /// - Parameter handler: called once in each worker after it is forked, to make
    ///   that worker's handler (so per-process state, such as the pid, is the worker's own).
    /// - Parameter services: called once in each event-loop worker after fork: what it runs beside
    ///   its connections (see `WorkerServices`); none by default.
    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "server"),
                handler: @escaping () -> any HTTPHandler = { BuiltinRoutes() },
                services: @escaping () -> (any WorkerServices)? = { nil }) {
        self.configuration = configuration
        self.logger = logger
        makeHandler = handler
        makeServices = services
    }

    /// Validates the configuration, binds, prints the startup line to stdout and
    /// serves as the configured model until SIGTERM, SIGINT or SIGQUIT. Returns the
    /// process's exit code once every worker process or thread has ended.
    ///
    /// Call it from a single-threaded process: most models fork.
    public func run() throws -> Int32 {
        try configuration.validate()
        // Before any fork and before --user drops privileges: workers inherit the loaded keys.
        let tls = try configuration.loadTLS()
        let context = ModelContext(configuration: configuration, makeHandler: makeHandler, makeServices: makeServices,
                                   logger: logger, tls: tls) { line in
            print(line)
            fflush(nil)
        }
        switch configuration.model {
        case .serial: return try Serial.run(context)
        case .processPerConnection: return try ProcessPerConnection.run(context)
        case .threadPerConnection: return try ThreadPerConnection.run(context)
        case .prefork: return try Prefork.run(context)
        case .threadPool: return try ThreadPool.run(context)
        case .reactor: return try Reactor.run(context)
        case .hybrid: return try Hybrid.run(context)
        }
    }
}
