// RouteHandler: how a route answers. Inline on the event loop (the zero-copy
// Request, must not block), blocking on the handler pool, or async in a task;
// the last two get a RoutedRequest, the request copied out with its path
// parameters, and may throw (a 500 for the client, the error in the log).
import HTTP1

/// What a route runs; make one with `.inline`, `.blocking` or `.async`.
public struct RouteHandler {
    /// An async route's body; see `DeferredWork.TaskBody` for why it is `nonisolated(nonsending)`.
    typealias RoutedTaskBody = nonisolated(nonsending) @Sendable (RoutedRequest) async throws -> Response

    enum Kind {
        case inline((Request, RouteParameters, inout Response) -> Void)
        case blocking(@Sendable (RoutedRequest) throws -> Response)
        case task(RoutedTaskBody)
    }

    let kind: Kind
    /// The most body bytes the route accepts, streamed to its handler as they arrive; nil when
    /// the body arrives whole (up to `--max-body-size`).
    let maxBodySize: Int?

    init(kind: Kind, maxBodySize: Int? = nil) {
        self.kind = kind
        self.maxBodySize = maxBodySize
    }

    /// Answers on the event loop: fast, never blocking (see `HTTPHandler`).
    public static func inline(_ body: @escaping (Request, RouteParameters, inout Response) -> Void) -> RouteHandler {
        RouteHandler(kind: .inline(body))
    }

    /// Answers from a thread of the worker's handler pool, where it may block (a database call).
    public static func blocking(_ body: @escaping @Sendable (RoutedRequest) throws -> Response) -> RouteHandler {
        RouteHandler(kind: .blocking(body))
    }

    /// Answers from a task, where it may await; cancelled when the client goes away.
    public static func async(_ body: nonisolated(nonsending) @escaping @Sendable (RoutedRequest) async throws -> Response) -> RouteHandler {
        RouteHandler(kind: .task(body))
    }

    /// Answers from a pool thread that reads the body as it arrives (`request.nextChunk()`),
    /// at most `maxBodySize` bytes of it (more gets 413). The socket is read only while the
    /// handler keeps up. On the blocking models the body arrives whole, within `--max-body-size`.
    public static func blocking(maxBodySize: Int,
                                _ body: @escaping @Sendable (RoutedRequest) throws -> Response) -> RouteHandler {
        precondition(maxBodySize >= 0, "a body limit is non-negative")
        return RouteHandler(kind: .blocking(body), maxBodySize: maxBodySize)
    }

    /// Answers from a task that reads the body as it arrives (`for try await chunk in request.bodyChunks`),
    /// at most `maxBodySize` bytes of it (more gets 413, and the task's next read throws). The socket is
    /// read only while the task keeps up. On the blocking models the body arrives whole, within `--max-body-size`.
    public static func async(maxBodySize: Int,
                             _ body: nonisolated(nonsending) @escaping @Sendable (RoutedRequest) async throws -> Response) -> RouteHandler {
        precondition(maxBodySize >= 0, "a body limit is non-negative")
        return RouteHandler(kind: .task(body), maxBodySize: maxBodySize)
    }

    /// Runs the handler for `request`, whose path captured `parameters`.
    func run(_ request: Request, _ parameters: RouteParameters, _ response: inout Response) {
        switch kind {
        case .inline(let body):
            body(request, parameters, &response)
        case .blocking(let body):
            response.answerOnPool { try body(RoutedRequest(request: $0, parameters: parameters)) }
        case .task(let body):
            response.answerInTask { try await body(RoutedRequest(request: $0, parameters: parameters)) }
        }
    }
}

/// An owned request with the parameters its route's pattern captured: `request.parameters["id"]`,
/// and every `OwnedRequest` property (`request.method`, `request.body`, ...) directly.
@dynamicMemberLookup
public struct RoutedRequest: Sendable {
    public let request: OwnedRequest
    public let parameters: RouteParameters

    public init(request: OwnedRequest, parameters: RouteParameters) {
        self.request = request
        self.parameters = parameters
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<OwnedRequest, Value>) -> Value {
        request[keyPath: keyPath]
    }

    /// The value of the first header field named `name`, ignoring case.
    public func header(_ name: String) -> String? {
        request.header(named: name)
    }

    /// The next chunk of a streamed body, waiting for it (see `OwnedRequest.nextChunk()`).
    public func nextChunk() throws -> [UInt8]? {
        try request.nextChunk()
    }
}
