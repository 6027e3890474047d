// Signals an operator sends by habit (a logrotate's USR1, a HUP, TTIN/TTOU)
// never kill a server, whatever its model: each either acts on them or leaves
// them blocked.
import Glibc
import Server
import TestSupport
import XCTest

final class ModelSignalTests: XCTestCase {
    func testEveryModelSurvivesTheControlSignals() throws {
        for model in ServerModel.allCases {
            let server = try ServerProcess(["--host", "127.0.0.1", "--port", "0", "--model", model.rawValue])
            for signal in [SIGUSR1, SIGHUP, SIGTTIN, SIGTTOU] { kill(server.pid, signal) }
            XCTAssertTrue(ServerProcess.eventually { server.isAtRest() }, "\(model.rawValue): the signals are acted on or left blocked")
            XCTAssertTrue(processExists(server.pid), "\(model.rawValue): the server is still running")
            XCTAssertEqual(try TestClient(port: server.port).get("/").status, 200, "\(model.rawValue): and answering")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0, model.rawValue)
        }
    }
}
