// TaskRunners: the Swift concurrency tasks that run a worker's async handlers,
// kept between requests. A runner answers one request, then parks (suspended on
// a continuation) until the loop hands it the next, instead of ending: a request
// then costs a continuation resume and one job run by the loop, not a task's
// life (its allocation and its allocator's first slab, two closure contexts for
// the operation, the executor-preference record added and dropped under the
// task's status lock). A runner is made when none is parked (the first request,
// or more handlers awaiting at once than runners exist) and ends when it was
// cancelled (its client went away mid-handler: a cancelled task stays
// cancelled) or when enough others are parked already.
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
        runner.current = ticket
        ticket.runner = runner
        runner.task = Task.immediate(executorPreference: completions) { await runner.serve(ticket) }
    }

    /// Whether `runner` (between two requests, not cancelled) may park; if so it is parked.
    fileprivate func park(_ runner: TaskRunner, _ continuation: UnsafeContinuation<HandlerTicket?, Never>) -> Bool {
        guard !closed && parked.count < parkedLimit else { return false }
        runner.continuation = continuation
        parked.append(runner)
        return true
    }

    /// The worker is stopping: parked runners are resumed to end (if the loop still runs their jobs).
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
    /// The ticket whose work runs now; nil while parked.
    var current: HandlerTicket?
    /// Set while parked: resumed with the next ticket, or nil to end.
    fileprivate var continuation: UnsafeContinuation<HandlerTicket?, Never>?

    fileprivate init(runners: TaskRunners) {
        self.runners = runners
    }

    /// The task's whole life: the first ticket, then one per resume until told to end.
    nonisolated(nonsending) func serve(_ first: HandlerTicket) async {
        var ticket = first
        while true {
            // Consumed: the request (its body too) is not held while the runner is parked.
            await answer(consume ticket)
            current = nil
            guard !Task.isCancelled, let next = await park() else { return }
            ticket = next
        }
    }

    nonisolated(nonsending) private func answer(_ ticket: consuming HandlerTicket) async {
        await ticket.answerInTask()
    }

    nonisolated(nonsending) private func park() async -> HandlerTicket? {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<HandlerTicket?, Never>) in
            if !runners.park(self, continuation) { continuation.resume(returning: nil) }
        }
    }

    /// Called by TaskRunners with the next ticket (nil: end).
    fileprivate func resume(with ticket: HandlerTicket?) {
        guard let continuation = continuation.take() else { return }
        if let ticket {
            current = ticket
            ticket.runner = self
        }
        continuation.resume(returning: ticket)
    }

    /// Cancels the task if it is still working for `ticket` (a parked or reassigned runner is left alone).
    func cancel(_ ticket: HandlerTicket) {
        guard current === ticket else { return }
        task?.cancel()
    }
}
