// HAProxy in front, for real: `send-proxy` (v1) and `send-proxy-v2` backends
// (with HTTP health checks, which v2 sends as LOCAL headers) relay curl from
// 127.0.0.2 to a proxy-protocol listener; the handler and the access log see
// 127.0.0.2 and curl's port, not HAProxy's 127.0.0.1. Skipped where HAProxy
// is not installed (apt-get install haproxy).
import Foundation
import Glibc
import TestSupport
import XCTest

final class HAProxyClientAddressTests: XCTestCase {
    private static var haproxy: String? {
        ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"].first { access($0, X_OK) == 0 }
    }

    /// A port nothing listens on now (the kernel's pick, released for HAProxy to bind).
    private static func freePort() throws -> Int {
        let (fd, port) = try LifecycleTests.listeningSocket()
        close(fd)
        return port
    }

    func testHAProxysSendProxyAndSendProxyV2CarryTheClientsAddress() throws {
        guard let haproxy = Self.haproxy else { throw XCTSkip("HAProxy is not installed (apt-get install haproxy)") }
        // The plain listener is for /metrics; HAProxy talks to the proxy-protocol one.
        let server = try ServerProcess(["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0,proxy-protocol",
                                        "--trusted-proxy", "127.0.0.1/32", "--workers", "1", "--access-log", "-"],
                                       executable: "example-server")
        let proxied = server.ports[1]
        let (v1Port, v2Port) = (try Self.freePort(), try Self.freePort())
        let directory = NSTemporaryDirectory() + "haproxy-client-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = """
            defaults
                mode http
                timeout connect 2s
                timeout client 10s
                timeout server 10s
            frontend v1
                bind 127.0.0.1:\(v1Port)
                default_backend v1
            backend v1
                server app 127.0.0.1:\(proxied) send-proxy source 127.0.0.1
            frontend v2
                bind 127.0.0.1:\(v2Port)
                default_backend v2
            backend v2
                option httpchk GET /health
                server app 127.0.0.1:\(proxied) send-proxy-v2 source 127.0.0.1 check inter 100ms

            """
        try configuration.write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
        let launched = try Launch.run(haproxy, ["-db", "-f", directory + "/haproxy.cfg"], newProcessGroup: true)
        defer {
            kill(launched.pid, SIGTERM)
            _ = Launch.waitForExit(launched.pid, timeoutMilliseconds: 5000)
            close(launched.stdout)
            close(launched.stderr)
        }
        XCTAssertTrue(ServerProcess.eventually { (try? TestClient(port: v2Port)) != nil }, "HAProxy listens")
        for port in [v1Port, v2Port] {
            let curl = try Launch.runToEnd("/usr/bin/curl", ["-s", "--interface", "127.0.0.2", "http://127.0.0.1:\(port)/example/client"])
            XCTAssertTrue(curl.stdout.hasPrefix("127.0.0.2 "), "through port \(port): \(curl.stdout) \(curl.stderr)")
        }
        XCTAssertTrue(ServerProcess.eventually { Self.acceptedHeaders(server) >= 4 },
                      "HAProxy's v2 health checks (LOCAL headers) are accepted too")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let lines = server.standardOutput().split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.hasPrefix("127.0.0.2 - - [") && $0.contains("/example/client") }.count, 2, "\(lines)")
        let checks = lines.filter { $0.contains("/health") }
        XCTAssertFalse(checks.isEmpty, "\(lines)")
        XCTAssertTrue(checks.allSatisfy { $0.hasPrefix("127.0.0.1 - - [") }, "a LOCAL header names no client: the peer stands")
    }

    /// The worker's count of accepted PROXY headers, from /metrics on the plain listener.
    private static func acceptedHeaders(_ server: ServerProcess) -> Int {
        let metrics = (try? TestClient(port: server.ports[0]).get("/metrics").body) ?? ""
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("prefork_worker_proxy_headers_total") && $0.contains("accepted") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
    }
}
