// DeferredWork: where a handler's answer is produced when it is not produced
// inline on the event loop. A handler that would block (a slow computation, a
// blocking library) or await (an async API) fills in its response with one of
// the two `Response` methods below; the server copies the request out once and
// answers the connection when the work returns, keeping pipelined responses in order.

/// Work that answers a request later, off the event loop. An error it throws is
/// logged by the server, and the client gets a plain 500 that names none of it.
/// (Throwing in the type itself, rather than a wrapper that catches, saves a closure
/// context per request.)
public enum DeferredWork: Sendable {
    /// An async handler's body. `nonisolated(nonsending)` (SE-0461): it runs on its caller's
    /// executor, the worker's loop (CompletionQueue+TaskExecutor), without hopping to it through a queued job first.
    public typealias TaskBody = nonisolated(nonsending) @Sendable (OwnedRequest) async throws -> Response

    /// Runs on one of the worker's handler threads (pthreads): it may block.
    case pool(@Sendable (OwnedRequest) throws -> Response)
    /// Runs as a Swift concurrency task: it may await.
    case task(TaskBody)
}

extension Response {
    /// Answers this request later, from `work` run on a thread of the worker's
    /// handler pool (`--handler-threads`), where it may block. What else the
    /// handler set on this response is ignored: `work`'s response is sent.
    ///
    /// Two names rather than one overloaded `defer(to:)`: a synchronous and an
    /// `async` closure literal would otherwise be told apart only by inference.
    public mutating func deferToPool(_ work: @escaping @Sendable (OwnedRequest) throws -> Response) {
        deferred = .pool(work)
    }

    /// Answers this request later, from `work` run as a Swift concurrency task,
    /// where it may await. Cancelled (best effort) when the client goes away.
    public mutating func deferToTask(_ work: nonisolated(nonsending) @escaping @Sendable (OwnedRequest) async throws -> Response) {
        deferred = .task(work)
    }
}
