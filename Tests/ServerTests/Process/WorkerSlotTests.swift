// The master's restart policy: at once after a worker that ran, with a doubling
// backoff while workers keep dying at startup.
import XCTest

@testable import Server

final class WorkerSlotTests: XCTestCase {
    func testWorkerThatRanAWhileIsReplacedAtOnce() {
        var slot = WorkerSlot(index: 0)
        slot.started(pid: 10, at: 0)
        XCTAssertEqual(slot.died(at: 60_000), 0)
        XCTAssertNil(slot.pid)
        XCTAssertEqual(slot.respawnAt, 60_000)
    }

    func testWorkersDyingAtStartupBackOffDoublingUpToTenSeconds() {
        var slot = WorkerSlot(index: 0)
        var now = 0
        var delays: [Int] = []
        for pid in 1...12 {
            slot.started(pid: Int32(pid), at: now)
            now += 10  // dies 10 ms after starting
            let delay = slot.died(at: now)
            delays.append(delay)
            now += delay
        }
        XCTAssertEqual(delays, [0, 100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000, 10_000])
    }

    func testOneHealthyRunResetsTheBackoff() {
        var slot = WorkerSlot(index: 0)
        slot.started(pid: 1, at: 0)
        _ = slot.died(at: 10)
        slot.started(pid: 2, at: 20)
        XCTAssertEqual(slot.died(at: 30), 100)
        slot.started(pid: 3, at: 200)
        XCTAssertEqual(slot.died(at: 5_000), 0, "a worker that ran for seconds starts the count again")
    }
}
