// TodoRoutes: the service's routes. Database calls and hashing block, so they
// are blocking routes (the worker's handler pool); errors they throw become a
// 500 with the error in the log.
//   POST /todos {"title": "..."}  201, the stored item (with its id) and Location;
//                                 counted in `todos_created_total` (swift-metrics), which
//                                 /metrics shows for the whole server
//   GET  /todos                   200, every item, by id
//   GET  /todos/{id}              200 and the item, or 404
//   DELETE /todos/{id}            204, or 404
//   GET  /slow                    blocks a pool thread 50 ms, then 200
//   POST /upload                  200, the SHA-256 of the body in lowercase hex (whole
//                                 body, up to --max-body-size; streaming bodies is to come)
import CoreMetrics
import Foundation
import Glibc
import Server

struct TodoRoutes {
    let router: Router

    private static let json = MediaType("application/json")!

    private struct NewTodo: Decodable {
        var title: String
    }

    /// Made in each worker (routes are made after fork), where the server has bootstrapped
    /// its swift-metrics backend: every worker's count lands in one server-wide series.
    init(store: TodoStore?) {
        let created = Counter(label: "todos_created_total")
        var router = Router(fallback: BuiltinRoutes())
        router.post("/todos", .blocking { request in
            guard let store else { return Self.unavailable }
            guard let new = try? JSONDecoder().decode(NewTodo.self, from: Data(request.body)) else {
                return Response(status: .badRequest, body: .text("expected a JSON object with a \"title\" string\n"))
            }
            let todo = try store.create(title: new.title)
            var response = try Self.json(todo, status: .created)
            try response.setHeader(name: "Location", value: "/todos/\(todo.id)")
            created.increment()
            return response
        })
        router.get("/todos", .blocking { _ in
            guard let store else { return Self.unavailable }
            return try Self.json(try store.all())
        })
        router.get("/todos/{id}", .blocking { request in
            guard let store else { return Self.unavailable }
            guard let id = request.parameters["id"].flatMap(Int64.init), let todo = try store.find(id) else {
                return Self.notFound
            }
            return try Self.json(todo)
        })
        router.delete("/todos/{id}", .blocking { request in
            guard let store else { return Self.unavailable }
            guard let id = request.parameters["id"].flatMap(Int64.init), try store.delete(id) else { return Self.notFound }
            return Response(status: .noContent)
        })
        router.get("/slow", .blocking { _ in
            usleep(50_000)
            return Response(body: .text("slept 50 ms\n"))
        })
        router.post("/upload", .blocking { request in
            Response(body: .bytes(Array((request.request.withBody(Digest.sha256Hex) + "\n").utf8)))
        })
        self.router = router
    }

    private static let notFound = Response(status: .notFound, body: .text("not found\n"))
    private static let unavailable = Response(status: .serviceUnavailable, body: .text("database unavailable\n"))

    private static func json(_ value: some Encodable, status: HTTPStatus = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var response = Response(status: status, body: .bytes(Array(try encoder.encode(value))))
        response.mediaType = json
        return response
    }
}
