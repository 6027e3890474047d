// The scoreboard: records shared across fork, retired totals, and the accept balance it feeds.
import Glibc
@testable import Server
import XCTest

final class ScoreboardTests: XCTestCase {
    func testAWorkersCountsAreVisibleToTheMasterAcrossFork() throws {
        let scoreboard = try Scoreboard()
        let index = try XCTUnwrap(scoreboard.claimRecord(slot: 0))
        let pid = fork()
        if pid == 0 {
            let record = scoreboard.worker(index)
            record.add(.requests, 41)
            record.add(.requests)
            _exit(0)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(scoreboard.worker(index)[.requests], 42)
    }

    func testClaimedRecordsAreFreshAndRetiredCountsJoinTheTotals() throws {
        let scoreboard = try Scoreboard()
        let first = try XCTUnwrap(scoreboard.claimRecord(slot: 3))
        scoreboard.worker(first).setPID(1234)
        scoreboard.worker(first).add(.requests, 10)
        scoreboard.worker(first).countResponse(status: 404)
        XCTAssertEqual(scoreboard.worker(first)[.slot], 3)
        XCTAssertEqual(scoreboard.worker(first).pid, 1234)
        let second = try XCTUnwrap(scoreboard.claimRecord(slot: 4))
        XCTAssertNotEqual(first, second, "a record in use is not handed out again")
        XCTAssertEqual(scoreboard.usedRecords, 0..<2)

        scoreboard.retireRecord(first)
        XCTAssertEqual(scoreboard.server(.retiredRequests), 10)
        XCTAssertEqual(scoreboard.server(.retired4xx), 1)
        XCTAssertFalse(scoreboard.worker(first).inUse)
        let reused = try XCTUnwrap(scoreboard.claimRecord(slot: 5))
        XCTAssertEqual(reused, first, "a freed record is reused")
        XCTAssertEqual(scoreboard.worker(reused)[.requests], 0, "and starts from zero")
    }

    func testTotalsReadWhileWorkersRetireNeverGoBackNorCountTwice() throws {
        let scoreboard = try Scoreboard()
        let retirements = 20_000
        let pid = fork()
        if pid == 0 {
            // The master's side: workers that each served one request come and go.
            for _ in 0..<retirements {
                guard let index = scoreboard.claimRecord(slot: 0) else { _exit(1) }
                scoreboard.worker(index).setPID(1)
                scoreboard.worker(index).add(.requests)
                scoreboard.retireRecord(index)
            }
            _exit(0)
        }
        var last: UInt64 = 0
        var reads = 0
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            let total = scoreboard.readConsistently {
                scoreboard.usedRecords.reduce(scoreboard.server(.retiredRequests)) { sum, index in
                    scoreboard.worker(index).inUse ? sum + scoreboard.worker(index)[.requests] : sum
                }
            }
            XCTAssertGreaterThanOrEqual(total, last, "a total never goes back")
            XCTAssertLessThanOrEqual(total, UInt64(retirements), "nor counts a worker twice")
            if total < last || total > UInt64(retirements) { break }
            last = total
            reads += 1
        }
        XCTAssertEqual(status, 0)
        XCTAssertEqual(scoreboard.server(.retiredRequests), UInt64(retirements))
        XCTAssertGreaterThan(reads, 0)
    }

    func testResponsesAreCountedByStatusClass() throws {
        let scoreboard = try Scoreboard()
        let record = scoreboard.worker(try XCTUnwrap(scoreboard.claimRecord(slot: 0)))
        for status in [100, 200, 204, 301, 400, 431, 503] { record.countResponse(status: status) }
        XCTAssertEqual([record[.responses1xx], record[.responses2xx], record[.responses3xx],
                        record[.responses4xx], record[.responses5xx]], [1, 2, 1, 2, 1])
    }

    func testAWorkerOverItsFairShareIsHeldBackButALoneWorkerNever() throws {
        let scoreboard = try Scoreboard()
        let balance = AcceptBalance(scoreboard: scoreboard)
        let busy = scoreboard.worker(try XCTUnwrap(scoreboard.claimRecord(slot: 0)))
        busy[.active] = 2000
        XCTAssertEqual(balance.limit(), .max, "the only accepting worker takes everything")

        let quiet = scoreboard.worker(try XCTUnwrap(scoreboard.claimRecord(slot: 1)))
        quiet[.active] = 48
        // A share of 2,048 over two is 1,024, plus a sixteenth.
        XCTAssertEqual(balance.limit(), 1024 + 64)
        quiet[.retiring] = 1
        XCTAssertEqual(balance.limit(), .max, "a retiring worker does not count as accepting")
        quiet[.retiring] = 0
        busy[.active] = 10
        quiet[.active] = 12
        XCTAssertEqual(balance.limit(), 11 + AcceptBalance.minimumSlack, "light load keeps a fixed slack")
    }
}
