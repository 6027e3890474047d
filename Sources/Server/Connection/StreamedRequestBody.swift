// StreamedRequestBody: a request body on its way from the event loop (which
// reads the socket and decodes the framing) to the handler (a task awaiting
// `next()`, or a pool thread blocked in `nextBlocking()`). It holds what the
// handler has not taken yet; past `pauseAt` bytes the loop stops reading the
// socket (the client's TCP window closes: backpressure) and is nudged to read
// again once the handler has brought it down to `resumeAt`.
import HTTP1
import Synchronization

final class StreamedRequestBody: RequestBodySource {
    /// Bytes held for the handler at which the loop stops reading, and at which it reads again.
    static let pauseAt = 128 * 1024
    static let resumeAt = 32 * 1024

    private enum End {
        case finished
        case failed(RequestBodyError)
    }

    private struct State {
        var chunks = ChunkQueue()
        var buffered = 0
        var end: End?
        /// The loop stopped reading and waits for a nudge.
        var readingPaused = false
        var waiter: CheckedContinuation<[UInt8]?, any Error>?
        var blockedWaiter: Semaphore?
    }

    private let state = Mutex(State())
    /// Tells the loop that the handler caught up (CompletionQueue.nudge with the connection's token).
    private let resumeReading: @Sendable () -> Void

    init(resumeReading: @escaping @Sendable () -> Void) {
        self.resumeReading = resumeReading
    }

    // MARK: The loop's side

    /// Hands `chunk` to the handler (the loop gathers what one read decoded into one chunk).
    func append(_ chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        let waiter = state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
            if let waiter = state.waiter.take() { return waiter }
            state.chunks.append(chunk)
            state.buffered += chunk.count
            state.blockedWaiter.take()?.signal()
            return nil
        }
        waiter?.resume(returning: chunk)
    }

    /// Whether the loop must stop reading: the handler is `pauseAt` behind. It is nudged when it may go on.
    func pauseIfBehind() -> Bool {
        state.withLock { state in
            guard state.buffered >= Self.pauseAt else { return false }
            state.readingPaused = true
            return true
        }
    }

    /// The body is complete (`nil`), or cannot be (the handler's next read throws `error`).
    func end(_ error: RequestBodyError?) {
        let waiter = state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = error.map(End.failed) ?? .finished
            if error != nil { state.chunks.removeAll() }
            state.blockedWaiter.take()?.signal()
            return state.waiter.take()
        }
        if let error { waiter?.resume(throwing: error) } else { waiter?.resume(returning: nil) }
    }

    // MARK: The handler's side

    func next() async throws -> [UInt8]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8]?, any Error>) in
                switch take(orWait: continuation) {
                case .chunk(let chunk): continuation.resume(returning: chunk)
                case .failed(let error): continuation.resume(throwing: error)
                case .waiting: break
                }
            }
        } onCancel: {
            state.withLock { $0.waiter.take() }?.resume(throwing: CancellationError())
        }
    }

    func nextBlocking() throws -> [UInt8]? {
        while true {
            let semaphore = Semaphore()
            switch take(orBlockOn: semaphore) {
            case .chunk(let chunk): return chunk
            case .failed(let error): throw error
            case .waiting: semaphore.wait()
            }
        }
    }

    private enum Take {
        case chunk([UInt8]?)
        case failed(any Error)
        case waiting
    }

    private func take(orWait continuation: CheckedContinuation<[UInt8]?, any Error>) -> Take {
        take { state in
            if Task.isCancelled { return .failed(CancellationError()) }
            state.waiter = continuation
            return .waiting
        }
    }

    private func take(orBlockOn semaphore: Semaphore) -> Take {
        take { state in
            state.blockedWaiter = semaphore
            return .waiting
        }
    }

    /// The first chunk, or the end; else `wait` registers the caller. Nudges the loop
    /// when this take brings a paused body down to `resumeAt`.
    private func take(_ wait: (inout State) -> Take) -> Take {
        let (taken, resume) = state.withLock { state -> (Take, Bool) in
            if let chunk = state.chunks.popFirst() {
                state.buffered -= chunk.count
                let resume = state.readingPaused && state.buffered <= Self.resumeAt
                if resume { state.readingPaused = false }
                return (.chunk(chunk), resume)
            }
            switch state.end {
            case .finished?: return (.chunk(nil), false)
            case .failed(let error)?: return (.failed(error), false)
            case nil: return (wait(&state), false)
            }
        }
        if resume { resumeReading() }
        return taken
    }
}
