// ChildGroup's stop, the one TERM -> wait -> KILL escalation (the process-per-
// connection master's and the supervisor's), against real children: shells
// that ignore SIGTERM, so only the SIGKILL after the deadline ends them.
import Glibc
import Logging
import TestSupport
import XCTest

@testable import ServerSystem
@testable import Server

final class ChildGroupTests: XCTestCase {
    private var savedMask = sigset_t()
    private let logger = Logger(label: "test")

    override func setUp() {
        pthread_sigmask(SIG_SETMASK, nil, &savedMask)
    }

    override func tearDown() {
        pthread_sigmask(SIG_SETMASK, &savedMask, nil)
    }

    func testChildIgnoringTermIsKilledAndReapedAfterTheDeadline() throws {
        let signals = SignalSet([SIGCHLD, SIGTERM, SIGINT])
        try signals.block()
        let stubborn = try spawnTermIgnoringChild()
        var group = ChildGroup([stubborn])

        group.stopAll(waitingOn: signals, deadlineMilliseconds: 200, logger: logger)

        XCTAssertTrue(group.pids.isEmpty)
        XCTAssertFalse(processExists(stubborn), "killed and reaped")
    }

    func testSecondStopSignalCutsTheWaitShort() throws {
        let signals = SignalSet([SIGCHLD, SIGTERM, SIGINT])
        try signals.block()
        let stubborn = try spawnTermIgnoringChild()
        var group = ChildGroup([stubborn])
        // The operator's second TERM, already pending: the wait ends on it instead of running
        // out a deadline far longer than the test may take.
        XCTAssertEqual(raise(SIGTERM), 0)
        let start = Clock.monotonicMilliseconds()

        group.stopAll(waitingOn: signals, deadlineMilliseconds: 60_000, noun: "worker", secondStopKills: true, logger: logger)

        XCTAssertLessThan(Clock.monotonicMilliseconds() - start, 30_000, "the wait ignored the second TERM")
        XCTAssertFalse(processExists(stubborn))
        XCTAssertNotEqual(signals.wait(timeoutMilliseconds: 0), SIGTERM, "the TERM was consumed")
    }

    func testChildrenThatHonourTermAreReapedWithoutAKill() throws {
        let signals = SignalSet([SIGCHLD])
        try signals.block()
        let polite = try spawn("exec sleep 300")
        var group = ChildGroup([polite])

        group.stopAll(waitingOn: signals, deadlineMilliseconds: 10_000, logger: logger)

        XCTAssertTrue(group.pids.isEmpty)
        XCTAssertFalse(processExists(polite))
    }

    // MARK: Helpers

    /// A `sleep` that ignores SIGTERM (an ignored signal stays ignored across exec),
    /// returned once /proc shows the disposition, so the TERM cannot race the trap.
    private func spawnTermIgnoringChild() throws -> pid_t {
        let pid = try spawn("trap '' TERM; exec sleep 300")
        let ignoresTerm = ServerProcess.eventually(timeoutMilliseconds: 5000) {
            guard let status = try? Files.read("/proc/\(pid)/status") else { return false }
            let name = status.split(separator: "\n").first { $0.hasPrefix("Name:") } ?? ""
            let ignored = status.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }
                .flatMap { UInt64($0.dropFirst(7).filter { $0 != " " && $0 != "\t" }, radix: 16) } ?? 0
            return name.hasSuffix("sleep") && ignored & (1 << (UInt64(SIGTERM) - 1)) != 0
        }
        XCTAssertTrue(ignoresTerm, "the child did not get to ignore SIGTERM")
        return pid
    }

    private func spawn(_ script: String) throws -> pid_t {
        var pid: pid_t = 0
        let words: [String] = ["/bin/sh", "-c", script]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        let result = posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ)
        guard result == 0 else { throw SystemError(call: "posix_spawn(/bin/sh)", errno: result) }
        return pid
    }
}
