// SingleThreadedFork: the master's rule that it forks only while it has one
// thread. fork(2) copies the calling thread alone; a lock held by any other
// (malloc's, the Swift concurrency runtime's, a logging backend's) is held
// forever in the child, which then hangs on its first use. So the master runs
// no task and starts no thread (a ServiceGroup, a metrics exporter, a tracer's
// exporter run in the workers, after fork) and checks before every fork.
import ServerSystem

/// Refusal to fork from a master that has more than one thread.
public struct ThreadedMasterError: Error, CustomStringConvertible {
    public let threads: Int

    public var description: String {
        "refusing to fork: the master process has \(threads) threads, not 1 (fork(2) copies only the calling thread; "
            + "start tasks, threads and service groups in the workers, after fork, not before HTTPServer.run)"
    }
}

enum SingleThreadedFork {
    /// Throws unless the calling process has exactly one thread (counted in /proc/self/task).
    static func check() throws {
        let threads = try ProcessThreads.count()
        guard threads == 1 else { throw ThreadedMasterError(threads: threads) }
    }

    /// Forks after the check: 0 in the child, the child's pid in the parent.
    static func fork() throws -> Int32 {
        try check()
        return try ChildProcess.fork()
    }
}
