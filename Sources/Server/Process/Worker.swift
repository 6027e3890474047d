// Worker: a worker process's life after fork: tie its life to the master's,
// serve (an epoll loop in the hybrid model, an accept loop in prefork) until
// told to stop, exit.
import CEventPoll
import Glibc
import Logging

/// What a worker process does with its listener until a stop signal.
typealias WorkerBody = (_ listener: Listener, _ sharedListener: Bool) throws(SystemError) -> Void

struct Worker {
    let slot: Int
    let listener: Listener
    let sharedListener: Bool
    let body: WorkerBody
    let logger: Logger

    /// Runs in the forked child; never returns.
    func run(masterPID: Int32) -> Never {
        // A worker must not outlive its master: ask for SIGTERM when it dies, then
        // check it has not already died before the request took effect.
        _ = cep_set_parent_death_signal(SIGTERM)
        if getppid() != masterPID { ChildProcess.exitImmediately(0) }
        do {
            try body(listener, sharedListener)
            ChildProcess.exitImmediately(0)
        } catch {
            logger.critical("worker \(getpid()) in slot \(slot) failed: \(error)")
            ChildProcess.exitImmediately(1)
        }
    }
}
