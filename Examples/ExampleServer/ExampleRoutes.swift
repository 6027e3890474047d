// ExampleRoutes: a handler made of routes, each answering the paths it knows;
// the first that answers wins, and the fallback answers the rest.
import Server

/// One route of the example: answers the requests it recognises, and returns
/// false for the others so the next route is asked.
protocol ExampleRoute {
    func answer(_ request: Request, with response: inout Response) -> Bool
    /// For a route whose bodies stream to their handler (see `HTTPHandler.streamedBodyLimit`).
    var streamsRequestBodies: Bool { get }
    func streamedBodyLimit(for request: Request) -> Int?
}

extension ExampleRoute {
    var streamsRequestBodies: Bool { false }
    func streamedBodyLimit(for request: Request) -> Int? { nil }
}

struct ExampleRoutes: HTTPHandler {
    let routes: [any ExampleRoute]
    let fallback: any HTTPHandler

    func respond(to request: Request, with response: inout Response) {
        for route in routes where route.answer(request, with: &response) { return }
        fallback.respond(to: request, with: &response)
    }

    var streamsRequestBodies: Bool { routes.contains { $0.streamsRequestBodies } || fallback.streamsRequestBodies }

    /// The first route that streams this request's body decides its limit.
    func streamedBodyLimit(for request: Request) -> Int? {
        for route in routes where route.streamsRequestBodies {
            if let limit = route.streamedBodyLimit(for: request) { return limit }
        }
        return fallback.streamedBodyLimit(for: request)
    }
}
