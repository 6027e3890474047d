// The scoreboard: records shared across fork, retired totals, the accept balance it
// feeds, and garbage written by a worker, which may write anywhere in the region.
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

    /// A counter left out of `retiredTotals` would go back at every worker exit.
    func testEveryCounterOfAnExitedWorkerJoinsItsOwnTotal() throws {
        let notCounters: Set<WorkerField> = [.pid, .slot, .heartbeat, .retiring, .active, .fileCacheContentBytes]
        let counters = Set(WorkerField.allCases).subtracting(notCounters)
        XCTAssertEqual(Set(Scoreboard.retiredTotals.map(\.0)), counters, "every counter has a retired total")
        XCTAssertEqual(Set(Scoreboard.retiredTotals.map(\.1)).count, counters.count, "each its own")

        let scoreboard = try Scoreboard()
        let index = try XCTUnwrap(scoreboard.claimRecord(slot: 0))
        for (position, (field, _)) in Scoreboard.retiredTotals.enumerated() {
            scoreboard.worker(index).add(field, UInt64(position + 1))
        }
        scoreboard.retireRecord(index)
        for (position, (field, total)) in Scoreboard.retiredTotals.enumerated() {
            XCTAssertEqual(scoreboard.server(total), UInt64(position + 1), "\(field) joined \(total)")
        }
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

    /// What a worker could leave in every cell: above `Int.max`, odd (a seqlock held), all ones, tiny.
    private static let garbage: [UInt64] = [1 << 63, 0x8000_0000_0000_0001, .max, 1]

    private func fill(_ scoreboard: Scoreboard, with value: UInt64) {
        scoreboard.withUnsafeRegion { region in
            for offset in stride(from: 0, to: region.count, by: 8) {
                region.storeBytes(of: value, toByteOffset: offset, as: UInt64.self)
            }
        }
    }

    func testGarbageInEveryCellNeitherTrapsTheReadersNorChangesTheMastersDecisions() throws {
        for value in Self.garbage {
            let label = String(value, radix: 16)
            let scoreboard = try Scoreboard()
            // The master's state: workers 100 and 102 hold records 0 and 2; record 1 was freed.
            for slot in 0..<3 { scoreboard.setPID(pid_t(100 + slot), ofRecord: try XCTUnwrap(scoreboard.claimRecord(slot: slot))) }
            scoreboard.retireRecord(1)
            scoreboard.addServer(.workersSpawned, 3)
            scoreboard.setServer(.workersWanted, 2)
            fill(scoreboard, with: value)

            // The readers (workers: the accept balance, /metrics) stay within the region and do not trap.
            XCTAssertLessThanOrEqual(scoreboard.usedRecords.upperBound, Scoreboard.workerCapacity, label)
            XCTAssertGreaterThan(AcceptBalance(scoreboard: scoreboard).limit(), 0, label)
            XCTAssertNoThrow(try PrometheusText(MetricsExposition.render(scoreboard, now: 1000)), label)

            // The master decides from its own memory.
            XCTAssertEqual(scoreboard.claimRecord(slot: 5), 1, "\(label): the freed record is handed out again")
            XCTAssertEqual(scoreboard.claimRecord(slot: 6), 3, "\(label): then one never used")
            scoreboard.retireRecord(0)
            XCTAssertEqual(scoreboard.claimRecord(slot: 7), 0, "\(label): a retired record is free whatever its cells say")
            for (record, pid) in [(0, 107), (1, 105), (3, 106)] { scoreboard.setPID(pid_t(pid), ofRecord: record) }

            // Its next tick writes its own numbers over the garbage.
            scoreboard.republish()
            XCTAssertEqual(scoreboard.usedRecords, 0..<4, label)
            XCTAssertEqual(scoreboard.server(.retireSequence) & 1, 0, "\(label): readers are not held off")
            let metrics = try PrometheusText(MetricsExposition.render(scoreboard, now: 1000))
            XCTAssertEqual(metrics.value("prefork_workers"), 4, label)
            XCTAssertEqual(metrics.value("prefork_workers_spawned_total"), 3, label)
            XCTAssertEqual(metrics.value("prefork_workers_wanted"), 2, label)
            XCTAssertEqual(metrics.value("prefork_draining"), 0, label)
            let series = metrics.all("prefork_worker_requests_total").map { [$0.labels["slot"], $0.labels["pid"]] }
            XCTAssertEqual(series, [["2", "102"], ["5", "105"], ["6", "106"], ["7", "107"]], "\(label): the master's slots and pids")
        }
    }

    func testReadersGiveUpOnARetireSequenceAWorkerKeepsOddAndMoving() throws {
        let scoreboard = try Scoreboard()
        let pid = fork()
        if pid == 0 {
            // The worker: odd values, each new, for at most 20 s (should the parent be gone).
            let deadline = Clock.monotonicMilliseconds() + 20_000
            let offset = ServerField.retireSequence.rawValue * MemoryLayout<UInt64>.stride
            scoreboard.withUnsafeRegion { region in
                var value: UInt64 = 1
                repeat {
                    for _ in 0..<100_000 {
                        value &+= 2
                        region.storeBytes(of: value, toByteOffset: offset, as: UInt64.self)
                    }
                } while Clock.monotonicMilliseconds() < deadline
            }
            _exit(0)
        }
        defer {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
        let started = Clock.monotonicMilliseconds()
        while scoreboard.server(.retireSequence) & 1 == 0 && Clock.monotonicMilliseconds() - started < 10_000 { sched_yield() }
        XCTAssertEqual(scoreboard.server(.retireSequence) & 1, 1, "the worker writes the sequence")
        XCTAssertEqual(scoreboard.readConsistently { 42 }, 42)
        XCTAssertEqual(waitpid(pid, nil, WNOHANG), 0, "the read gave up while the sequence still moved")
    }
}
