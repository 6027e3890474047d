// todos-hummingbird: Examples/todos's service on Hummingbird 2.
// Usage: TodosHummingbird [--port N] [--database PATH]
//   POST /todos {"title": "..."} -> 201 + item   GET /todos -> list
//   GET /todos/{id} -> item or 404   DELETE /todos/{id} -> 204 or 404
//   GET /slow -> 200 after 50 ms     POST /upload -> SHA-256 of the body (hex)
import Foundation
import Hummingbird

var port = 8084
var databasePath = "todos.sqlite"
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    switch flag {
    case "--port": port = arguments.next().flatMap { Int($0) } ?? port
    case "--database": databasePath = arguments.next() ?? databasePath
    default: FileHandle.standardError.write(Data("unknown flag \(flag)\n".utf8)); exit(2)
    }
}

let router = Routes.router(store: try TodoStore(path: databasePath))
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), backlog: 4096))
try await app.runService()
