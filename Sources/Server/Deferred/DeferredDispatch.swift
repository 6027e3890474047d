// DeferredDispatch: a worker's means of running handler work off its event
// loop: the handler pool's threads for blocking work, Swift concurrency tasks
// run by the loop's own thread for async work (the completion queue is their
// executor), and the completion queue that brings the answers back. One
// per event-loop worker; the blocking models have none and run work inline.
import HTTP1
import Logging
import Synchronization

/// What a connection waits for while its handler's work runs elsewhere: the request's
/// head (to frame the answer) and copy (for the access log), and the task to cancel.
/// It is also what the work runs from, so handing a request off allocates no closure
/// context (a closure capturing one object uses it as its context).
final class HandlerTicket: @unchecked Sendable {
    // @unchecked: the work's thread or task reads only the `let`s; `runner` is the loop's alone.
    let serial: UInt64
    let head: RequestHead
    let request: OwnedRequest
    /// The connection's epoll token when the work was handed out.
    private let token: UInt64
    private let work: DeferredWork
    private let completions: CompletionQueue
    /// The task runner doing `.task` work, cancelled if the connection goes first.
    var runner: TaskRunner?

    init(serial: UInt64, token: UInt64, head: RequestHead, request: OwnedRequest, work: DeferredWork,
         completions: CompletionQueue) {
        self.serial = serial
        self.token = token
        self.head = head
        self.request = request
        self.work = work
        self.completions = completions
    }

    /// Best effort: a task sees it at its next cancellation point; pool work runs to its end.
    func cancel() {
        runner?.cancel(self)
    }

    /// Runs `.pool` work on the calling thread (one of the handler pool's) and posts its answer.
    func answerOnThisThread() {
        guard case .pool(let body) = work else { return }
        post(answer(body, request))
    }

    /// Runs `.task` work and posts its answer. The answer is built and posted in synchronous
    /// calls, on the thread's stack: the task's frames (allocated from its own allocator) then
    /// fit the allocator's first slab, one allocation instead of two per request.
    nonisolated(nonsending) func answerInTask() async {
        guard case .task(let body) = work else { return }
        do {
            post(try await body(request))
        } catch {
            postFailure(error)
        }
    }

    private func post(_ response: consuming Response) {
        completions.post(Completion(token: token, serial: serial, response: response))
    }

    @inline(never)
    private func postFailure(_ error: any Error) {
        post(HandlerFailure.response(for: error, in: request))
    }
}

package final class DeferredDispatch {
    let completions: CompletionQueue
    private let pool: HandlerPool
    /// The tasks that run `.task` work, reused from one request to the next.
    let runners: TaskRunners
    /// The helper threads that read cold file pages ahead of sendfile; nil when `--aio-threads` is 0.
    let diskReads: DiskReads?
    /// Only the loop's thread hands out tickets.
    private var nextSerial: UInt64 = 0

    /// - Parameter processorShare: the pool's threads that run jobs at once (HandlerPool's `limit`).
    init(threads: Int, processorShare: Int = ServerConfiguration.onlineProcessorCount, logger: Logger,
         fileSending: FileSendSettings = FileSendSettings()) throws(SystemError) {
        completions = try CompletionQueue()
        runners = TaskRunners(completions: completions)
        pool = HandlerPool(size: threads, logger: logger, limit: processorShare)
        diskReads = fileSending.aioThreads > 0
            ? DiskReads(threads: fileSending.aioThreads, readAheadBytes: fileSending.readAheadBytes, logger: logger) : nil
    }

    /// Starts `work` on `request` for the connection with epoll token `token`. Must be called on the loop's thread.
    func start(_ work: DeferredWork, request: OwnedRequest, head: RequestHead, token: UInt64) -> HandlerTicket {
        nextSerial &+= 1
        let ticket = HandlerTicket(serial: nextSerial, token: token, head: head, request: request, work: work,
                                   completions: completions)
        switch work {
        case .pool:
            pool.submit { ticket.answerOnThisThread() }
        case .task:
            // On this worker's loop thread, in this turn: at once in a new runner, or as a parked runner's
            // job (CompletionQueue+TaskExecutor). Its answer is delivered after this turn's events.
            runners.run(ticket)
        }
        return ticket
    }

    /// Reads `count` bytes of `region` from `offset` into the page cache on a helper thread
    /// for the connection with epoll token `token`; returns the serial its completion carries.
    func startReadAhead(of region: FileRegion, at offset: Int, count: Int, token: UInt64) -> UInt64? {
        guard let diskReads else { return nil }
        nextSerial &+= 1
        let serial = nextSerial
        let completions = completions
        diskReads.readAhead(region, at: offset, count: count) { loaded in
            completions.post(Completion(token: token, serial: serial, response: Response(), readAhead: loaded))
        }
        return serial
    }

    /// Reads `count` bytes of `region` from `offset` into the page cache on a helper thread, with no
    /// completion: a read ahead of what the connection sends, which it will find cached (or in flight).
    func prefetch(_ region: FileRegion, at offset: Int, count: Int) {
        diskReads?.readAhead(region, at: offset, count: count, then: nil)
    }

    func close() {
        // The parked runners' tasks end (their jobs are run once here), so none is left suspended.
        runners.close()
        completions.runQueuedJobs()
        completions.close()
    }
}

/// The answer of blocking work: its own, or the 500 for the error it threw.
private func answer(_ body: (OwnedRequest) throws -> Response, _ request: OwnedRequest) -> Response {
    do {
        return try body(request)
    } catch {
        return HandlerFailure.response(for: error, in: request)
    }
}

extension DeferredWork {
    /// Runs the work on the calling thread and returns its answer: how the blocking
    /// models (serial, thread per connection, prefork, ...) serve it. Their thread or
    /// process is the connection's own, so blocking it is what they do anyway.
    func runInline(_ request: OwnedRequest) -> Response {
        switch self {
        case .pool(let body):
            return answer(body, request)
        case .task(let body):
            let done = Semaphore()
            let result = Mutex<Response?>(nil)
            Task.detached {
                let response: Response
                do {
                    response = try await body(request)
                } catch {
                    response = HandlerFailure.response(for: error, in: request)
                }
                result.withLock { $0 = response }
                done.signal()
            }
            done.wait()
            return result.withLock { $0 } ?? Response(status: .internalServerError)
        }
    }
}
