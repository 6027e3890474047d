// Every model, in both protocols, through the core cases: one request,
// keep-alive, pipelining, 16 concurrent clients, a malformed request, and a
// clean stop (exit 0, no process or zombie left) while a client is connected.
import Glibc
import TestSupport
import XCTest

final class ModelCoreTests: XCTestCase {
    func testSerialModelPassesTheCoreCasesInBothProtocols() throws { try checkCoreCases(.serial) }
    func testProcessPerConnectionModelPassesTheCoreCasesInBothProtocols() throws { try checkCoreCases(.processPerConnection) }
    func testThreadPerConnectionModelPassesTheCoreCasesInBothProtocols() throws { try checkCoreCases(.threadPerConnection) }
    func testPreforkModelPassesTheCoreCasesInBothProtocols() throws { try checkCoreCases(.prefork) }
    func testThreadPoolModelPassesTheCoreCasesInBothProtocols() throws { try checkCoreCases(.threadPool) }
    func testReactorModelPassesTheCoreCasesInBothProtocols() throws { try checkCoreCases(.reactor) }
    func testHybridModelPassesTheCoreCasesInBothProtocols() throws { try checkCoreCases(.hybrid) }

    private func checkCoreCases(_ model: Model) throws {
        for wire in [HTTPCases.self, LineCases.self] as [ProtocolCases.Type] {
            let server = try ServerProcess(["--host", "127.0.0.1", "--protocol", wire.name] + model.flags)
            let label = "\(model.rawValue)/\(wire.name)"
            XCTAssertTrue(server.startupLine.contains("(\(model.rawValue)"), "\(label): startup line names the model: \(server.startupLine)")
            XCTAssertTrue(server.startupLine.contains("protocol \(wire.name)"), "\(label): \(server.startupLine)")
            let cases = wire.init(server: server, model: model)
            do {
                try cases.oneRequest()
                try cases.keepAlive()
                try cases.pipelined()
                try cases.concurrentClients(16)
                try cases.malformed()
            } catch {
                XCTFail("\(label): \(error)")
            }
            try checkCleanStop(server, partialRequest: wire.partialRequest, label: label)
        }
    }

    /// Stops the server while a client is half-way through a request (its process or
    /// thread is mid-connection in the blocking models) and checks nothing is left.
    /// The client sends bytes because the listener defers accept until some arrive.
    private func checkCleanStop(_ server: ServerProcess, partialRequest: String, label: String) throws {
        let held = try TestClient(port: server.port)
        try held.send(partialRequest)
        XCTAssertTrue(ServerProcess.eventually { held.serverHasReadEverythingSent() },
                      "\(label): the server has accepted the connection and read the partial request")
        let descendants = server.descendantPIDs()
        let status = server.stop(timeoutMilliseconds: 10_000)
        XCTAssertEqual(status.flatMap(exitCode(ofWaitStatus:)), 0, "\(label): exits 0 on SIGTERM")
        for pid in descendants { XCTAssertFalse(processExists(pid), "\(label): process \(pid) is gone (not even a zombie)") }
        XCTAssertTrue(held.serverClosesWhileDraining(), "\(label): the waiting client sees the connection end")
    }
}

/// One protocol's version of the core cases.
protocol ProtocolCases {
    static var name: String { get }
    /// The start of a request, without its end.
    static var partialRequest: String { get }
    init(server: ServerProcess, model: Model)
    func oneRequest() throws
    func keepAlive() throws
    func pipelined() throws
    func concurrentClients(_ count: Int) throws
    func malformed() throws
}

extension ProtocolCases {
    /// Who may have served: a child of the server, or the server itself (whose thread
    /// must be one of its threads in the thread models).
    /// - Parameter thread: the serving thread the answer named; HTTP answers name none, so it passes nil
    ///   with `namesThread` false.
    func checkServer(pid: pid_t, thread: pid_t?, namesThread: Bool = true, on server: ServerProcess, model: Model,
                     _ what: String) {
        if model.servesInChildren {
            XCTAssertTrue(server.workerPIDs().contains(pid), "\(model.rawValue)/\(Self.name) \(what): \(pid) is a child")
        } else {
            XCTAssertEqual(pid, server.pid, "\(model.rawValue)/\(Self.name) \(what): the server process serves")
        }
        guard namesThread else { return }
        if model.isThreaded {
            let thread = thread ?? -1
            XCTAssertTrue(thread != server.pid && server.threadIDs().contains(thread),
                          "\(model.rawValue)/\(Self.name) \(what): thread \(thread) is a serving thread of the server")
        } else {
            XCTAssertNil(thread, "\(model.rawValue)/\(Self.name) \(what): only thread models name a thread")
        }
    }
}
