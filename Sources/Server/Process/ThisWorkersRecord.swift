// The scoreboard record of the worker this process is, for the counters that
// handlers keep (the static file handler's cache hits and misses): a handler is
// made after fork, in the worker, and finds its record here.

extension WorkerRecord {
    /// This process's own record once it is a worker (set right after fork, before its
    /// handler is made); a record counting into nothing in processes that are not workers.
    package nonisolated(unsafe) static var ofThisProcess: WorkerRecord = .detached
}
