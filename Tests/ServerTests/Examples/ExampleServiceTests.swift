// The example service (Examples/todos, its own package) end to end: built with
// SwiftPM as a reader would, started on port 0 with two workers and its database
// in a temporary directory, then its API over sockets: create, list, fetch,
// delete, 404, 400, the blocking /slow route and the upload digest.
import Foundation
import Glibc
import TestSupport
import XCTest

final class ExampleServiceTests: XCTestCase {
    /// The repository root: this file is Tests/ServerTests/Examples/ExampleServiceTests.swift.
    private static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }()

    /// A first debug build (the server's targets again, GRDB, swift-argument-parser) took
    /// about 4 minutes here on 2 busy cores; later ones are incremental.
    private static let buildTimeoutMilliseconds = 20 * 60 * 1000

    /// The binary, built once per test run.
    nonisolated(unsafe) private static var built: String?

    /// Builds `example-service` (once) and returns its path; skips only when there is no `swift` to build with.
    private func buildService() throws -> String {
        if let built = Self.built { return built }
        let package = "\(Self.root)/Examples/todos"
        let log = NSTemporaryDirectory() + "example-service-build-\(getpid()).log"
        defer { unlink(log) }
        let found = try Launch.runToEnd("/bin/sh", ["-c", "command -v swift"])
        guard found.status.flatMap(exitCode(ofWaitStatus:)) == 0 else {
            throw XCTSkip("no `swift` on PATH to build Examples/todos with")
        }
        // Output to a file: a pipe would fill and stall the build before it ends.
        let build = try Launch.runToEnd("/bin/sh", ["-c", "swift build --package-path \"$1\" --product example-service > \"$2\" 2>&1",
                                                    "sh", package, log], timeoutMilliseconds: Self.buildTimeoutMilliseconds)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(build.status.flatMap(exitCode(ofWaitStatus:)), 0, "swift build of Examples/todos:\n\(output.suffix(4000))")
        let binPath = try Launch.runToEnd("/bin/sh", ["-c", "swift build --package-path \"$1\" --show-bin-path", "sh", package],
                                          timeoutMilliseconds: 120_000)
        let binary = binPath.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/example-service"
        if build.status.flatMap(exitCode(ofWaitStatus:)) == 0 { Self.built = binary }
        return binary
    }

    private static func send(_ client: TestClient, _ method: String, _ path: String, body: String? = nil) throws -> TestResponse {
        let framing = body.map { "Content-Type: application/json\r\nContent-Length: \($0.utf8.count)\r\n" } ?? ""
        try client.send("\(method) \(path) HTTP/1.1\r\nHost: t\r\n\(framing)\r\n\(body ?? "")")
        return try client.readResponse()
    }

    private static func json(_ response: TestResponse) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(response.body.utf8))
    }

    func testTheTodosAPIEndToEndOverItsDatabase() throws {
        let binary = try buildService()
        let directory = NSTemporaryDirectory() + "todos-\(getpid())-\(Launch.now())"
        XCTAssertEqual(mkdir(directory, 0o700), 0)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = directory + "/todos.sqlite"
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--database", database], executable: binary)
        let client = try TestClient(port: server.port)

        let created = try Self.send(client, "POST", "/todos", body: #"{"title": "buy milk"}"#)
        XCTAssertEqual(created.status, 201, created.body)
        XCTAssertEqual(created.header("Content-Type"), "application/json")
        let item = try XCTUnwrap(Self.json(created) as? [String: Any], created.body)
        let id = try XCTUnwrap(item["id"] as? Int)
        XCTAssertEqual(item["title"] as? String, "buy milk")
        XCTAssertEqual(created.header("Location"), "/todos/\(id)")
        let second = try Self.send(client, "POST", "/todos", body: #"{"title": "café ☕"}"#)
        XCTAssertEqual(second.status, 201)

        // Each request on a new connection: with two workers, both read the one database file.
        for _ in 0..<4 {
            let list = try TestClient(port: server.port).get("/todos")
            XCTAssertEqual(list.status, 200)
            let items = try XCTUnwrap(Self.json(list) as? [[String: Any]], list.body)
            XCTAssertEqual(items.compactMap { $0["title"] as? String }, ["buy milk", "café ☕"])
        }
        let fetched = try client.get("/todos/\(id)")
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual((Self.json(fetched) as? [String: Any])?["title"] as? String, "buy milk")

        XCTAssertEqual(try Self.send(client, "DELETE", "/todos/\(id)").status, 204)
        XCTAssertEqual(try client.get("/todos/\(id)").status, 404, "deleted")
        XCTAssertEqual(try Self.send(client, "DELETE", "/todos/\(id)").status, 404, "already deleted")
        XCTAssertEqual(try client.get("/todos/999999").status, 404)
        XCTAssertEqual(try client.get("/todos/not-a-number").status, 404)
        XCTAssertEqual(try Self.send(client, "PUT", "/todos/1").status, 405)

        XCTAssertEqual(try Self.send(client, "POST", "/todos", body: #"{"title": "#).status, 400, "malformed JSON")
        XCTAssertEqual(try Self.send(client, "POST", "/todos", body: #"{"name": "x"}"#).status, 400, "no title")
        XCTAssertEqual(try Self.send(client, "POST", "/todos", body: #"{"title": 5}"#).status, 400, "a title that is not a string")

        let slow = try client.get("/slow")
        XCTAssertEqual(slow.status, 200)
        XCTAssertEqual(slow.body, "slept 50 ms\n")

        // FIPS 180-2's example "abc", the empty body, and 512 KiB checked against sha256sum.
        XCTAssertEqual(try Self.send(client, "POST", "/upload", body: "abc").body,
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n")
        XCTAssertEqual(try Self.send(client, "POST", "/upload", body: "").body,
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")
        let large = String((0..<(512 * 1024)).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
        let file = directory + "/upload"
        try large.write(toFile: file, atomically: false, encoding: .utf8)
        let expected = try Launch.runToEnd("/usr/bin/sha256sum", [file]).stdout.prefix(64)
        XCTAssertEqual(try Self.send(client, "POST", "/upload", body: large).body, expected + "\n")

        XCTAssertEqual(try client.get("/health").status, 200, "the built-in routes stay in front")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        XCTAssertEqual(access(database, F_OK), 0, "the database is where --database put it")
    }

    func testTodosCreatedIsOneServerWideCounterThatSurvivesAKilledWorker() throws {
        let binary = try buildService()
        let directory = NSTemporaryDirectory() + "todos-metrics-\(getpid())-\(Launch.now())"
        XCTAssertEqual(mkdir(directory, 0o700), 0)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--reuseport", "--database", directory + "/todos.sqlite"],
                                       executable: binary)
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
        // Twelve connections over two SO_REUSEPORT listeners: both workers take some (all on one: p = 2^-11).
        let clients = try (0..<12).map { _ in try TestClient(port: server.port) }
        for (index, client) in clients.enumerated() {
            XCTAssertEqual(try Self.send(client, "POST", "/todos", body: #"{"title": "item \#(index)"}"#).status, 201)
        }
        XCTAssertEqual(try Self.send(clients[0], "POST", "/todos", body: #"{"name": "x"}"#).status, 400, "not counted")
        let metrics = try PrometheusText(try TestClient(port: server.port).get("/metrics").body)
        XCTAssertEqual(metrics.value("todos_created_total"), 12)
        XCTAssertEqual(metrics.all("prefork_worker_requests_total").filter { $0.value > 0 }.count, 2, "both workers created some")
        let victim = try XCTUnwrap(server.workerPIDs().first)
        kill(victim, SIGKILL)
        XCTAssertTrue(ServerProcess.eventually {
            let workers = server.workerPIDs()
            return workers.count == 2 && !workers.contains(victim)
        }, "the slot is refilled")
        let after = try PrometheusText(try TestClient(port: server.port).get("/metrics").body)
        XCTAssertEqual(after.value("todos_created_total"), 12, "a killed worker's creations still count")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAnUnwritableDatabaseDirectoryIsOneLineAndExit1() throws {
        let binary = try buildService()
        let run = try Launch.runToEnd(binary, ["--port", "0", "--database", "/nonexistent-dir/todos.sqlite"])
        XCTAssertEqual(run.status.flatMap(exitCode(ofWaitStatus:)), 1)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("example-service: --database /nonexistent-dir/todos.sqlite"), run.stderr)
    }
}
