// HandlerPool: a worker's threads for deferred handler work that may block.
// Started on the first job, never before: a worker is forked from a master
// that must have no threads (fork(2) copies only the calling thread), and a
// worker that never defers never pays for them. The threads live as long as
// the worker process; jobs wait in a FIFO under a lock, counted by a semaphore.
import Logging
import Synchronization

final class HandlerPool: Sendable {
    typealias Job = @Sendable () -> Void

    private let size: Int
    private let jobs = Mutex<[Job]>([])
    private let queued = Semaphore()
    private let started = Mutex(false)
    private let logger: Logger

    init(size: Int, logger: Logger) {
        self.size = max(1, size)
        self.logger = logger
    }

    /// Queues `job` for the next free thread (starting the threads the first time).
    func submit(_ job: @escaping Job) {
        startIfNeeded()
        jobs.withLock { $0.append(job) }
        queued.signal()
    }

    private func startIfNeeded() {
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        for _ in 0..<size {
            do {
                _ = try Threads.start { [self] in runJobs() }
            } catch {
                // Fewer threads than asked: the ones started still serve the queue.
                logger.error("handler pool: \(error)")
            }
        }
    }

    private func runJobs() {
        while true {
            queued.wait()
            let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            job?()
        }
    }
}
