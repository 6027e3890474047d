// HTTPServer: the library's entry point: a configuration and a handler in,
// a running prefork + epoll server out.
import Glibc
import Logging

/// A prefork HTTP/1.1 server: a master process supervising worker processes,
/// each serving connections from its own epoll event loop.
public struct HTTPServer {
    public let configuration: ServerConfiguration
    private let makeHandler: () -> any HTTPHandler
    private let logger: Logger

    /// - Parameter handler: called once in each worker after it is forked, to make
    ///   that worker's handler (so per-process state, such as the pid, is the worker's own).
    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "server"),
                handler: @escaping () -> any HTTPHandler = { BuiltinRoutes() }) {
        self.configuration = configuration
        self.logger = logger
        makeHandler = handler
    }

    /// Validates the configuration, binds, prints the startup line to stdout,
    /// forks the workers and supervises them until SIGTERM, SIGINT or SIGQUIT.
    /// Returns the process's exit code once every worker has exited.
    ///
    /// Call it from a single-threaded process: it forks.
    public func run() throws -> Int32 {
        try configuration.validate()
        let supervisor = try Supervisor(configuration: configuration, makeHandler: makeHandler, logger: logger)
        return try supervisor.run { line in
            print(line)
            fflush(nil)
        }
    }
}
