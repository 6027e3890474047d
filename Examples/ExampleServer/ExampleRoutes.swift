// ExampleRoutes: a handler made of routes, each answering the paths it knows;
// the first that answers wins, and the fallback answers the rest.
import Server

/// One route of the example: answers the requests it recognises, and returns
/// false for the others so the next route is asked.
protocol ExampleRoute {
    func answer(_ request: Request, with response: inout Response) -> Bool
}

struct ExampleRoutes: HTTPHandler {
    let routes: [any ExampleRoute]
    let fallback: any HTTPHandler

    func respond(to request: Request, with response: inout Response) {
        for route in routes where route.answer(request, with: &response) { return }
        fallback.respond(to: request, with: &response)
    }
}
