// DescriptorBudget: the open-file cache's descriptors come out of the same
// RLIMIT_NOFILE as a worker's connections. Before fork the master raises the
// soft limit (up to the hard one) to hold --max-connections, the cache and a
// reserve for the worker's own descriptors (listener, epoll, signalfd, eventfd,
// logs, the root, files in flight); if the hard limit cannot hold them, the
// cache is shrunk so connections keep their headroom, and the operator is told.
import Logging
import ServerSystem

public enum DescriptorBudget {
    /// Descriptors a worker holds besides its connections and cached files.
    public static let reserve = 64

    /// The cache size that fits beside `connections`, after raising the limit for both.
    public static func reserve(cache: Int, connections: Int, logger: Logger) -> Int {
        guard cache > 0 else { return 0 }
        let wanted = connections + cache + reserve
        let limit: Int
        do {
            limit = try DescriptorLimit.raise(to: wanted)
        } catch {
            logger.warning("cannot raise the descriptor limit for the open-file cache: \(error)")
            limit = (try? DescriptorLimit.current().soft) ?? wanted
        }
        guard limit < wanted else { return cache }
        let fitting = max(0, limit - connections - reserve)
        logger.warning("open-file cache shrunk from \(cache) to \(fitting) entries: RLIMIT_NOFILE \(limit) must also hold \(connections) connections")
        return fitting
    }
}
