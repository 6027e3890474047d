// HandlerPool: a worker's threads for deferred handler work that may block.
// Started on the first job, never before: a worker is forked from a master
// that must have no threads (fork(2) copies only the calling thread), and a
// worker that never defers never pays for them. The threads live as long as
// the worker process; jobs wait in a FIFO under a lock.
//
// Threads are rationed. No more threads run jobs than the worker's share of
// the processors (the machine's divided among the workers, at least one; plus
// what the monitor allowed, below): a thread that finishes a
// job takes the next one only within that allowance, and sleeps otherwise. At
// most one sleeper is being woken at a time: a job queued meanwhile is left to
// that thread, which, once it has taken its own, wakes the next one if jobs
// still wait and the allowance permits (a chain). Short jobs are thus served
// by about as many threads as the share. Jobs that block (a 50 ms sleep, a slow
// query) stop the queue from moving; a monitor thread, which ticks every
// millisecond while jobs wait, then raises the allowance by one and wakes a
// sleeper per 2 ms without progress in which no thread running a job was
// runnable (ThreadStates: blocked, not merely waiting for a processor, which
// on a busy machine looked the same and woke every thread), up to every thread
// of the pool. The allowance falls back to the share when the queue runs
// empty. A share of every processor per worker (2 workers on 2 cores: 6
// runnable threads with the loops) raised the example service's p99 by a third
// to a half (list and fetch, keep-alive 64: 10-17 ms against 6-12 ms with one
// per worker, at equal requests/s).
// Waking one thread per job instead (a semaphore post per submit) made 16
// threads per worker contend for 2 cores and for the application's own locks:
// the example service (GRDB) spent 1.8 context switches per request and ran
// at half the speed it reached with 2 threads (see the commit message).
import Logging
import ServerSystem
import Synchronization

final class HandlerPool: Sendable {
    typealias Job = @Sendable () -> Void

    /// A queued job. The struct keeps the closure out of the array's generic element type:
    /// a bare closure stored in or read from an array is reabstracted through a thunk whose
    /// context is a heap allocation, three per job (callgrind of the example server's blocking route).
    private struct QueuedJob {
        let run: Job
    }

    private struct State {
        /// Waiting jobs; `head` is the next one (the array is compacted when it empties).
        var jobs: [QueuedJob?] = []
        var head = 0
        /// Threads that are, or are about to be, asleep on the semaphore, none of them signalled.
        var sleeping = 0
        /// Threads signalled and not yet back at the queue: while one is, no other is woken.
        var waking = 0
        /// Threads running a job (blocked in it or not).
        var running = 0
        /// The kernel ids of the threads running a job, by thread slot (0: none).
        var runningIDs: [Int32]
        /// Threads the monitor allowed beyond the processor limit; back to 0 when the queue empties.
        var extra = 0
        /// Jobs taken so far: the monitor's measure of progress.
        var taken: UInt64 = 0
        /// The monitor sleeps while no job waits for a thread that the allowance withheld.
        var monitorParked = true

        init(threads: Int) {
            runningIDs = Array(repeating: 0, count: threads)
        }

        var isEmpty: Bool { head == jobs.count }

        mutating func takeFirst() -> QueuedJob? {
            guard !isEmpty else { return nil }
            taken &+= 1
            let job = jobs[head]
            jobs[head] = nil
            head += 1
            if isEmpty {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            return job
        }

        /// Whether another thread may start a job: fewer than `limit` plus the extra ones run or are being woken.
        func allows(limit: Int) -> Bool {
            running + waking < limit + extra
        }

        /// Whether the caller must wake a sleeper: jobs wait, one sleeps, no wakeup is under way,
        /// and the allowance permits another thread.
        mutating func claimWakeup(limit: Int) -> Bool {
            guard !isEmpty && sleeping > 0 && waking == 0 && allows(limit: limit) else { return false }
            sleeping -= 1
            waking += 1
            return true
        }

        /// Whether the caller must wake the monitor: jobs wait that the allowance keeps from a sleeper.
        mutating func claimMonitor(limit: Int) -> Bool {
            guard monitorParked && !isEmpty && sleeping > 0 && !allows(limit: limit) else { return false }
            monitorParked = false
            return true
        }
    }

    private let size: Int
    /// Threads running jobs before the monitor allows more: the worker's share of the processors.
    private let limit: Int
    private let state: Mutex<State>
    private let wakeups = Semaphore()
    private let monitorWakeup = Semaphore()
    private let started = Mutex(false)
    private let logger: Logger
    /// The monitor's tick while jobs wait.
    private static let tickMilliseconds = 1
    /// Ticks the queue must stand still, jobs waiting, before the monitor looks whether the
    /// threads running jobs are blocked.
    private static let stallTicks = 2

