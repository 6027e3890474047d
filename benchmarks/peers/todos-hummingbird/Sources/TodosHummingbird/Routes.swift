// Routes: the todos API on Hummingbird's router, as Examples/todos's TodoRoutes.
import Foundation
import Hummingbird

enum Routes {
    private struct NewTodo: Decodable { var title: String }

    static func router(store: TodoStore) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/todos") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            guard let new = try? JSONDecoder().decode(NewTodo.self, from: Data(body.readableBytesView)) else {
                return text(.badRequest, "expected a JSON object with a \"title\" string\n")
            }
            let todo = try await store.create(title: new.title)
            var response = try json(todo, status: .created)
            response.headers[.location] = "/todos/\(todo.id)"
            return response
        }
        router.get("/todos") { _, _ in try json(try await store.all()) }
        router.get("/todos/:id") { _, context -> Response in
            guard let id = context.parameters.get("id", as: Int64.self), let todo = try await store.find(id) else {
                return text(.notFound, "not found\n")
            }
            return try json(todo)
        }
        router.delete("/todos/:id") { _, context -> Response in
            guard let id = context.parameters.get("id", as: Int64.self), try await store.delete(id) else {
                return text(.notFound, "not found\n")
            }
            return Response(status: .noContent)
        }
        router.get("/slow") { _, _ -> Response in
            try await Task.sleep(for: .milliseconds(50))
            return text(.ok, "slept 50 ms\n")
        }
        router.post("/upload") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            return text(.ok, Digest.sha256Hex([body]) + "\n")
        }
        return router
    }

    private static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
