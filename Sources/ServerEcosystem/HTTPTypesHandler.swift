// HTTPTypesHandler: handlers written against apple/swift-http-types
// (`HTTPRequest`, `HTTPFields`, `HTTPResponse`), served here. They run on the
// async handler path (a task, HandlerShapes), never inline: the conversion
// copies the request's fields into `HTTPFields`, which the zero-allocation
// inline path must not pay for.
import HTTP1
import HTTPTypes
import Server

/// A handler that knows only swift-http-types: a request and its body bytes in, a response and its body out.
public protocol HTTPTypesHandler: Sendable {
    func respond(to request: HTTPRequest, body: [UInt8]) async throws -> (HTTPResponse, [UInt8])
}

/// Serves an `HTTPTypesHandler` as an `AsyncHTTPHandler` (wrap it in `AsyncHandler` to run it as a
/// whole server's handler, or mount it on a route with `RouteHandler.httpTypes`).
public struct HTTPTypesAdapter<Handler: HTTPTypesHandler>: AsyncHTTPHandler {
    public let handler: Handler

    public init(_ handler: Handler) {
        self.handler = handler
    }

    public func respond(to request: OwnedRequest) async throws -> Response {
        let (head, body) = try await handler.respond(to: HTTPRequest(request), body: request.body)
        return Response(head, body: body)
    }
}

/// A closure as an `HTTPTypesHandler`.
struct HTTPTypesClosure: HTTPTypesHandler {
    let body: @Sendable (HTTPRequest, [UInt8]) async throws -> (HTTPResponse, [UInt8])

    func respond(to request: HTTPRequest, body: [UInt8]) async throws -> (HTTPResponse, [UInt8]) {
        try await self.body(request, body)
    }
}

extension RouteHandler {
    /// Answers from a task with a handler written against swift-http-types. The route's path
    /// parameters are not part of `HTTPRequest`: parse them from `request.path` if needed.
    public static func httpTypes(
        _ body: @escaping @Sendable (HTTPRequest, [UInt8]) async throws -> (HTTPResponse, [UInt8])
    ) -> RouteHandler {
        let adapter = HTTPTypesAdapter(HTTPTypesClosure(body: body))
        return .async { try await adapter.respond(to: $0.request) }
    }
}