    /// - Parameter limit: threads that run jobs at once unless the monitor finds them stuck.
    init(size: Int, logger: Logger, limit: Int = ServerConfiguration.onlineProcessorCount) {
        self.size = max(1, size)
        self.limit = max(1, limit)
        self.logger = logger
        state = Mutex(State(threads: self.size))
    }

    /// Queues `job` for the next free thread (starting the threads the first time).
    func submit(_ job: @escaping Job) {
        startIfNeeded()
        let (wake, monitor) = state.withLock { state in
            state.jobs.append(QueuedJob(run: job))
            let wake = state.claimWakeup(limit: limit)
            return (wake, !wake && state.claimMonitor(limit: limit))
        }
        if wake { wakeups.signal() }
        if monitor { monitorWakeup.signal() }
    }

    private func startIfNeeded() {
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        // Array metadata the pool threads and the loop need is made here, on this thread, before any
        // pool thread exists: a worker's loop and a pool thread emptying arrays for the first time at
        // once (`removeAll(keepingCapacity:)`) hung both, waiting in the Swift runtime's once_slow under
        // swift_getCanonicalPrespecializedGenericMetadata (gdb on a hung worker, about 1 start in 100
        // of a debug build; 800 starts without a hang after this).
        var jobs: [QueuedJob?] = [nil]
        jobs.removeAll(keepingCapacity: true)
        var objects: [AnyObject] = [self]
        objects.removeAll(keepingCapacity: true)
        if size > limit {
            do {
                _ = try Threads.start { [self] in monitorJobs() }
            } catch {
                // Without it the pool runs `limit` jobs at a time: blocked jobs delay the others.
                logger.error("handler pool monitor: \(error)")
            }
        }
        for slot in 0..<size {
            do {
                _ = try Threads.start { [self] in runJobs(slot: slot) }
            } catch {
                // Fewer threads than asked: the ones started still serve the queue.
                logger.error("handler pool: \(error)")
            }
        }
    }

    /// - Parameter slot: this thread's place in `runningIDs`.
    private func runJobs(slot: Int) {
        let id = ThreadStates.currentThreadID()
        var woken = false
        var ranJob = false
        while true {
            let (job, wakeNext, monitor) = state.withLock { state -> (QueuedJob?, Bool, Bool) in
                if woken { state.waking -= 1 } else if ranJob {
                    state.running -= 1
                    state.runningIDs[slot] = 0
                }
                if state.isEmpty { state.extra = 0 }
                // A woken thread was allowed when it was signalled; others must fit the allowance.
                guard woken || state.allows(limit: limit), let job = state.takeFirst() else {
                    state.sleeping += 1
                    return (nil, false, state.claimMonitor(limit: limit))
                }
                state.running += 1
                state.runningIDs[slot] = id
                // Jobs still wait: pass the wakeup on before running this one, which may block.
                return (job, state.claimWakeup(limit: limit), false)
            }
            if wakeNext { wakeups.signal() }
            if monitor { monitorWakeup.signal() }
            guard let job else {
                ranJob = false
                wakeups.wait()
                woken = true
                continue
            }
            woken = false
            ranJob = true
            job.run()
        }
    }

    /// Ticks while jobs wait; `stallTicks` ticks in which no job was taken while every thread
    /// running a job is blocked (none runnable: a preempted thread is only slow) allow one more
    /// thread and wake a sleeper for it.
    private func monitorJobs() {
        var lastTaken: UInt64 = 0
        var stillTicks = 0
        while true {
            let (park, suspects) = state.withLock { state -> (Bool, [Int32]?) in
                if state.isEmpty || state.sleeping == 0 {
                    state.monitorParked = true
                    return (true, nil)
                }
                defer { lastTaken = state.taken }
                guard state.taken == lastTaken && state.waking == 0 else {
                    stillTicks = 0
                    return (false, nil)
                }
                stillTicks += 1
                return (false, stillTicks >= Self.stallTicks ? state.runningIDs.filter { $0 != 0 } : nil)
            }
            // Read outside the lock: a few files of /proc, only when the queue stands still.
            if let suspects {
                stillTicks = 0
                if !suspects.contains(where: { ThreadStates.isRunnable($0) }) && wakeStalled(lastTaken: lastTaken) {
                    wakeups.signal()
                }
            }
            if park {
                monitorWakeup.wait()
                lastTaken = state.withLock { $0.taken }
                stillTicks = 0
            }
            monitorWakeup.wait(milliseconds: Self.tickMilliseconds)
        }
    }

    /// Allows one more thread and claims a sleeper for it, if the queue still stands where it did.
    private func wakeStalled(lastTaken: UInt64) -> Bool {
        state.withLock { state in
            guard state.taken == lastTaken && !state.isEmpty && state.sleeping > 0 && state.waking == 0 else {
                return false
            }
            state.extra += 1
            state.sleeping -= 1
            state.waking += 1
            return true
        }
    }
}
