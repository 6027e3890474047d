// ThrowingWork: deferred work that may throw. The error is logged with the
// request's method and path, and the client gets a plain 500 that names no
// internals (RFC 9110 §15.6.1): what failed is for the operator, not the client.
import HTTP1
import Logging

extension Response {
    /// Answers later from `work`, run as a Swift concurrency task where it may await; an error
    /// it throws becomes a 500. The task is cancelled when the client goes away meanwhile.
    public mutating func answerInTask(_ work: nonisolated(nonsending) @escaping @Sendable (OwnedRequest) async throws -> Response) {
        deferToTask(work)
    }

    /// Answers later from `work`, run on a thread of the worker's handler pool
    /// (`--handler-threads`) where it may block; an error it throws becomes a 500.
    public mutating func answerOnPool(_ work: @escaping @Sendable (OwnedRequest) throws -> Response) {
        deferToPool(work)
    }
}

/// The answer to a handler that threw (DeferredDispatch catches the error).
package enum HandlerFailure {
    private static let logger = Logger(label: "handler")

    /// Logs `error` and answers 500 with the reason phrase only. A handler that gave up because its
    /// client did (a body cut short, one past the route's limit, the task cancelled on disconnect)
    /// failed for the client's reasons, not the server's, and the client already has its answer or
    /// is gone: that is logged at debug level, so no client can write an error line per connection.
    package static func response(for error: any Error, in request: OwnedRequest) -> Response {
        if error is RequestBodyError || error is CancellationError {
            logger.debug("handler stopped: \(request.method) \(request.path): \(error)")
        } else {
            logger.error("handler failed: \(request.method) \(request.path): \(error)")
        }
        return Response(status: .internalServerError, body: .text("internal server error\n"))
    }
}
