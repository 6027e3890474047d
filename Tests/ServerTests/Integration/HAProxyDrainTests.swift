// deploy/haproxy.cfg exercised for real: scripts/haproxy-drain puts HAProxy in
// front of two instances, drains one with SIGQUIT under load, and counts the
// failed requests. Skipped where HAProxy is not installed
// (`scripts/haproxy-drain --install` installs it from Debian's packages).
import Foundation
import Glibc
import TestSupport
import XCTest

final class HAProxyDrainTests: XCTestCase {
    private static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    private static var haproxyIsInstalled: Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/usr/local/sbin"]
        return directories.contains { access($0 + "/haproxy", X_OK) == 0 }
    }

    func testDrainingOneInstanceBehindHAProxyFailsNoRequest() throws {
        try XCTSkipUnless(Self.haproxyIsInstalled, "HAProxy is not installed (scripts/haproxy-drain --install installs it)")
        let script = Self.repositoryRoot + "/scripts/haproxy-drain"
        let result = try Launch.runToEnd("/usr/bin/env", ["python3", script, "--server", ServerProcess.executablePath,
                                                          "--seconds", "4", "--quit-after", "1.5"],
                                         timeoutMilliseconds: 60_000)
        let status = try XCTUnwrap(result.status, "the script finishes: \(result.stdout)")
        XCTAssertEqual(exitCode(ofWaitStatus: status), 0, "\(result.stdout)\(result.stderr)")
        XCTAssertTrue(result.stdout.contains(", failed: 0 "), result.stdout)
    }
}
