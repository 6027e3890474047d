// ServerModel: the seven architectures of the design notes, as one setting, and
// which flags mean something for which of them.

/// How the server is put together: who accepts, who serves, and how many at once.
public enum ServerModel: String, CaseIterable, Sendable {
    /// One process; accept, serve that connection until it closes, accept the next.
    case serial
    /// The master accepts and forks a child per connection.
    case processPerConnection = "process-per-connection"
    /// One new thread per accepted connection.
    case threadPerConnection = "thread-per-connection"
    /// N worker processes, each accepting and serving one connection at a time.
    case prefork
    /// N threads, each accepting and serving one connection at a time.
    case threadPool = "thread-pool"
    /// One process, one epoll loop, no master.
    case reactor
    /// The prefork supervisor over epoll reactors (nginx's shape).
    case hybrid

    /// Several threads serve at once; the line protocol then names the thread too.
    public var isThreaded: Bool { self == .threadPerConnection || self == .threadPool }
}

/// A flag that only some models use, with the message that refuses it elsewhere.
public enum ModelFlag: String, CaseIterable, Sendable {
    case workers = "--workers"
    case threads = "--threads"
    case reusePort = "--reuseport"
    case edgeTriggered = "--edge-triggered"
    case maxConnections = "--max-connections"
    case maxChildren = "--max-children"
    case maxThreads = "--max-threads"
    case gracefulTimeout = "--graceful-timeout"
    case workerTimeout = "--worker-timeout"
    case pidFile = "--pid-file"
    case user = "--user"
    case accessLog = "--access-log"
    case drainDelay = "--drain-delay"
    case gracefulSigterm = "--graceful-sigterm"

    /// The models the flag means something for.
    public var models: [ServerModel] {
        switch self {
        case .workers, .reusePort, .pidFile, .user: return [.prefork, .hybrid]
        // The master's stop sequence (GracefulShutdown.swift) and its readiness.
        case .drainDelay, .gracefulSigterm: return [.prefork, .hybrid]
        // Every model finishes its requests in flight on QUIT, bounded by this.
        case .gracefulTimeout: return ServerModel.allCases
        case .accessLog: return [.reactor, .hybrid]
        // Only an event loop turns often enough to keep a heartbeat: a prefork worker blocks in accept.
        case .workerTimeout: return [.hybrid]
        case .threads: return [.threadPool]
        case .edgeTriggered, .maxConnections: return [.reactor, .hybrid]
        case .maxChildren: return [.processPerConnection]
        case .maxThreads: return [.threadPerConnection]
        }
    }

    /// "--edge-triggered applies only to the reactor and hybrid models"
    public var refusal: String {
        let names = models.map(\.rawValue)
        let list = names.count == 1 ? "the \(names[0]) model" : "the \(names.dropLast().joined(separator: ", ")) and \(names.last!) models"
        return "\(rawValue) applies only to \(list)"
    }
}
