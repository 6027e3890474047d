// The handler pool's rationing: jobs that block get every thread of the pool,
// past the processor limit (the monitor sees the running threads blocked), and
// a burst of short jobs is served whole by the threads the limit lets run.
import Glibc
import Logging
import Synchronization
import XCTest

@testable import Server
@testable import ServerSystem

/// An atomic count that escaping closures can share (Atomic itself cannot be captured).
private final class Count: Sendable {
    let value = Atomic(0)
}

final class HandlerPoolTests: XCTestCase {
    /// Waits (bounded) until `condition` holds; whether it did.
    private func eventually(withinSeconds seconds: Int = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Clock.monotonicMilliseconds() + seconds * 1000
        while Clock.monotonicMilliseconds() < deadline {
            if condition() { return true }
            sched_yield()
        }
        return condition()
    }

    func testJobsThatBlockGetEveryThreadPastTheProcessorLimit() {
        let threads = 8
        let pool = HandlerPool(size: threads, logger: Logger(label: "test"), limit: 1)
        let inside = Count()
        let release = Semaphore()
        for _ in 0..<threads {
            pool.submit {
                inside.value.add(1, ordering: .relaxed)
                release.wait()  // blocked in sem_wait: not runnable, as a slow query would be
            }
        }
        XCTAssertTrue(eventually { inside.value.load(ordering: .relaxed) == threads },
                      "all \(threads) blocked jobs run at once, not 1 (the limit) at a time: \(inside.value.load(ordering: .relaxed))")
        for _ in 0..<threads { release.signal() }
    }

    func testABurstOfShortJobsIsServedWhole() {
        let pool = HandlerPool(size: 16, logger: Logger(label: "test"), limit: 2)
        let done = Count()
        let jobs = 5_000
        for _ in 0..<jobs {
            pool.submit { done.value.add(1, ordering: .relaxed) }
        }
        XCTAssertTrue(eventually { done.value.load(ordering: .relaxed) == jobs }, "ran \(done.value.load(ordering: .relaxed)) of \(jobs)")
    }

    /// The point of the rationing: busy jobs (runnable, never blocked) run on no more threads at
    /// once than the limit, however many the pool has and however many jobs wait. Waking a thread
    /// per job let all 16 into jobs at once, preempting each other on 2 cores.
    func testBusyJobsRunOnNoMoreThreadsAtOnceThanTheLimit() {
        let pool = HandlerPool(size: 16, logger: Logger(label: "test"), limit: 2)
        let inside = Count()
        let most = Count()
        let done = Count()
        let jobs = 200
        for _ in 0..<jobs {
            pool.submit {
                let now = inside.value.add(1, ordering: .relaxed).newValue
                var seen = most.value.load(ordering: .relaxed)
                while now > seen {
                    let (exchanged, current) = most.value.compareExchange(expected: seen, desired: now, ordering: .relaxed)
                    if exchanged { break }
                    seen = current
                }
                let start = Clock.monotonicMilliseconds()
                while Clock.monotonicMilliseconds() - start < 1 {}  // busy, as a computation is
                inside.value.subtract(1, ordering: .relaxed)
                done.value.add(1, ordering: .relaxed)
            }
        }
        XCTAssertTrue(eventually(withinSeconds: 30) { done.value.load(ordering: .relaxed) == jobs },
                      "ran \(done.value.load(ordering: .relaxed)) of \(jobs)")
        XCTAssertLessThanOrEqual(most.value.load(ordering: .relaxed), 2, "jobs running at once")
    }

    func testAThreadStateTellsRunnableFromBlocked() {
        XCTAssertTrue(ThreadStates.isRunnable(ThreadStates.currentThreadID()), "the calling thread runs")
        let id = Count()
        let park = Semaphore()
        _ = try? Threads.start {
            id.value.store(Int(ThreadStates.currentThreadID()), ordering: .releasing)
            park.wait()
        }
        XCTAssertTrue(eventually {
            let thread = Int32(id.value.load(ordering: .acquiring))
            return thread != 0 && !ThreadStates.isRunnable(thread)
        }, "a thread asleep in sem_wait is not runnable")
        park.signal()
        XCTAssertFalse(ThreadStates.isRunnable(0), "no such thread")
    }
}
