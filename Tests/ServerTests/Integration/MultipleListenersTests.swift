// Several --listen listeners on the real binary: a plain and a proxy-protocol
// one side by side, with a shared socket per listener and with one
// SO_REUSEPORT socket per listener per worker (TTIN adds one to each), on
// IPv6, through a binary upgrade (USR2 hands over every listener, each still
// speaking its own way), and from socket activation (inherited sockets
// matched to listeners by address, whatever their order).
import Foundation
import Glibc
import TestSupport
import XCTest

final class MultipleListenersTests: XCTestCase {
    private static let modes: [(name: String, flags: [String])] = [("shared listeners", []), ("reuseport", ["--reuseport"])]

    private static func twoListeners(host: String = "127.0.0.1", trusted: String = "127.0.0.1/32") -> [String] {
        let address = host.contains(":") ? "[\(host)]" : host
        return ["--listen", "\(address):0", "--listen", "\(address):0,proxy-protocol", "--trusted-proxy", trusted]
    }

    /// The plain listener answers plain HTTP; the proxy-protocol one only after a PROXY header.
    private func assertEachListenerSpeaksItsOwnWay(_ ports: [Int], host: String = "127.0.0.1", _ context: String,
                                                   file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(ports.count, 2, context, file: file, line: line)
        XCTAssertEqual(try TestClient(port: ports[0], host: host).get("/example/client").body, "- -\n", context, file: file, line: line)
        let plainOnProxied = try TestClient(port: ports[1], host: host)
        try plainOnProxied.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(ProxyProtocolTests.closedWithoutResponse(plainOnProxied), "\(context): no header, closed", file: file, line: line)
        let proxied = try TestClient(port: ports[1], host: host)
        try proxied.send(ProxyProtocolTests.v2([203, 0, 113, 77], 2222) + ProxyProtocolTests.clientRequest)
        XCTAssertEqual(try proxied.readResponse().body, "203.0.113.77 2222\n", context, file: file, line: line)
    }

    private static func listeningSockets(on port: Int) -> Int {
        TCPSocketRow.all().filter { $0.localPort == port && $0.state == TCPSocketRow.listening }.count
    }

