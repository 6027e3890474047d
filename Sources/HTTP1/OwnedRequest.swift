// OwnedRequest: a request copied out of the connection's buffer once, so that
// it can outlive the handler call and cross to another thread (deferred work).
// It keeps the request's bytes and parsed head; every accessor builds the same
// zero-copy `Request` view over its own copy.

/// A request that owns its bytes: `Sendable`, and valid for as long as it is kept.
/// A copy costs one retain: the bytes live in one shared, immutable allocation.
public struct OwnedRequest: Sendable {
    // nonisolated(unsafe): the storage is written once, before it is shared, and only read after
    // (ManagedBuffer, which it is, cannot be declared Sendable).
    private nonisolated(unsafe) let storage: OwnedRequestStorage
    /// A streamed body's chunks (a route with a body limit of its own); nil when the body arrived whole.
    package var bodySource: (any RequestBodySource)?

    /// Copies the request line, header block and (decoded) body of `request`.
    package init(_ request: Request) {
        storage = OwnedRequestStorage.copy(of: request)
    }

    /// The zero-copy view of this request, valid inside `body` only.
    public func withRequest<Result>(_ body: (Request) throws -> Result) rethrows -> Result {
        try storage.withRequest(body)
    }

    /// The method token ("GET").
    public var method: String { withRequest { $0.method.string } }
    /// The request-target as sent ("/search?q=1").
    public var target: String { withRequest { $0.target.string } }
    /// The path up to the query ("/search").
    public var path: String { withRequest { $0.path.string } }
    /// The query after "?", nil when there is none.
    public var query: String? { withRequest { $0.query?.string } }
    /// The value of the first field named `name` (lowercase; matching ignores case).
    public func header(_ name: StaticString) -> String? { withRequest { $0.header(name)?.string } }
    /// The client's address as a trusted proxy named it (see `Request.clientAddress`).
    public var clientAddress: String? { withRequest { $0.clientAddress?.string } }
    /// The client's port, when the proxy named one.
    public var clientPort: Int? { withRequest { $0.clientPort } }
    /// The body: Content-Length bytes or the decoded chunks; empty when it is streamed
    /// (`isBodyStreamed`: read it with `bodyChunks` or `nextChunk()`).
    public var body: [UInt8] { withRequest { Array($0.body.bytes) } }
}

