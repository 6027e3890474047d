// WorkerServiceGroup: a swift-service-lifecycle `ServiceGroup` per worker, as
// `WorkerServices`: made and run in each worker after fork (the master stays
// single-threaded), shut down gracefully once the worker has stopped serving
// (on QUIT, after its connections have drained, so no request loses a service
// it uses), and waited for at most the graceful timeout. The group installs no
// signal handlers: the worker's signalfd owns QUIT, TERM and INT.
import Dispatch
import Logging
import Server
import ServiceLifecycle

public final class WorkerServiceGroup: WorkerServices, @unchecked Sendable {
    private let makeServices: (Logger) -> [any Service]
    // Set in `start` and read in `stop`, both on the worker's main thread.
    private var group: ServiceGroup?
    private var logger = Logger(label: "services")
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter services: called in each worker after fork with its logger: the services it runs.
    public init(_ services: @escaping (Logger) -> [any Service]) {
        makeServices = services
    }

    public func start(logger: Logger) {
        self.logger = logger
        let services = makeServices(logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [], cancellationSignals: [], logger: logger))
        self.group = group
        let finished = finished
        Task.detached {
            do {
                try await group.run()
            } catch {
                logger.error("service group failed: \(error)")
            }
            finished.signal()
        }
        logger.info("service group started with \(services.count) services")
    }

    public func stop(waitingAtMost milliseconds: Int) {
        guard let group else { return }
        Task.detached { await group.triggerGracefulShutdown() }
        if finished.wait(timeout: .now() + .milliseconds(milliseconds)) == .timedOut {
            logger.warning("service group did not stop within \(milliseconds) ms; the worker exits anyway")
        } else {
            logger.info("service group stopped")
        }
    }
}
