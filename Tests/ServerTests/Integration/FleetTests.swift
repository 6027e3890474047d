// The fleet for real (scripts/fleet): three instances in network namespaces
// behind HAProxy with its retries and redispatch off, each upgraded (USR2)
// and then stopped gracefully with --drain-delay and restarted, one at a time,
// under wrk's steady load; wrk's exact counts must show no failed request and
// no reset, and the access logs every request with the client's address
// (HAProxy sends PROXY v2 headers to proxy-protocol listeners). The script removes what it
// creates (namespaces, processes, files) on every way out. Skipped only where
// namespaces cannot be made (not root, no ip) or HAProxy cannot be installed.
import Foundation
import Glibc
import TestSupport
import XCTest

final class FleetTests: XCTestCase {
    private static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func testUpgradesAndRestartsBehindHAProxyWithoutRetriesFailNoRequest() throws {
        try XCTSkipUnless(geteuid() == 0, "network namespaces need root")
        try XCTSkipUnless(access("/usr/sbin/ip", X_OK) == 0 || access("/usr/bin/ip", X_OK) == 0, "ip (iproute2) is not installed")
        try XCTSkipUnless(access("/usr/bin/wrk", X_OK) == 0, "wrk is not installed (apt-get install wrk)")
        let script = Self.repositoryRoot + "/scripts/fleet"
        let result = try Launch.runToEnd("/usr/bin/env", ["python3", script, "--install", "--server", ServerProcess.executablePath,
                                                          "--connections", "6", "--pause-ms", "5", "--max-seconds", "90"],
                                         timeoutMilliseconds: 150_000)
        let status = try XCTUnwrap(result.status, "the script finishes: \(result.stdout)\(result.stderr)")
        let code = exitCode(ofWaitStatus: status)
        try XCTSkipIf(code == 2, "HAProxy could not be installed: \(result.stderr)")
        try XCTSkipIf(code == 3, "network namespaces cannot be created here: \(result.stderr)")
        XCTAssertEqual(code, 0, "\(result.stdout)\(result.stderr)")
        let summary = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix("requests: ") }, result.stdout)
        XCTAssertTrue(summary.contains(", failed: 0 (non-2xx/3xx: 0, connect errors: 0, read errors/resets: 0, write errors: 0, timeouts: 0)"),
                      String(summary))
        print(summary)
        let requests = Int(summary.dropFirst("requests: ".count).prefix { $0.isNumber }) ?? 0
        XCTAssertGreaterThan(requests, 500, "the load kept flowing: \(summary)")
        // HAProxy sends PROXY v2: each instance logs the client namespace's address, never HAProxy's.
        let logged = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix("access-log lines for GET /: ") },
                                   result.stdout)
        let numbers = logged.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        XCTAssertEqual(numbers.first, numbers.last, "every line names the client: \(logged)")
        XCTAssertTrue(logged.contains("from the client's address 10.77.0.2: "), String(logged))
        XCTAssertGreaterThanOrEqual(numbers.first ?? 0, requests, "every request the client counted is logged: \(logged)")
        XCTAssertFalse(Self.namespaces().contains { $0.hasPrefix("fleet") }, "the script removed its namespaces")
    }

    private static func namespaces() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
    }
}
