// TodoRoutes: the service's routes. Database calls and hashing block, so they
// are blocking routes (the worker's handler pool); errors they throw become a
// 500 with the error in the log. Items are written as JSON by the server's
// streaming encoder (ServerJSON), or by Foundation's JSONEncoder under
// --foundation-json (what the Hummingbird twin uses: for comparison). Changes are logged through the request's logger
// (its `request-id` metadata names the request under --request-id).
//   POST /todos {"title": "..."}  201, the stored item (with its id) and Location;
//                                 counted in `todos_created_total` (swift-metrics), which
//                                 /metrics shows for the whole server
//   GET  /todos                   200, every item, by id
//   GET  /todos/{id}              200 and the item, or 404
//   DELETE /todos/{id}            204, or 404
//   GET  /slow                    blocks a pool thread 50 ms, then 200
//   POST /upload                  200, the SHA-256 of the body in lowercase hex (streamed,
//                                 chunked or not, up to 64 GiB)
import CoreMetrics
import Foundation
import Glibc
import Server
import ServerEcosystem
import ServerJSON

struct TodoRoutes {
    let router: Router

    private struct NewTodo: Decodable {
        var title: String
    }

    /// Made in each worker (routes are made after fork), where the server has bootstrapped
    /// its swift-metrics backend: every worker's count lands in one server-wide series.
    init(store: TodoStore?, foundationJSON: Bool = false) {
        let created = Counter(label: "todos_created_total")
        let json = foundationJSON ? Self.foundationJSON : Self.streamingJSON
        var router = Router(fallback: BuiltinRoutes())
        router.post("/todos", .blocking { request in
            guard let store else { return Self.unavailable }
            guard let new = try? JSONDecoder().decode(NewTodo.self, from: Data(request.body)) else {
                return Response(status: .badRequest, body: .text("expected a JSON object with a \"title\" string\n"))
            }
            let todo = try store.create(title: new.title)
            request.logger.info("created todo \(todo.id)")
            var response = try json(todo, .created)
            try response.setHeader(name: "Location", value: "/todos/\(todo.id)")
            created.increment()
            return response
        })
        router.get("/todos", .blocking { _ in
            guard let store else { return Self.unavailable }
            return try json(try store.all(), .ok)
        })
        router.get("/todos/{id}", .blocking { request in
            guard let store else { return Self.unavailable }
            guard let id = request.parameters["id"].flatMap(Int64.init), let todo = try store.find(id) else {
                return Self.notFound
            }
            return try json(todo, .ok)
        })
        router.delete("/todos/{id}", .blocking { request in
            guard let store else { return Self.unavailable }
            guard let id = request.parameters["id"].flatMap(Int64.init), try store.delete(id) else { return Self.notFound }
            request.logger.info("deleted todo \(id)")
            return Response(status: .noContent)
        })
        router.get("/slow", .blocking { _ in
            usleep(50_000)
            return Response(body: .text("slept 50 ms\n"))
        })
        // Streamed: hashed chunk by chunk as it arrives (the socket is read only as fast as the
        // pool thread hashes), so a body of any size costs the worker a bounded amount of memory.
        router.post("/upload", .blocking(maxBodySize: Self.maxUpload) { request in
            var digest = SHA256()
            while let chunk = try request.nextChunk() { chunk.withUnsafeBytes { digest.update($0) } }
            return Response(body: .bytes(Array((digest.finalHex() + "\n").utf8)))
        })
        self.router = router
    }

    /// The most an upload may send: far more than memory, as the body is never held whole.
    static let maxUpload = 64 << 30

    private static let notFound = Response(status: .notFound, body: .text("not found\n"))
    private static let unavailable = Response(status: .serviceUnavailable, body: .text("database unavailable\n"))

    /// A JSON response of an item or a list of them.
    private typealias JSONResponse = @Sendable (_ value: any Encodable, _ status: HTTPStatus) throws -> Response

    private static let streamingJSON: JSONResponse = { value, status in try Response.json(value, status: status) }

    private static let foundationJSON: JSONResponse = { value, status in
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, contentType: "application/json", body: .bytes(Array(try encoder.encode(value))))
    }
}
