// Signals without handlers: sigtimedwait through SignalSet, a signalfd through
// SignalDescriptor, and ExitStatus decoded from real children. Signals are raised
// with raise(3), which is thread-directed, so only this (blocking) thread gets
// them even though XCTest runs other threads.
import CEventPoll
import Glibc
import XCTest

@testable import ServerSystem
@testable import Server

final class SignalsTests: XCTestCase {
    private var savedMask = sigset_t()

    override func setUp() {
        pthread_sigmask(SIG_SETMASK, nil, &savedMask)
    }

    /// Restores the thread's signal mask. Every test consumes what it raised first, so
    /// no blocked signal is left pending to take its default action on unblocking.
    override func tearDown() {
        pthread_sigmask(SIG_SETMASK, &savedMask, nil)
    }

    // MARK: SignalSet

    func testWaitTimesOutWhenNoBlockedSignalIsPending() throws {
        let set = SignalSet([SIGUSR1])
        try set.block()
        XCTAssertNil(set.wait(timeoutMilliseconds: 50))
    }

    func testWaitReturnsAPendingBlockedSignal() throws {
        let set = SignalSet([SIGUSR1])
        try set.block()
        XCTAssertEqual(raise(SIGUSR1), 0)
        XCTAssertEqual(set.wait(timeoutMilliseconds: 50), SIGUSR1)
        XCTAssertNil(set.wait(timeoutMilliseconds: 0), "the signal was consumed")
    }

    func testBlockAddsTheSignalsToTheThreadMask() throws {
        try SignalSet([SIGUSR1, SIGUSR2]).block()
        var current = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &current)
        XCTAssertEqual(sigismember(&current, SIGUSR1), 1)
        XCTAssertEqual(sigismember(&current, SIGUSR2), 1)
    }

    // MARK: SignalDescriptor

    func testSignalDescriptorBecomesReadableAndYieldsTheRaisedSignal() throws {
        let set = SignalSet([SIGUSR1])
        try set.block()
        let descriptor = try SignalDescriptor(set)
        defer { descriptor.close() }

        XCTAssertNil(try descriptor.next(), "nothing is pending yet")
        XCTAssertFalse(isReadable(descriptor.fd))

        XCTAssertEqual(raise(SIGUSR1), 0)
        XCTAssertTrue(isReadable(descriptor.fd))
        XCTAssertEqual(try descriptor.next(), SIGUSR1)
        XCTAssertNil(try descriptor.next(), "one raise, one record")
        XCTAssertFalse(isReadable(descriptor.fd))
    }

    func testSignalDescriptorWakesAnEpollSet() throws {
        let set = SignalSet([SIGUSR1])
        try set.block()
        let descriptor = try SignalDescriptor(set)
        defer { descriptor.close() }
        let epoll = try Epoll(capacity: 4)
        try epoll.add(descriptor.fd, events: CEP_EPOLLIN, token: ReservedToken.signals)

        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 0), 0)
        XCTAssertEqual(raise(SIGUSR1), 0)
        XCTAssertEqual(try epoll.wait(timeoutMilliseconds: 50), 1)
        XCTAssertEqual(epoll.event(at: 0).token, ReservedToken.signals)
        XCTAssertEqual(try descriptor.next(), SIGUSR1)
    }

    func testSignalDescriptorIsNonBlockingAndCloseOnExec() throws {
        let descriptor = try SignalDescriptor(SignalSet([SIGUSR1]))
        defer { descriptor.close() }
        XCTAssertNotEqual(fcntl(descriptor.fd, F_GETFL) & O_NONBLOCK, 0)
        XCTAssertNotEqual(fcntl(descriptor.fd, F_GETFD) & FD_CLOEXEC, 0)
    }

    // MARK: Names and exit statuses

    func testSignalNamesAreConventional() {
        XCTAssertEqual(signalName(SIGKILL), "SIGKILL")
        XCTAssertEqual(signalName(SIGTERM), "SIGTERM")
        XCTAssertEqual(signalName(SIGUSR1), "SIGUSR1")
        XCTAssertEqual(signalName(SIGWINCH), "signal \(SIGWINCH)")
    }

    // fork is not safe in the multi-threaded test process; posix_spawn is.
    func testExitStatusDecodesAnExitCode() throws {
        let status = try spawnShellAndWait("exit 3")
        XCTAssertEqual(status, .exited(code: 3))
        XCTAssertEqual(status.description, "exit code 3")
    }

    func testExitStatusDecodesACleanExit() throws {
        let status = try spawnShellAndWait("exit 0")
        XCTAssertEqual(status, .exited(code: 0))
        XCTAssertEqual(status.description, "exit code 0")
    }

    func testExitStatusDecodesAKillingSignal() throws {
        let status = try spawnShellAndWait("kill -9 $$")
        XCTAssertEqual(status, .killed(signal: SIGKILL))
        XCTAssertEqual(status.description, "killed by SIGKILL")
    }

    func testReapReturnsNilForAProcessThatIsNotAChild() {
        XCTAssertNil(ChildProcess.reap(getppid()))
    }

    // MARK: Helpers

    private func isReadable(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLIN) != 0
    }

    /// Runs `/bin/sh -c script` and decodes the raw waitpid status.
    private func spawnShellAndWait(_ script: String) throws -> ExitStatus {
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script)]
        let environment: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin")]
        defer { (arguments + environment).forEach { free($0) } }
        let argv = arguments + [nil]
        let envp = environment + [nil]

        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, envp)
        guard spawned == 0 else { throw SystemError(call: "posix_spawn(/bin/sh -c \(script))", errno: spawned) }

        var status: Int32 = 0
        for _ in 0..<100 {
            let result = waitpid(pid, &status, 0)
            if result == pid { return ExitStatus(waitStatus: status) }
            guard result == -1 && errno == EINTR else { break }
        }
        throw SystemError(call: "waitpid(\(pid))", errno: errno)
    }
}
