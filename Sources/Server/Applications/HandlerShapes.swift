// HandlerShapes: the two handler shapes for application code that does more
// than compute an answer from the request's bytes: an async handler (awaits a
// client, a timer, an async driver) run as a task, and a blocking handler (a
// database call, a blocking library) run on the worker's handler pool. Both
// get the request copied out once (OwnedRequest), both answer through the
// deferred-work seam, so the event loop alone touches sockets and pipelined
// answers keep their order; an error either throws becomes a 500.
import HTTP1

/// A handler that may await. `respond` runs as a task of the worker process, on its event
/// loop's thread. Declared `nonisolated(nonsending)` (SE-0461), an implementation runs there
/// without a hop through the loop's job queue first; one declared without it works the same, a job later.
public protocol AsyncHTTPHandler: Sendable {
    nonisolated(nonsending) func respond(to request: OwnedRequest) async throws -> Response
}

/// A handler that may block its thread. `respond` runs on the worker's handler
/// pool (`--handler-threads` threads), never on the event loop.
public protocol BlockingHTTPHandler: Sendable {
    func respond(to request: OwnedRequest) throws -> Response
}

/// Serves an `AsyncHTTPHandler` as an `HTTPHandler` (what `HTTPServer` runs).
public struct AsyncHandler<Handler: AsyncHTTPHandler>: HTTPHandler {
    public let handler: Handler

    public init(_ handler: Handler) {
        self.handler = handler
    }

    public func respond(to request: Request, with response: inout Response) {
        let handler = handler
        response.answerInTask { try await handler.respond(to: $0) }
    }
}

/// Serves a `BlockingHTTPHandler` as an `HTTPHandler` (what `HTTPServer` runs).
public struct BlockingHandler<Handler: BlockingHTTPHandler>: HTTPHandler {
    public let handler: Handler

    public init(_ handler: Handler) {
        self.handler = handler
    }

    public func respond(to request: Request, with response: inout Response) {
        let handler = handler
        response.answerOnPool { try handler.respond(to: $0) }
    }
}
