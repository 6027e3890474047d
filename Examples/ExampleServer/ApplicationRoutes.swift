// ApplicationRoutes: the three handler shapes behind one router, for the tests
// and for comparing the paths' costs.
//   GET  /apps/inline, /apps/async, /apps/blocking   answer "inline", "async", "blocking"
//   GET  /apps/sleep/{ms}, /apps/async-sleep/{ms}    block a pool thread / await, then "slept N ms"
//   GET  /apps/items/{id}   an item with a run-time content type and header field
//   POST /apps/echo         the body's length and the X-Request-Id field, looked up ignoring case
//   GET  /apps/fail/{shape} throws (shape "async" or "blocking"): a 500 naming no internals
//   GET  /apps/wait         awaits 60 s; counted in /apps/cancelled when cancelled instead
import Glibc
import Server
import Synchronization

/// Tasks of `/apps/wait` this process saw cancelled.
private let cancelledWaits = Atomic<Int>(0)

/// What `/apps/fail` throws: its text must reach the log and never the client.
struct ExampleFailure: Error, CustomStringConvertible {
    var description: String { "example failure: connection string postgres://secret@db" }
}

struct ApplicationRoutes: ExampleRoute {
    let router: Router = Self.makeRouter()

    func answer(_ request: Request, with response: inout Response) -> Bool {
        router.route(request, with: &response)
    }

    private static func text(_ body: String) -> Response {
        Response(body: .bytes(Array(body.utf8)))
    }

    private static func makeRouter() -> Router {
        var router = Router()
        router.get("/apps/inline", .inline { _, _, response in response.body = .text("inline\n") })
        router.get("/apps/async", .async { _ in Response(body: .text("async\n")) })
        router.get("/apps/blocking", .blocking { _ in Response(body: .text("blocking\n")) })
        router.get("/apps/sleep/{ms}", .blocking { request in
            let milliseconds = min(60_000, Int(request.parameters["ms"] ?? "") ?? 0)
            usleep(useconds_t(milliseconds * 1000))
            return text("slept \(milliseconds) ms\n")
        })
        router.get("/apps/async-sleep/{ms}", .async { request in
            let milliseconds = min(60_000, Int(request.parameters["ms"] ?? "") ?? 0)
            try await Task.sleep(nanoseconds: UInt64(milliseconds) * 1_000_000)
            return text("slept \(milliseconds) ms\n")
        })
        router.get("/apps/items/{id}", .async { request in
            var response = text("item \(request.parameters["id"] ?? "")\n")
            try response.setContentType("application/vnd.example.item+text; charset=utf-8")
            try response.setHeader(name: "X-Item-Id", value: request.parameters["id"] ?? "")
            return response
        })
        router.post("/apps/echo", .blocking { request in
            text("\(request.bodyCount) bytes, request id \(request.header("x-request-id") ?? "none")\n")
        })
        router.get("/apps/fail/async", .async { _ in throw ExampleFailure() })
        router.get("/apps/fail/blocking", .blocking { _ in throw ExampleFailure() })
        router.get("/apps/wait", .async { _ in
            do {
                try await Task.sleep(nanoseconds: 60_000_000_000)
            } catch {
                cancelledWaits.add(1, ordering: .relaxed)
                throw error
            }
            return text("waited\n")
        })
        router.get("/apps/cancelled", .inline { _, _, response in
            response.body = .bytes(Array("\(cancelledWaits.load(ordering: .relaxed))\n".utf8))
        })
        return router
    }
}
