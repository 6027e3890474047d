// Bad configuration: one clear line on stderr and a non-zero exit, before anything is forked.
import Glibc
import ServerCommandLine
import TestSupport
import XCTest

final class CommandLineTests: XCTestCase {
    private func runServer(_ arguments: [String]) throws -> (code: Int32?, stdout: String, stderr: String) {
        let result = try Launch.runToEnd(ServerProcess.executablePath, arguments)
        let status = try XCTUnwrap(result.status, "server \(arguments) exits by itself")
        return (exitCode(ofWaitStatus: status), result.stdout, result.stderr)
    }

    private func assertRefused(_ arguments: [String], mentioning expected: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runServer(arguments)
        XCTAssertNotEqual(result.code, 0, "\(arguments) must fail", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line on stderr, got: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("server: "), result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(expected), "\(result.stderr) mentions \(expected)", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "nothing starts", file: file, line: line)
    }

    func testZeroWorkersIsRefused() throws {
        try assertRefused(["--workers", "0", "--port", "0"], mentioning: "--workers must be at least 1")
    }

    func testUnknownFlagIsRefused() throws {
        try assertRefused(["--bogus"], mentioning: "--bogus")
    }

    func testInvalidHostIsRefused() throws {
        try assertRefused(["--host", "not.an.address", "--port", "0"], mentioning: "not.an.address")
    }

    func testInvalidLifecycleFlagsAreRefused() throws {
        try assertRefused(["--graceful-timeout", "0", "--port", "0"], mentioning: "--graceful-timeout")
        try assertRefused(["--worker-timeout", "0.05", "--port", "0"], mentioning: "--worker-timeout")
        try assertRefused(["--user", "no-such-user-here", "--port", "0"], mentioning: "no user named 'no-such-user-here'")
        try assertRefused(["--pid-file", "/nonexistent/directory/server.pid", "--port", "0"], mentioning: "server.pid")
    }

    func testNonPositiveTimeoutIsRefused() throws {
        try assertRefused(["--header-timeout", "0", "--port", "0"], mentioning: "--header-timeout")
        try assertRefused(["--keepalive-timeout", "-1", "--port", "0"], mentioning: "--keepalive-timeout")
    }

    func testNonPositiveHandlerTimeoutIsRefused() throws {
        try assertRefused(["--handler-timeout", "0", "--port", "0"], mentioning: "invalid for '--handler-timeout")
    }

    func testHandlerTimeoutSetsTheHandlingDuration() throws {
        XCTAssertEqual(try ServerOptions.parse([]).serverConfiguration.timeouts.handling, 60_000)
        XCTAssertEqual(try ServerOptions.parse(["--handler-timeout", "2.5"]).serverConfiguration.timeouts.handling, 2_500)
    }

    func testNegativeMinimumBodyRateIsRefused() throws {
        try assertRefused(["--min-body-rate=-1", "--port", "0"], mentioning: "--min-body-rate must not be negative")
        try assertRefused(["--min-body-rate-grace", "0", "--port", "0"], mentioning: "--min-body-rate-grace")
    }

    func testZeroMaxConnectionsIsRefused() throws {
        try assertRefused(["--max-connections", "0", "--port", "0"], mentioning: "--max-connections")
    }

    func testRequestLimitsBeyondWhatTheParsersOffsetsHoldAreRefused() throws {
        try assertRefused(["--max-body-size", "9223372036854775807", "--port", "0"],
                          mentioning: "--max-body-size must be at most 1152921504606846976 bytes")
        try assertRefused(["--max-header-size", "2147483648", "--port", "0"],
                          mentioning: "--max-header-size must be at most 2147483647 bytes")
        try assertRefused(["--max-request-line", "9223372036854775807", "--port", "0"],
                          mentioning: "--max-request-line must be at most 2147483647 bytes")
    }

    func testPortOutOfRangeIsRefused() throws {
        try assertRefused(["--port", "70000"], mentioning: "--port")
    }

    func testBusyPortIsRefused() throws {
        let holder = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"])
        try assertRefused(["--host", "127.0.0.1", "--port", "\(holder.port)"], mentioning: "Address already in use")
        try assertRefused(["--host", "127.0.0.1", "--port", "\(holder.port)", "--reuseport"],
                          mentioning: "Address already in use")
        // SO_REUSEPORT sockets of one user share a port; a second server must still not join the first.
        let sharing = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--reuseport"])
        try assertRefused(["--host", "127.0.0.1", "--port", "\(sharing.port)", "--reuseport"],
                          mentioning: "Address already in use")
    }

    func testAccessLogThatCannotBeOpenedIsRefused() throws {
        try assertRefused(["--access-log", "/nonexistent-directory/access.log", "--port", "0"],
                          mentioning: "open(/nonexistent-directory/access.log): No such file or directory")
        try assertRefused(["--access-log", "", "--port", "0"], mentioning: "--access-log")
    }

    func testHelpListsEveryFlagAndSucceeds() throws {
        let result = try runServer(["--help"])
        XCTAssertEqual(result.code, 0)
        for flag in ["--host", "--port", "--workers", "--backlog", "--reuseport", "--edge-triggered",
                     "--max-header-size", "--max-body-size", "--max-request-line", "--max-connections",
                     "--header-timeout", "--keepalive-timeout", "--body-timeout", "--write-timeout", "--access-log",
                     "--log-level"] {
            XCTAssertTrue(result.stdout.contains(flag), "help mentions \(flag)")
        }
    }
}
