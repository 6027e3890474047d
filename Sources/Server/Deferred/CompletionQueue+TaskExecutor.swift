// CompletionQueue+TaskExecutor: async handlers' tasks run on their worker's
// event-loop thread. A task started for an async handler prefers the worker's
// completion queue as its executor (SE-0417 task executor preference), so its
// jobs wait in the queue and the loop runs them between epoll turns, instead of
// on the global concurrent pool: no thread hop and no cross-thread wakeup per
// request, and the answer is posted from the loop's own thread, which needs no
// wakeup either. A job resumed by another thread (a timer, a client library's
// own threads) is queued here too and raises the eventfd if the loop sleeps.
//
// The price: an async handler runs on the loop, so one that blocks its thread
// (a synchronous database call, a sleep) stalls every connection of its worker
// while it does. Blocking work belongs on the blocking path (`.blocking`,
// `BlockingHTTPHandler`), which runs on the handler pool.

extension CompletionQueue: TaskExecutor {
    package func enqueue(_ job: consuming ExecutorJob) {
        enqueue(job: UnownedJob(job))
    }

    /// Runs the jobs queued now, on the calling thread (the loop's): for `DeferredDispatch.close`.
    func runQueuedJobs() {
        var completions: [Completion] = [], jobs: [UnownedJob] = []
        take(completions: &completions, jobs: &jobs)
        run(&jobs)
    }

    /// Runs `jobs` (taken from this queue by the loop) on the calling thread, which must
    /// be the loop's, and empties the array, keeping its capacity.
    func run(_ jobs: inout [UnownedJob]) {
        guard !jobs.isEmpty else { return }
        let executor = asUnownedTaskExecutor()
        for job in jobs {
            job.runSynchronously(on: executor)
        }
        jobs.removeAll(keepingCapacity: true)
    }
}
