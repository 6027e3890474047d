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
final class HandlerTicket {
    let serial: UInt64
    let head: RequestHead
    let request: OwnedRequest
    /// The task doing `.task` work, cancelled if the connection goes first.
    var task: Task<Void, Never>?

    init(serial: UInt64, head: RequestHead, request: OwnedRequest) {
        self.serial = serial
        self.head = head
        self.request = request
    }

    /// Best effort: a task sees it at its next cancellation point; pool work runs to its end.
    func cancel() {
        task?.cancel()
    }
}

package final class DeferredDispatch {
    let completions: CompletionQueue
    private let pool: HandlerPool
    /// The helper threads that read cold file pages ahead of sendfile; nil when `--aio-threads` is 0.
    let diskReads: DiskReads?
    /// Only the loop's thread hands out tickets.
    private var nextSerial: UInt64 = 0

    init(threads: Int, logger: Logger, fileSending: FileSendSettings = FileSendSettings()) throws(SystemError) {
        completions = try CompletionQueue()
        pool = HandlerPool(size: threads, logger: logger)
        diskReads = fileSending.aioThreads > 0
            ? DiskReads(threads: fileSending.aioThreads, readAheadBytes: fileSending.readAheadBytes, logger: logger) : nil
    }

    /// Starts `work` on `request` for the connection with epoll token `token`.
    func start(_ work: DeferredWork, request: OwnedRequest, head: RequestHead, token: UInt64) -> HandlerTicket {
        nextSerial &+= 1
        let ticket = HandlerTicket(serial: nextSerial, head: head, request: request)
        let serial = nextSerial
        let completions = completions
        switch work {
        case .pool(let body):
            pool.submit { completions.post(Completion(token: token, serial: serial, response: body(request))) }
        case .task(let body):
            // Runs on this worker's loop thread, between epoll turns (CompletionQueue+TaskExecutor).
            ticket.task = Task(executorPreference: completions) {
                let response = await body(request)
                completions.post(Completion(token: token, serial: serial, response: response))
            }
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

    func close() {
        completions.close()
    }
}

extension DeferredWork {
    /// Runs the work on the calling thread and returns its answer: how the blocking
    /// models (serial, thread per connection, prefork, ...) serve it. Their thread or
    /// process is the connection's own, so blocking it is what they do anyway.
    func runInline(_ request: OwnedRequest) -> Response {
        switch self {
        case .pool(let body):
            return body(request)
        case .task(let body):
            let done = Semaphore()
            let result = Mutex<Response?>(nil)
            Task.detached {
                let response = await body(request)
                result.withLock { $0 = response }
                done.signal()
            }
            done.wait()
            return result.withLock { $0 } ?? Response(status: .internalServerError)
        }
    }
}
