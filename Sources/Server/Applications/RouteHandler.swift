// RouteHandler: how a route answers. Inline on the event loop (the zero-copy
// Request, must not block), blocking on the handler pool, or async in a task;
// the last two get a RoutedRequest, the request copied out with its path
// parameters, and may throw (a 500 for the client, the error in the log).
import HTTP1

/// What a route runs; make one with `.inline`, `.blocking` or `.async`.
public struct RouteHandler {
    enum Kind {
        case inline((Request, RouteParameters, inout Response) -> Void)
        case blocking(@Sendable (RoutedRequest) throws -> Response)
        case task(@Sendable (RoutedRequest) async throws -> Response)
    }

    let kind: Kind

    /// Answers on the event loop: fast, never blocking (see `HTTPHandler`).
    public static func inline(_ body: @escaping (Request, RouteParameters, inout Response) -> Void) -> RouteHandler {
        RouteHandler(kind: .inline(body))
    }

    /// Answers from a thread of the worker's handler pool, where it may block (a database call).
    public static func blocking(_ body: @escaping @Sendable (RoutedRequest) throws -> Response) -> RouteHandler {
        RouteHandler(kind: .blocking(body))
    }

    /// Answers from a task, where it may await; cancelled when the client goes away.
    public static func async(_ body: @escaping @Sendable (RoutedRequest) async throws -> Response) -> RouteHandler {
        RouteHandler(kind: .task(body))
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
}
