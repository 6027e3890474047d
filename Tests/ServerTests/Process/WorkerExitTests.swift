// How worker exits are classified: exit codes, signals, the watchdog, and the
// OOM killer recognised by a rising oom_kill count in the cgroup's memory events.
import Glibc
import XCTest
@testable import Server

final class WorkerExitTests: XCTestCase {
    func testExitsAreClassifiedByCodeSignalAndWatchdog() {
        var classifier = ExitClassifier(memoryEvents: nil)
        XCTAssertEqual(classifier.classify(.exited(code: 0), byWatchdog: false), .clean)
        XCTAssertEqual(classifier.classify(.exited(code: 3), byWatchdog: false), .exitCode(3))
        XCTAssertEqual(classifier.classify(.killed(signal: SIGSEGV), byWatchdog: false), .signal(SIGSEGV))
        XCTAssertEqual(classifier.classify(.killed(signal: SIGKILL), byWatchdog: false), .signal(SIGKILL))
        XCTAssertEqual(classifier.classify(.killed(signal: SIGKILL), byWatchdog: true), .watchdog)
        XCTAssertEqual(WorkerExit.watchdog.counter, .exitsByWatchdog)
        XCTAssertEqual(WorkerExit.exitCode(3).counter, .exitsWithError)
    }

    func testASIGKILLWhileTheCgroupsOOMKillCountRoseIsOutOfMemory() throws {
        let path = NSTemporaryDirectory() + "memory.events.\(getpid())"
        defer { unlink(path) }
        try "low 0\nhigh 0\nmax 0\noom 1\noom_kill 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        var classifier = ExitClassifier(memoryEvents: OOMKillCounter(path: path))
        XCTAssertEqual(classifier.classify(.killed(signal: SIGKILL), byWatchdog: false), .signal(SIGKILL),
                       "a count that has not moved since the start says nothing")
        try "low 0\nhigh 0\nmax 0\noom 2\noom_kill 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        let exit = classifier.classify(.killed(signal: SIGKILL), byWatchdog: false)
        XCTAssertEqual(exit, .outOfMemory)
        XCTAssertTrue(exit.description.contains("out of memory"))
        XCTAssertEqual(classifier.classify(.killed(signal: SIGKILL), byWatchdog: false), .signal(SIGKILL), "counted once")
    }

    func testAMissingCgroupFileMeansNoOOMInformation() {
        XCTAssertNil(OOMKillCounter(path: "/nonexistent/memory.events").count())
        _ = OOMKillCounter.forThisProcess()  // whatever this machine offers, it must not trap
    }
}
