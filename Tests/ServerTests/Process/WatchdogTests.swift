// The watchdog judges a worker by whether its heartbeat moves, on the master's
// own clock: the value is the worker's to write, and may be any garbage.
@testable import Server
import XCTest

final class WatchdogTests: XCTestCase {
    func testAHeartbeatThatStopsMovingIsStuckAfterTheTimeoutWhateverItsValue() {
        for value: UInt64 in [0, 1, 1 << 63, 0x8000_0000_0000_0001, .max] {
            var watchdog = Watchdog(timeoutMilliseconds: 1000)
            XCTAssertEqual(watchdog.silence(of: 7, heartbeat: value, now: 5000), 0, "first seen now")
            XCTAssertEqual(watchdog.silence(of: 7, heartbeat: value, now: 5900), 900)
            XCTAssertEqual(watchdog.silence(of: 7, heartbeat: value, now: 6001), 1001, "unmoved for longer than the timeout")
            XCTAssertEqual(watchdog.silence(of: 7, heartbeat: value &+ 1, now: 6002), 0, "a heartbeat that moves is fresh")
        }
    }

    func testAReapedWorkersHeartbeatIsForgotten() {
        var watchdog = Watchdog(timeoutMilliseconds: 1000)
        _ = watchdog.silence(of: 7, heartbeat: 10, now: 0)
        watchdog.killed(7)
        XCTAssertTrue(watchdog.forget(7), "the watchdog's own kill")
        XCTAssertEqual(watchdog.silence(of: 7, heartbeat: 10, now: 5000), 0, "a new process with a reused pid starts afresh")
    }
}
