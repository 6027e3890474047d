// The example service (Examples/todos) with the ecosystem integrations: under
// --request-id its handlers log changes with the request's id (the client's
// when valid), the same id ends the access log line; each worker runs its
// TodoCountReport in a ServiceGroup, which reports the count and stops on QUIT.
import Foundation
import Glibc
import TestSupport
import XCTest

extension ExampleServiceTests {
    func testTheServiceLogsWithRequestIDsAndRunsItsCountReportInEachWorker() throws {
        let binary = try buildService()
        let directory = NSTemporaryDirectory() + "todos-eco-\(getpid())-\(Launch.now())"
        XCTAssertEqual(mkdir(directory, 0o700), 0)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/access.log"
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--database", directory + "/todos.sqlite",
                                        "--request-id", "--access-log", log], executable: binary)
        var errors = ""
        XCTAssertTrue(ServerProcess.eventually {
            errors += server.standardError()
            return server.workerPIDs().count == 2
                && server.workerPIDs().allSatisfy { errors.contains("todo count report running in worker \($0)") }
        }, "each worker runs the report: \(errors)")

        let client = try TestClient(port: server.port)
        let body = #"{"title": "water plants"}"#
        try client.send("POST /todos HTTP/1.1\r\nHost: t\r\nX-Request-Id: todo-42\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let created = try client.readResponse()
        XCTAssertEqual(created.status, 201)
        XCTAssertEqual(created.header("X-Request-Id"), "todo-42")
        XCTAssertTrue(ServerProcess.eventually {
            errors += server.standardError()
            return errors.contains("todos stored: 1")
        }, "a worker's report sees the new todo: \(errors)")
        let workers = server.workerPIDs()
        XCTAssertEqual(server.stop(signal: SIGQUIT, timeoutMilliseconds: 20_000).flatMap(exitCode(ofWaitStatus:)), 0)
        errors += server.standardError()
        XCTAssertTrue(errors.contains("request-id=todo-42 [ExampleService] created todo 1"), errors)
        for worker in workers {
            XCTAssertTrue(errors.contains("todo count report stopped in worker \(worker)"), "worker \(worker): \(errors)")
        }
        let line = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertTrue(line.contains("\"POST /todos HTTP/1.1\" 201 ") && line.hasSuffix("\"todo-42\"\n"), line)
    }
}
