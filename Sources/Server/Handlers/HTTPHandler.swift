// The one protocol an embedder implements to serve its own content.
import HTTP1

/// Answers requests. Called on the worker's event loop for every complete
/// request, in the order requests arrive on a connection.
///
/// It is synchronous and must not block: while it runs, no other connection of
/// this worker is served. The `Request` and every `ByteSlice` taken from it
/// point into the connection's buffer and must not be kept after returning.
/// A handler that must block or await answers later instead: it calls
/// `response.deferToPool { }` or `response.deferToTask { }` (see DeferredWork), whose
/// closure gets an owned copy of the request and runs off the event loop.
public protocol HTTPHandler {
    func respond(to request: Request, with response: inout Response)

    /// Whether any request may get its body streamed (`streamedBodyLimit`); read once, when the
    /// worker starts. False (the default) keeps every body whole, and the request cycle as it is.
    var streamsRequestBodies: Bool { get }

    /// For a request whose head has arrived (its body not yet: `request.body` is empty), the
    /// most body bytes it may send if its body is to be streamed to a deferred handler as it
    /// arrives (`OwnedRequest.bodyChunks`), or nil to receive it whole (up to `--max-body-size`).
    /// Asked only when `streamsRequestBodies` is true, and only on the event-loop models.
    func streamedBodyLimit(for request: Request) -> Int?
}

extension HTTPHandler {
    public var streamsRequestBodies: Bool { false }
    public func streamedBodyLimit(for request: Request) -> Int? { nil }
}
