// Router: a handler made of routes, each a method and a path pattern
// ("/todos/{id}"), tried in the order declared. A path no route knows goes to
// the fallback (another handler: the built-in routes, a file handler) or gets
// 404; a known path asked with another method gets 405 and the Allow field
// (RFC 9110 §15.5.6). HEAD is answered by a GET route (RFC 9110 §9.3.2), and
// OPTIONS, unless a route takes it, by 204 with Allow (RFC 9110 §9.3.7).
import HTTP1

public struct Router: HTTPHandler {
    private struct Route {
        let method: [UInt8]
        let pattern: RoutePattern
        let handler: RouteHandler
    }

    private var routes: [Route] = []
    private let fallback: (any HTTPHandler)?

    /// - Parameter fallback: answers the paths no route knows; without one they get 404.
    public init(fallback: (any HTTPHandler)? = nil) {
        self.fallback = fallback
    }

    /// Adds a route: requests with `method` (case-sensitive, RFC 9110 §9.1) whose path matches `pattern`.
    public mutating func add(_ method: String, _ pattern: String, _ handler: RouteHandler) {
        routes.append(Route(method: Array(method.utf8), pattern: RoutePattern(pattern), handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: RouteHandler) { add("GET", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: RouteHandler) { add("POST", pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: RouteHandler) { add("PUT", pattern, handler) }
    public mutating func patch(_ pattern: String, _ handler: RouteHandler) { add("PATCH", pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: RouteHandler) { add("DELETE", pattern, handler) }

    public var streamsRequestBodies: Bool {
        routes.contains { $0.handler.maxBodySize != nil } || fallback?.streamsRequestBodies == true
    }

    /// The limit of the route that will answer `request` (found as `route` finds it), or the fallback's.
    public func streamedBodyLimit(for request: Request) -> Int? {
        let path = request.path.bytes
        let method = request.method.bytes
        var known = false
        for route in routes where route.pattern.matches(path) {
            known = true
            if method.elementsEqual(route.method) { return route.handler.maxBodySize }
        }
        return known ? nil : fallback?.streamedBodyLimit(for: request)
    }

    public func respond(to request: Request, with response: inout Response) {
        if route(request, with: &response) { return }
        if let fallback {
            fallback.respond(to: request, with: &response)
        } else {
            response.status = .notFound
            response.body = .text("not found\n")
        }
    }

    /// Answers `request` if a route knows its path (with the route's handler, or 405);
    /// returns false, leaving `response` alone, when none does: for composing routers.
    public func route(_ request: Request, with response: inout Response) -> Bool {
        let path = request.path.bytes
        let method = request.method.bytes
        var pathKnown = false
        var getForHead: Route?
        for route in routes where route.pattern.matches(path) {
            pathKnown = true
            if method.elementsEqual(route.method) {
                run(route, request, path, &response)
                return true
            }
            if getForHead == nil && route.method == Self.get && method.elementsEqual(Self.head) { getForHead = route }
        }
        if let getForHead {
            run(getForHead, request, path, &response)
            return true
        }
        guard pathKnown else { return false }
        if method.elementsEqual(Self.options) {
            response.status = .noContent
            response.addHeader("Allow", allowedMethods(path))
        } else {
            response.status = .methodNotAllowed
            response.body = .text("method not allowed\n")
            response.addHeader("Allow", allowedMethods(path))
        }
        return true
    }

    private static let get = Array("GET".utf8)
    private static let head = Array("HEAD".utf8)
    private static let options = Array("OPTIONS".utf8)

    private func run(_ route: Route, _ request: Request, _ path: UnsafeRawBufferPointer, _ response: inout Response) {
        var parameters = RouteParameters()
        if route.pattern.hasParameters { _ = route.pattern.match(path, capture: true, into: &parameters) }
        route.handler.run(request, parameters, &response)
    }

    /// The value of `Allow` for a 405 or an OPTIONS answer: the methods the path's routes
    /// take (HEAD with GET), in declaration order, then OPTIONS, which every routed path answers.
    private func allowedMethods(_ path: UnsafeRawBufferPointer) -> String {
        var allowed: [String] = []
        for route in routes where route.pattern.matches(path) {
            let method = String(decoding: route.method, as: UTF8.self)
            if !allowed.contains(method) { allowed.append(method) }
            if method == "GET" && !allowed.contains("HEAD") { allowed.append("HEAD") }
        }
        if !allowed.contains("OPTIONS") { allowed.append("OPTIONS") }
        return allowed.joined(separator: ", ")
    }
}
