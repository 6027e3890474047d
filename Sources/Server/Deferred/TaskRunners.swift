// TaskRunners: the Swift concurrency tasks that run a worker's async handlers,
// kept between requests. A runner answers one request, then parks (suspended on
// a continuation) until the loop hands it the next, instead of ending: a request
// then costs a continuation resume and one job run by the loop, not a task's
// life (its allocation and its allocator's first slab, two closure contexts for
// the operation, the executor-preference record added and dropped under the
// task's status lock). A runner is made when none is parked (the first request,
// or more handlers awaiting at once than runners exist) and ends when it was
// cancelled (its client went away mid-handler: a cancelled task stays
// cancelled) or when enough others are parked already. A parked runner holds
// no request, but its task keeps the frame memory its deepest handler needed
// (the task allocator frees its slabs only with the task): at most
// `parkedLimit` of them per worker.
//
// Everything here runs on the loop's thread: the runners prefer the worker's
// completion queue as their executor (CompletionQueue+TaskExecutor), so their
// code between two awaits runs there, as does the loop's own. A handler that
// hops elsewhere (another actor) comes back before its runner touches this.

/// Hands tickets of `.task` work to runners. One per event-loop worker (DeferredDispatch).
final class TaskRunners: @unchecked Sendable {
    // @unchecked: only the loop's thread touches it (see the file's header).
    private let completions: CompletionQueue
    private var parked: [TaskRunner] = []
    /// Runners kept parked at most; one more ends instead of parking (its memory returns).
    let parkedLimit: Int
    /// Set by `close`: runners end instead of parking.
    private var closed = false

    init(completions: CompletionQueue, parkedLimit: Int = 64) {
        self.completions = completions
        self.parkedLimit = parkedLimit
    }

    /// Runners parked now (tests).
    var parkedCount: Int { parked.count }

    /// Starts `ticket`'s work: a parked runner resumes with it (its job runs when the loop next runs
    /// the queue's jobs, later in this turn), or a new runner runs it at once, up to its first await.
    func run(_ ticket: HandlerTicket) {
        if let runner = parked.popLast() {
            runner.resume(with: ticket)
            return
        }
        let runner = TaskRunner(runners: self)
        runner.take(ticket)
        // The closure captures the runner only: a ticket it captured would live as long as the task.
        runner.task = Task.immediate(executorPreference: completions) { await runner.serve() }
    }

    /// Whether `runner` (between two requests, not cancelled) may park; if so it is parked.
    fileprivate func park(_ runner: TaskRunner, _ continuation: UnsafeContinuation<Bool, Never>) -> Bool {
        guard !closed && parked.count < parkedLimit else { return false }
        runner.continuation = continuation
        parked.append(runner)
        return true
    }

    /// The worker is stopping: parked runners are resumed to end (DeferredDispatch.close runs their jobs).
    func close() {
        closed = true
        for runner in parked { runner.resume(with: nil) }
        parked.removeAll()
    }
}

/// One reusable task and what it is doing.
final class TaskRunner: @unchecked Sendable {
    // @unchecked: touched on the loop's thread only (TaskRunners).
    /// Strong: a runner whose handler awaits past the worker's `close` still parks (and is refused) there.
    private let runners: TaskRunners
    /// The task, for cancelling it: set right after it first runs, before any cancel can come.
    var task: Task<Void, Never>?
    /// The ticket whose work runs now; nil while parked, so a parked runner holds no request.
    private(set) var current: HandlerTicket?
    /// Set while parked: resumed with true when `current` holds the next ticket, false to end.
    fileprivate var continuation: UnsafeContinuation<Bool, Never>?

    fileprivate init(runners: TaskRunners) {
        self.runners = runners
    }

    /// Makes `ticket` the one this runner works for.
    fileprivate func take(_ ticket: HandlerTicket) {
        current = ticket
        ticket.runner = self
    }

    /// The task's whole life: the ticket it was made for, then one per resume until told to end.
    nonisolated(nonsending) func serve() async {
        while true {
            await answerCurrent()
            current = nil
            guard !Task.isCancelled, await park() else { return }
        }
    }

    /// Answers `current`; the local reference to it ends here, with the call.
    nonisolated(nonsending) private func answerCurrent() async {
        guard let ticket = current else { return }
        await ticket.answerInTask()
    }

    nonisolated(nonsending) private func park() async -> Bool {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Bool, Never>) in
            if !runners.park(self, continuation) { continuation.resume(returning: false) }
        }
    }

    /// Called by TaskRunners, for a parked runner only: the next ticket, or nil to end.
    fileprivate func resume(with ticket: HandlerTicket?) {
        guard let continuation = continuation.take() else { preconditionFailure("a task runner resumed while not parked") }
        if let ticket { take(ticket) }
        continuation.resume(returning: ticket != nil)
    }

    /// Cancels the task if it is still working for `ticket` (a parked or reassigned runner is left alone).
    func cancel(_ ticket: HandlerTicket) {
        guard current === ticket else { return }
        task?.cancel()
    }
}
