// The blocking models and the event loop restart deadlines by the same rules
// (TimerRules): a slowloris trickling header lines cannot extend the header
// deadline in any model, against the real binary.
import Glibc
import TestSupport
import XCTest

final class SharedTimerRulesTests: XCTestCase {
    /// One blocking model of each kind (a process, a pool of threads, a thread per
    /// connection) and the reactor: each must answer 408 while the client still trickles.
    func testTricklingHeaderLinesDoNotExtendTheHeaderDeadlineInAnyModel() throws {
        for model in ["serial", "prefork", "thread-pool", "thread-per-connection", "reactor"] {
            let server = try ServerProcess(["--host", "127.0.0.1", "--model", model, "--header-timeout", "0.4"])
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: test\r\n")
            // A line every 200 ms, half the header timeout: a deadline restarted on each
            // byte would never pass, so the answer would only come after the loop's bound.
            var trickled = 0
            while trickled < 10 && !client.isReadable(withinMilliseconds: 200) {
                try? client.send("X-Slow: 1\r\n")
                trickled += 1
            }
            XCTAssertLessThan(trickled, 10, "\(model): answered while the client was still trickling")
            XCTAssertEqual(try client.readResponse().status, 408, model)
        }
    }
}
