// CompletionQueue: what deferred handler work hands back to its event loop, and
// how the loop is woken for it. Two kinds of items wait here under one lock:
// answers (from the handler pool's threads, or from tasks) and task jobs (the
// queue is the task executor of async handlers, CompletionQueue+TaskExecutor).
// The loop takes both between epoll turns. The eventfd is raised only when the
// loop may be asleep in epoll_wait and only once until the loop has seen it, so a
// busy loop receives answers and jobs without a single write or read of it; and
// it is written after the lock is released, so the handler pool's threads never
// wait on each other's system calls (a profile at 512 connections showed them
// spinning on this lock while one of them wrote).
// The connection is named by its epoll token (fd and generation) and the
// ticket's serial, so an answer for a connection that was closed or timed out
// meanwhile is recognised and dropped.
import HTTP1
import ServerSystem
import Synchronization

/// One finished piece of deferred work.
package struct Completion: Sendable {
    /// The connection's epoll token when the work was handed out.
    let token: UInt64
    /// The ticket it answers (see HandlerTicket).
    let serial: UInt64
    private(set) var response: Response
    /// Set instead of an answer when a file body's read-ahead is done (DiskReads): the bytes it brought into the page cache.
    var readAhead: Int? = nil

    /// The response, moved out (a copy would retain each of its fields), leaving an empty one.
    mutating func takeResponse() -> Response {
        var taken = Response()
        swap(&taken, &response)
        return taken
    }
}

package final class CompletionQueue: Sendable {
    private struct State {
        var pending: [Completion] = []
        var jobs: [UnownedJob] = []
        /// Connections (epoll tokens) whose streamed body moved on the other side (StreamedRequestBody,
        /// ChunkPump): the loop resumes them if they still wait for it.
        var nudged: [UInt64] = []
        /// Set by `close`: answers and jobs that arrive afterwards are dropped. The eventfd
        /// itself is closed only with the queue (deinit), so a poster that decided to raise
        /// it never writes to a descriptor number the kernel has handed to another file.
        var closed = false
        /// The loop is between two epoll waits and looks at this queue before the next one
        /// (`loopWillWait`): nothing need wake it. False until the loop first runs.
        var loopAwake = false
        /// The eventfd was raised (or is being raised) and the loop has not seen it yet:
        /// raising it again would change nothing.
        var raised = false
    }

    private let state = Mutex(State())
    private let wakeup: EventCounter
    /// Set by the first answer or job ever queued. Until then the loop skips this queue
    /// with one atomic load per turn: a worker whose handlers all answer inline pays nothing more.
    private let used = Atomic(false)

    init() throws(SystemError) {
        wakeup = try EventCounter()
    }

    /// The eventfd the loop watches for readability.
    var fd: Int32 { wakeup.fd }

    /// Called by whichever thread finished the work (the loop's own, for a task it runs).
    func post(_ completion: consuming Completion) {
        // Moved into the queue, not copied: a copy would retain every field of its response.
        var moving: Completion? = consume completion
        let wake = state.withLock { state in
            guard !state.closed else { return false }
            state.pending.append(moving.take()!)
            noteUse()
            return Self.mustWake(&state)
        }
        if wake { wakeup.signal() }
    }

    /// Queues a task's job for the loop's thread (see CompletionQueue+TaskExecutor).
    /// A job that arrives after `close` is dropped: its worker is exiting.
    func enqueue(job: UnownedJob) {
        let wake = state.withLock { state in
            guard !state.closed else { return false }
            state.jobs.append(job)
            noteUse()
            return Self.mustWake(&state)
        }
        if wake { wakeup.signal() }
    }

    private func noteUse() {
        if !used.load(ordering: .relaxed) { used.store(true, ordering: .releasing) }
    }

    /// Whether anything was ever queued here (see `used`).
    var inUse: Bool { used.load(ordering: .acquiring) }

    /// Decided under the lock (so `loopWillWait` cannot miss it), written after it.
    private static func mustWake(_ state: inout State) -> Bool {
        guard !state.loopAwake && !state.raised else { return false }
        state.raised = true
        return true
    }

    /// Called by the loop when epoll reported the eventfd: reads it back, then lets the next
    /// post raise it again. A write that lands between the two (its poster decided before)
    /// leaves it readable: the next wait returns at once and this runs again, so it never stays set.
    func wakeupSeen() {
        wakeup.reset()
        state.withLock { $0.raised = false }
    }

    /// Called by the loop right after each epoll wait: until `loopWillWait`, whatever is
    /// queued will be seen without a wakeup.
    func loopWoke() {
        state.withLock { $0.loopAwake = true }
    }

    /// Called by the loop as the last thing before an epoll wait. Returns false (and the
    /// loop must not block) when answers or jobs wait already; otherwise anything queued
    /// from now on raises the eventfd.
    func loopWillWait() -> Bool {
        state.withLock { state in
            guard state.pending.isEmpty && state.jobs.isEmpty && state.nudged.isEmpty else { return false }
            state.loopAwake = false
            return true
        }
    }

    /// Moves every waiting answer and job into `completions` and `jobs` (empty, their
    /// capacity kept between turns, so the loop allocates no array per batch).
    func take(completions: inout [Completion], jobs: inout [UnownedJob]) {
        state.withLock { state in
            guard !state.closed else { return }
            swap(&state.pending, &completions)
            swap(&state.jobs, &jobs)
        }
    }

    /// Adds the answers posted since the last `take` (by the jobs it handed out, run since) to
    /// `completions`, so that an answer and the job that made it are handled in one round.
    func takeCompletions(appendingTo completions: inout [Completion]) {
        state.withLock { state in
            guard !state.closed, !state.pending.isEmpty else { return }
            if completions.isEmpty {
                swap(&state.pending, &completions)
            } else {
                completions.append(contentsOf: state.pending)
                state.pending.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Called by a body's consumer or producer: the connection with `token` may go on.
    func nudge(_ token: UInt64) {
        let wake = state.withLock { state in
            guard !state.closed else { return false }
            state.nudged.append(token)
            noteUse()
            return Self.mustWake(&state)
        }
        if wake { wakeup.signal() }
    }

    /// The nudged connections, taken by the loop after the answers (`take`).
    func takeNudges() -> [UInt64] {
        state.withLock { state in
            defer { state.nudged.removeAll() }
            return state.nudged
        }
    }

    /// Every waiting answer, the eventfd seen, for callers that run no jobs (tests); jobs stay queued.
    func takeAll() -> [Completion] {
        wakeupSeen()
        return state.withLock { state in
            guard !state.closed else { return [] }
            defer { state.pending.removeAll() }
            return state.pending
        }
    }

    /// Drops what waits and everything queued afterwards; the eventfd closes with the queue.
    func close() {
        state.withLock { state in
            state.closed = true
            state.pending.removeAll()
            state.jobs.removeAll()
            state.nudged.removeAll()
        }
    }

    deinit {
        wakeup.close()
    }
}
