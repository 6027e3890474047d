// RequestBodyChunks: how a handler that outlives the event loop's call reads a
// request body that is streamed to it (a route with a body limit of its own,
// RouteHandler's maxBodySize): chunk by chunk as the bytes arrive, as an async
// sequence in a task or by `nextChunk()` on a pool thread. The connection reads
// the socket only while the consumer keeps up (see StreamedRequestBody in Server).
// A body that arrived whole reads the same way: one chunk, then the end.

/// The server's side of a streamed body: where its chunks come from.
package protocol RequestBodySource: AnyObject, Sendable {
    /// The next chunk, nil at the end; throws `RequestBodyError`, or `CancellationError` when the task is cancelled.
    func next() async throws -> [UInt8]?
    /// The same, waiting on the calling thread (a handler-pool thread).
    func nextBlocking() throws -> [UInt8]?
}

/// Why a streamed body cannot be read to its end.
public enum RequestBodyError: Error, Equatable, Sendable {
    /// The client went away, or its framing broke, before the body's end.
    case incomplete
    /// The body outgrew the route's limit (the client got 413).
    case tooLarge
}

/// A request body as an async sequence of byte chunks (of at most 64 KiB each).
public struct RequestBodyChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let source: (any RequestBodySource)?
    /// A body that arrived whole: its one chunk.
    let whole: [UInt8]

    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: (any RequestBodySource)?
        var whole: [UInt8]?

        public mutating func next() async throws -> [UInt8]? {
            if let source { return try await source.next() }
            defer { whole = nil }
            return whole.flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: source, whole: whole)
    }
}

extension OwnedRequest {
    /// Whether the body is streamed (read it with `bodyChunks` or `nextChunk()`; `body` is empty).
    public var isBodyStreamed: Bool { bodySource != nil }

    /// The body's chunks as they arrive; a body that arrived whole is one chunk. Read it once.
    public var bodyChunks: RequestBodyChunks {
        RequestBodyChunks(source: bodySource, whole: bodySource == nil ? body : [])
    }

    /// The next chunk of a streamed body, waiting on this thread until it arrives; nil at the
    /// end, and always nil when the body arrived whole (it is in `body`).
    public func nextChunk() throws -> [UInt8]? {
        try bodySource?.nextBlocking()
    }
}
