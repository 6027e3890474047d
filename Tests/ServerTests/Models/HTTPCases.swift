// The core cases in HTTP, for any model.
import Glibc
import TestSupport
import XCTest

struct HTTPCases: ProtocolCases {
    static let name = "http"
    static let partialRequest = "GET / HTTP/1.1\r\nHost: te"
    let server: ServerProcess
    let model: Model

    init(server: ServerProcess, model: Model) {
        self.server = server
        self.model = model
    }

    private func label(_ what: String) -> String { "\(model.rawValue)/http \(what)" }

    func oneRequest() throws {
        let client = try TestClient(port: server.port)
        let response = try client.get("/")
        XCTAssertEqual(response.status, 200, label("one request"))
        checkServer(pid: try XCTUnwrap(response.servedBy, label("body \(response.body)")), thread: nil,
                    namesThread: false, on: server, model: model, "one request")
    }

    func keepAlive() throws {
        let client = try TestClient(port: server.port)
        var pids = Set<pid_t>()
        for _ in 0..<20 {
            let response = try client.get("/")
            XCTAssertEqual(response.status, 200, label("keep-alive"))
            XCTAssertNil(response.header("Connection"), label("keep-alive persists"))
            pids.insert(response.servedBy ?? -1)
        }
        XCTAssertEqual(pids.count, 1, label("one connection, one server: \(pids)"))
    }

    func pipelined() throws {
        let client = try TestClient(port: server.port)
        let paths = (0..<20).map { $0 % 2 == 0 ? "/health" : "/missing-\($0)" }
        try client.send(paths.map { "GET \($0) HTTP/1.1\r\nHost: test\r\n\r\n" }.joined())
        for (index, path) in paths.enumerated() {
            XCTAssertEqual(try client.readResponse().status, index % 2 == 0 ? 200 : 404, label("pipelined \(path)"))
        }
    }

    /// All clients connect and send before any reads, then each reads and leaves in
    /// turn: a serial server finishes one before it takes the next.
    func concurrentClients(_ count: Int) throws {
        let clients = try (0..<count).map { _ in try TestClient(port: server.port) }
        for client in clients { try client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n") }
        for (index, client) in clients.enumerated() {
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, label("client \(index) of \(count)"))
            XCTAssertNotNil(response.servedBy, label("client \(index) of \(count)"))
            client.shutdownWrite()
        }
    }

    func malformed() throws {
        let client = try TestClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: test\r\nNo colon here\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 400, label("malformed"))
        XCTAssertEqual(response.header("Connection"), "close", label("malformed closes"))
        XCTAssertTrue(client.readsEndOfStream(), label("the connection ends after 400"))
    }
}
