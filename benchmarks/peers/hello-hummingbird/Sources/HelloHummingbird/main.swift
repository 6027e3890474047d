// GET / answers "pid N\n", the same small body as the project's own server,
// so the harness compares servers, not payloads. Usage: HelloHummingbird PORT
import Foundation
import Hummingbird

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8083 : 8083
let body = "pid \(ProcessInfo.processInfo.processIdentifier)\n"

let router = Router()
router.get("/") { _, _ in body }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), backlog: 4096))
try await app.runService()
