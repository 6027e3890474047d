// WorkerServices: what an embedder runs in each worker beside its connections
// (a ServiceGroup of background services, a metrics exporter). Made and started
// in the worker after fork, so the master stays single-threaded; stopped once
// the worker has stopped serving: on QUIT after its connections have drained,
// so a request in flight can still use them; on TERM at once. The worker
// waits for them a bounded time (the graceful timeout) before it exits.
import Logging

/// Services of one worker process (event-loop models: hybrid and reactor).
public protocol WorkerServices: AnyObject {
    /// Called in the worker after fork, before it serves: starts the services (on threads or tasks of its own).
    func start(logger: Logger)
    /// Called when the worker has stopped serving: stops the services, returning within `milliseconds`.
    func stop(waitingAtMost milliseconds: Int)
}
