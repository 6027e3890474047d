// --pid-file in a directory someone else can write to, against the real binary:
// links planted in advance at the names a temporary file could get must not
// make the master (root, in production) write through them.
import Foundation
import Glibc
import TestSupport
import XCTest

final class PIDFileTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "pid-file-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The pids the next processes of this pid namespace will most likely get: after the
    /// last one handed out (proc(5), /proc/sys/kernel/ns_last_pid), wrapping at pid_max to 300.
    private static func nextPIDs(_ count: Int) throws -> [pid_t] {
        func number(_ path: String) throws -> Int {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw LaunchError("\(path): \(text)") }
            return value
        }
        let last = try number("/proc/sys/kernel/ns_last_pid")
        let maximum = try number("/proc/sys/kernel/pid_max")
        return (1...count).map { pid_t(last + $0 < maximum ? last + $0 : last + $0 - maximum + 300) }
    }

    func testLinksPlantedAtTheTemporaryNamesAreNotFollowed() throws {
        let victim = directory + "/victim"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        let pidFile = directory + "/server.pid"
        // The old temporary name was PATH.tmp.PID: links for every pid the master may get.
        let planted = try Self.nextPIDs(2000)
        for pid in planted { XCTAssertEqual(symlink(victim, "\(pidFile).tmp.\(pid)"), 0) }

        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--pid-file", pidFile])
        XCTAssertTrue(planted.contains(server.pid), "a link waited at the master's old temporary name")
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious\n", "the victim is untouched")
        XCTAssertEqual(try String(contentsOfFile: pidFile, encoding: .utf8), "\(server.pid)\n")
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        XCTAssertEqual(entries.filter { $0.hasPrefix("server.pid.tmp.") }.count, planted.count,
                       "the planted links stay links and no temporary file is left")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pidFile), "the pid file is removed on exit")
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious\n", "and the victim still untouched")
    }

    func testStaleTemporaryFilesAndAStalePIDFileDoNotStopTheStart() throws {
        let pidFile = directory + "/server.pid"
        try "99999\n".write(toFile: pidFile, atomically: false, encoding: .utf8)
        for pid in try Self.nextPIDs(50) {
            try "stale\n".write(toFile: "\(pidFile).tmp.\(pid)", atomically: false, encoding: .utf8)
        }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--pid-file", pidFile])
        XCTAssertEqual(try String(contentsOfFile: pidFile, encoding: .utf8), "\(server.pid)\n")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
