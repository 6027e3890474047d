// The core cases in the line protocol, for any model. Every line gets one answer
// line, "pid N" or, in the thread models, "pid N thread T". A line longer than
// --max-request-line (8 KiB by default) is the protocol's malformed request:
// "error 400 line too long", then the connection ends.
import Glibc
import TestSupport
import XCTest

struct LineCases: ProtocolCases {
    static let name = "line"
    static let partialRequest = "half a li"
    let server: ServerProcess
    let model: Model

    init(server: ServerProcess, model: Model) {
        self.server = server
        self.model = model
    }

    private func label(_ what: String) -> String { "\(model.rawValue)/line \(what)" }

    /// "pid 12 thread 34" -> (12, 34); "pid 12" -> (12, nil).
    private func parse(_ answer: String) throws -> (pid: pid_t, thread: pid_t?) {
        let words = answer.split(separator: " ")
        guard words.count >= 2, words[0] == "pid", let pid = pid_t(words[1]) else {
            throw LaunchError(label("unexpected answer '\(answer)'"))
        }
        guard words.count == 4, words[2] == "thread" else { return (pid, nil) }
        return (pid, pid_t(words[3]))
    }

    func oneRequest() throws {
        let client = try TestClient(port: server.port)
        try client.send("hello\n")
        let (pid, thread) = try parse(client.readLine())
        checkServer(pid: pid, thread: thread, on: server, model: model, "one line")
    }

    func keepAlive() throws {
        let client = try TestClient(port: server.port)
        var answers = Set<String>()
        for index in 0..<20 {
            try client.send("line \(index)\n")
            answers.insert(try client.readLine())
        }
        XCTAssertEqual(answers.count, 1, label("one connection, one server: \(answers)"))
        _ = try parse(answers.first ?? "")
    }

    func pipelined() throws {
        let client = try TestClient(port: server.port)
        try client.send((0..<20).map { "line \($0)\n" }.joined())
        let answers = try (0..<20).map { _ in try client.readLine() }
        XCTAssertEqual(Set(answers).count, 1, label("twenty answers from one server: \(answers)"))
        _ = try parse(answers[0])
    }

    func concurrentClients(_ count: Int) throws {
        let clients = try (0..<count).map { _ in try TestClient(port: server.port) }
        for (index, client) in clients.enumerated() { try client.send("client \(index)\n") }
        for client in clients {
            _ = try parse(client.readLine())
            client.shutdownWrite()
        }
    }

    func malformed() throws {
        let client = try TestClient(port: server.port)
        try client.send(String(repeating: "x", count: 9000))
        XCTAssertEqual(try client.readLine(), "error 400 line too long", label("over-long line"))
        XCTAssertTrue(client.serverClosesWhileDraining(), label("the connection ends after the refusal"))
    }
}
