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

    /// What `match` found for a request.
    private struct RouteMatch {
        /// Some route's pattern matches the path (with any method).
        var pathKnown = false
        /// The route that answers, if any.
        var route: Int?
        /// That route is a GET route answering HEAD.
        var isHeadOnGet = false
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
        let match = self.match(request.method.bytes, request.path.bytes)
        guard match.pathKnown else { return fallback?.streamedBodyLimit(for: request) }
        guard let index = match.route, !match.isHeadOnGet else { return nil }
        return routes[index].handler.maxBodySize
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
        let match = self.match(method, path)
        if let index = match.route {
            run(index, request, path, &response)
            return true
        }
        guard match.pathKnown else { return false }
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

    /// Which route answers `method` on `path`: the first whose method and pattern both match,
    /// else, for HEAD, the first GET route of the path. The routes are walked in place
    /// (a copy of each, as `for route in routes` makes, retains its arrays and closure).
    private func match(_ method: UnsafeRawBufferPointer, _ path: UnsafeRawBufferPointer) -> RouteMatch {
        routes.withUnsafeBufferPointer { routes in
            var match = RouteMatch()
            var getForHead: Int?
            for index in routes.indices where routes[index].pattern.matches(path) {
                match.pathKnown = true
                if method.elementsEqual(routes[index].method) {
                    match.route = index
                    return match
                }
                if getForHead == nil && routes[index].method == Self.get && method.elementsEqual(Self.head) { getForHead = index }
            }
            match.route = getForHead
            match.isHeadOnGet = getForHead != nil
            return match
        }
    }

    private func run(_ index: Int, _ request: Request, _ path: UnsafeRawBufferPointer, _ response: inout Response) {
        routes.withUnsafeBufferPointer { routes in
            var parameters = RouteParameters()
            if routes[index].pattern.hasParameters { _ = routes[index].pattern.match(path, capture: true, into: &parameters) }
            routes[index].handler.run(request, parameters, &response)
        }
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