    func testAPlainAndAProxyProtocolListenerServeSideBySideInEveryListenerMode() throws {
        for mode in Self.modes {
            let server = try ServerProcess(Self.twoListeners() + ["--workers", "2"] + mode.flags, executable: "example-server")
            XCTAssertTrue(server.startupLine.contains(",proxy-protocol") == false && server.startupLine.contains(" proxy-protocol"),
                          server.startupLine)
            try assertEachListenerSpeaksItsOwnWay(server.ports, mode.name)
            let perListener = mode.flags.isEmpty ? 1 : 2
            for port in server.ports {
                XCTAssertEqual(Self.listeningSockets(on: port), perListener, "\(mode.name): sockets on \(port)")
            }
            if !mode.flags.isEmpty {
                kill(server.pid, SIGTTIN)
                XCTAssertTrue(ServerProcess.eventually { server.ports.allSatisfy { Self.listeningSockets(on: $0) == 3 } },
                              "TTIN opens a socket for every listener")
                XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 3 })
                try assertEachListenerSpeaksItsOwnWay(server.ports, "\(mode.name) after TTIN")
            }
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0, mode.name)
        }
    }

    func testIPv6Listeners() throws {
        let probe = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        inet_pton(AF_INET6, "::1", &address.sin6_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
        close(probe)
        try XCTSkipUnless(bound, "no IPv6 loopback (::1) on this machine")
        let server = try ServerProcess(Self.twoListeners(host: "::1", trusted: "::1/128") + ["--workers", "1"],
                                       executable: "example-server")
        XCTAssertTrue(server.startupLine.hasPrefix("listening on [::1]:"), server.startupLine)
        try assertEachListenerSpeaksItsOwnWay(server.ports, host: "::1", "IPv6")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// nginx's `listen 80; listen [::]:80;`: the IPv6 wildcard takes IPv6 only, so both bind one port.
    func testIPv4AndIPv6WildcardListenersShareAPort() throws {
        let (fd, port) = try LifecycleTests.listeningSocket()
        close(fd)
        let server = try ServerProcess(["--listen", "0.0.0.0:\(port)", "--listen", "[::]:\(port)", "--workers", "1"])
        XCTAssertEqual(server.ports, [port, port], server.startupLine)
        XCTAssertEqual(try TestClient(port: port).get("/").status, 200)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testASingleListenerModelServesItsListen() throws {
        let server = try ServerProcess(["--model", "serial", "--listen", "127.0.0.1:0"])
        XCTAssertTrue(server.startupLine.hasPrefix("listening on 127.0.0.1:") && server.port != 8080, server.startupLine)
        XCTAssertEqual(try TestClient(port: server.port).get("/").status, 200, server.startupLine)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let refused = try Launch.runToEnd(ServerProcess.executable(named: "server"),
                                          ["--model", "serial", "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0"])
        XCTAssertTrue(refused.stderr.contains("apply only to the hybrid and reactor models"), refused.stderr)
    }

    func testUSR2HandsEveryListenerToTheNewMaster() throws {
        for mode in Self.modes {
            let directory = NSTemporaryDirectory() + "listeners-\(getpid())-\(mode.flags.count)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let pidFile = directory + "/server.pid"
            let server = try ServerProcess(Self.twoListeners() + ["--workers", "2", "--graceful-timeout", "3", "--pid-file", pidFile]
                                           + mode.flags, executable: "example-server")
            XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 }, "\(mode.name): workers started")
            let load = LoadClient(port: server.ports[0])
            load.waitForRequests(50)
            kill(server.pid, SIGUSR2)
            var newMaster: pid_t?
            XCTAssertTrue(ServerProcess.eventually {
                newMaster = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                return newMaster != nil && newMaster != server.pid
            }, "\(mode.name): the new master writes the pid file")
            defer { if let newMaster { kill(newMaster, SIGTERM) } }
            XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 10_000).flatMap(exitCode(ofWaitStatus:)), 0,
                           "\(mode.name): the old master exits by itself")
            load.waitForRequests(50)
            let report = load.stop()
            XCTAssertEqual(report.resets, 0, "\(mode.name): \(report)")
            XCTAssertEqual(report.failures, [], "\(mode.name): \(report)")
            try assertEachListenerSpeaksItsOwnWay(server.ports, "\(mode.name), after the upgrade")
            let perListener = mode.flags.isEmpty ? 1 : 2
            for port in server.ports {
                XCTAssertEqual(Self.listeningSockets(on: port), perListener, "\(mode.name): sockets on \(port) after the upgrade")
            }
        }
    }

    func testSocketActivationMatchesSocketsToListenersByAddress() throws {
        let (plain, plainPort) = try LifecycleTests.listeningSocket()
        let (proxied, proxiedPort) = try LifecycleTests.listeningSocket()
        defer { close(plain); close(proxied) }
        // Passed in the other order than the flags name them.
        let server = try ServerProcess(["--listen", "127.0.0.1:\(plainPort)", "--listen", "127.0.0.1:\(proxiedPort),proxy-protocol",
                                        "--trusted-proxy", "127.0.0.1/32", "--workers", "2"],
                                       executable: "example-server", activatedSockets: [proxied, plain])
        XCTAssertTrue(server.startupLine.contains("socket activation"), server.startupLine)
        XCTAssertEqual(server.ports, [plainPort, proxiedPort], server.startupLine)
        try assertEachListenerSpeaksItsOwnWay(server.ports, "socket activation")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testSocketActivationRefusesASocketNoListenerNames() throws {
        let (fd, port) = try LifecycleTests.listeningSocket()
        defer { close(fd) }
        XCTAssertThrowsError(try ServerProcess(["--listen", "127.0.0.1:\(port == 65535 ? 1 : port + 1)", "--workers", "1"],
                                               activatedSockets: [fd])) { error in
            XCTAssertTrue("\(error)".contains("which no --listen names"), "\(error)")
        }
    }
}
