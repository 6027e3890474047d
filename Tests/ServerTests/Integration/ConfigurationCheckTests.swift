// `server -t` / `--check-configuration` (nginx -t), run as the real binary: one line
// ("server: configuration OK" on stdout, or the reason on stderr), exit 0 or 1, and
// nothing served.
import Foundation
import Glibc
import TestSupport
import XCTest

final class ConfigurationCheckTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func check(_ arguments: [String]) throws -> (code: Int32?, stdout: String, stderr: String) {
        let result = try Launch.runToEnd(ServerProcess.executablePath, arguments)
        let status = try XCTUnwrap(result.status, "server \(arguments) exits by itself")
        return (exitCode(ofWaitStatus: status), result.stdout, result.stderr)
    }

    private func assertFails(_ arguments: [String], mentioning expected: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try check(arguments)
        XCTAssertEqual(result.code, 1, "\(arguments) fails the check with status 1", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "nothing on stdout", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("server: "), result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(expected), "\(result.stderr) mentions \(expected)", file: file, line: line)
    }

    func testAGoodConfigurationIsOKAndNothingListens() throws {
        let port = try NginxProcess.freePort()
        let result = try check(["-t", "--listen", "127.0.0.1:\(port)", "--root", directory,
                                "--access-log", directory + "/access.log", "--workers", "2"])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(result.stdout, "server: configuration OK\n")
        XCTAssertEqual(result.stderr, "")
        XCTAssertThrowsError(try TestClient(port: port), "the check binds nothing")
    }

    func testTheLongFlagIsTheSame() throws {
        let result = try check(["--check-configuration", "--port", "0"])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(result.stdout, "server: configuration OK\n")
    }

    func testAnUnknownFlagFailsWithStatusOne() throws {
        try assertFails(["-t", "--bogus"], mentioning: "--bogus")
    }

    func testAMissingRootFails() throws {
        try assertFails(["-t", "--port", "0", "--root", directory + "/missing"], mentioning: "--root")
    }

    func testAFileAsRootFails() throws {
        let file = directory + "/file"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        try assertFails(["-t", "--port", "0", "--root", file], mentioning: "--root")
    }

    func testABadListenAddressFails() throws {
        try assertFails(["-t", "--listen", "1.2.3:80"], mentioning: "--listen '1.2.3:80'")
        try assertFails(["-t", "--listen", "127.0.0.1:70000"], mentioning: "between 0 and 65535")
    }

    func testAnAccessLogInAMissingDirectoryFails() throws {
        try assertFails(["-t", "--port", "0", "--access-log", directory + "/missing/access.log"], mentioning: "--access-log")
    }

    func testAnUnknownUserFails() throws {
        try assertFails(["-t", "--port", "0", "--user", "no-such-user-here"], mentioning: "no-such-user-here")
    }
}
