// The Containerfile and deploy/kubernetes agree with each other and with the
// binary: scripts/check-deploy checks the probes' paths, the grace period
// against the drain delay and graceful timeout, the selectors and the stop
// signal; then the real binary runs with exactly the arguments each passes
// and stops as the kubelet or `docker stop` would stop it. (No image is built
// here: see the README's "Behind a load balancer".)
import Foundation
import Glibc
import TestSupport
import XCTest

final class DeploymentFilesTests: XCTestCase {
    private static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func testManifestsAgreeAndTheirServerStopsGracefullyOnSIGTERM() throws {
        let result = try Launch.runToEnd("/usr/bin/env", ["python3", Self.repositoryRoot + "/scripts/check-deploy"])
        let code = try XCTUnwrap(result.status.flatMap(exitCode(ofWaitStatus:)), result.stderr)
        try XCTSkipIf(code == 2, "cannot parse the manifests: \(result.stderr)")
        XCTAssertEqual(code, 0, "scripts/check-deploy: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("arguments ") }
        XCTAssertEqual(lines.count, 2, result.stdout)
        for line in lines {
            let json = line[line.index(after: line.firstIndex(of: ":")!)...]
            let arguments = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String], String(line))
            try assertStopsGracefullyOnSIGTERM(Self.onLoopback(arguments), String(line))
        }
    }

    /// The port the files name, replaced by the kernel's choice on 127.0.0.1.
    private static func onLoopback(_ arguments: [String]) -> [String] {
        var kept: [String] = []
        var index = 0
        while index < arguments.count {
            if arguments[index] == "--port" || arguments[index] == "--host" { index += 2; continue }
            kept.append(arguments[index])
            index += 1
        }
        return ["--host", "127.0.0.1"] + kept
    }

    private func assertStopsGracefullyOnSIGTERM(_ arguments: [String], _ origin: String) throws {
        let server = try ServerProcess(arguments)
        func status(_ path: String) -> Int? { try? TestClient(port: server.port).get(path).status }
        XCTAssertTrue(ServerProcess.eventually { status("/readyz") == 200 }, "\(origin): ready")
        kill(server.pid, SIGTERM)
        XCTAssertTrue(ServerProcess.eventually { status("/readyz") == 503 }, "\(origin): SIGTERM begins the drain")
        XCTAssertEqual(status("/livez"), 200, "\(origin): alive during the drain delay")
        XCTAssertEqual(status("/"), 200, "\(origin): still serving new connections")
        // As the kubelet would after the grace period, but sooner: a second TERM stops at once.
        kill(server.pid, SIGTERM)
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 10_000).flatMap(exitCode(ofWaitStatus:)), 0, origin)
        XCTAssertTrue(server.standardError().contains("received SIGTERM during the drain delay; stopping"), origin)
    }
}
