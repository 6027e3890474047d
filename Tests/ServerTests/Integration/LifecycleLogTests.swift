// Lifecycle and error lines on stderr say which process wrote them: the
// master's carry its pid, a worker's its own pid and slot.
import Foundation
import Glibc
import TestSupport
import XCTest

final class LifecycleLogTests: XCTestCase {
    /// The `key=value` metadata of every stderr line containing `message`.
    private static func metadata(of message: String, in text: String) -> [[String: String]] {
        text.split(separator: "\n").filter { $0.contains(message) }.map { line in
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") where word.contains("=") {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            return fields
        }
    }

    func testEveryLineNamesTheProcessThatWroteIt() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2"])
        var errors = ""
        XCTAssertTrue(ServerProcess.eventually {
            errors += server.standardError()
            return Self.metadata(of: "worker started", in: errors).count == 2
        }, errors)
        let started = Self.metadata(of: "worker started", in: errors)
        XCTAssertEqual(Set(started.compactMap { $0["slot"] }), ["0", "1"], errors)
        XCTAssertEqual(Set(started.compactMap { $0["pid"].flatMap(pid_t.init) }), server.workerPIDs(), errors)
        XCTAssertEqual(Set(started.compactMap { $0["role"] }), ["worker"])

        let victim = try XCTUnwrap(server.workerPIDs().first)
        kill(victim, SIGKILL)
        XCTAssertTrue(ServerProcess.eventually {
            errors += server.standardError()
            return !Self.metadata(of: "worker \(victim) exited", in: errors).isEmpty
        }, errors)
        let death = try XCTUnwrap(Self.metadata(of: "worker \(victim) exited", in: errors).first)
        XCTAssertEqual(death["pid"], "\(server.pid)", "the master reports the death: \(errors)")
        XCTAssertEqual(death["role"], "master")
    }
}
