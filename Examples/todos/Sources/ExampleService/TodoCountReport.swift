// TodoCountReport: the service's background work, run in each worker's
// ServiceGroup (swift-service-lifecycle, started after fork): once a second it
// counts the stored todos and logs the count when it has changed. It stops
// when the worker's graceful shutdown reaches the group (after the worker's
// connections are done), and says so.
import Glibc
import Logging
import ServiceLifecycle

struct TodoCountReport: Service {
    let path: String
    let logger: Logger

    func run() async throws {
        let store = TodoStore.open(path: path)
        logger.info("todo count report running in worker \(getpid())")
        var reported: Int?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let count = try? store?.all().count, count != reported {
                logger.info("todos stored: \(count)")
                reported = count
            }
            // Cut short by a graceful shutdown, so the worker's exit does not wait for the next turn.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(nanoseconds: 1_000_000_000) }
        }
        logger.info("todo count report stopped in worker \(getpid())")
    }
}
