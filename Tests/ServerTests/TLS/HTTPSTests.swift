// HTTPSTests: real clients (curl, openssl s_client) against the real binary
// on `--listen 127.0.0.1:0,tls`, with certificates from a throwaway CA: GETs
// over one kept-alive connection and pipelined, both key types, both trigger
// modes, both event-loop models, SNI, ALPN, the protocol and cipher floor, a
// static file, a plain listener beside a TLS one, a streamed upload paused and
// resumed, IPv6.
import Foundation
import Glibc
import TestSupport
import XCTest

final class HTTPSTests: XCTestCase {
    nonisolated(unsafe) private static var certificates: TestCertificates?
    nonisolated(unsafe) private static var ecdsa: TestCertificates.Pair!
    nonisolated(unsafe) private static var rsa: TestCertificates.Pair!

    override class func setUp() {
        guard let made = try? TestCertificates() else { return }
        certificates = made
        ecdsa = try? made.leaf("ecdsa")
        rsa = try? made.leaf("rsa", key: .rsa)
    }

    override class func tearDown() { certificates = nil }

    private var pki: TestCertificates {
        get throws {
            try TestCertificates.requireTools()
            guard let certificates = Self.certificates, Self.ecdsa != nil, Self.rsa != nil else {
                throw LaunchError("the test PKI could not be made with the openssl command")
            }
            return certificates
        }
    }

    private func tlsServer(_ pair: TestCertificates.Pair, _ flags: [String] = [], host: String = "127.0.0.1") throws -> ServerProcess {
        let address = host.contains(":") ? "[\(host)]" : host
        let workers = flags.contains("--model") ? [] : ["--workers", "1"]
        return try ServerProcess(["--listen", "\(address):0,tls"] + pair.flags + workers + flags)
    }

    /// curl with the test CA, the name `localhost` resolved to the server: prints status and connects per URL.
    private func curl(_ port: Int, _ paths: [String], name: String = "localhost", extra: String = "") throws -> String {
        let urls = paths.map { "-o /dev/null https://\(name):\(port)\($0)" }.joined(separator: " ")
        return try TestCertificates.shellSucceeding(
            "curl -sS --http1.1 --cacert \(try pki.authority) --resolve \(name):\(port):127.0.0.1 \(extra) "
                + "-w '%{http_code} %{num_connects}\\n' \(urls)")
    }

    func testCurlGetsOverOneKeptAliveConnectionWithEitherKeyInEitherTriggerModeAndModel() throws {
        _ = try pki
        for pair in [Self.ecdsa!, Self.rsa!] {
            for flags in [[], ["--edge-triggered"], ["--model", "reactor"]] {
                let server = try tlsServer(pair, flags)
                // The second GET reuses the first's connection: no new connect.
                XCTAssertEqual(try curl(server.port, ["/", "/"]), "200 1\n200 0\n", "\(pair.key) \(flags)")
                XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
            }
        }
    }

    func testPipelinedRequestsAreAnsweredInOrderThroughSClient() throws {
        let pki = try pki
        for flags in [[], ["--edge-triggered"]] {
            let server = try tlsServer(Self.ecdsa, flags)
            let requests = String(repeating: "GET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n", count: 15)
                + "GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n"
            let output = try TestCertificates.shellSucceeding(
                "printf '\(requests)' | openssl s_client -quiet -CAfile \(pki.authority) -verify_return_error "
                    + "-servername localhost -connect 127.0.0.1:\(server.port) 2>/dev/null")
            XCTAssertEqual(output.components(separatedBy: "HTTP/1.1 200").count - 1, 16, "\(flags): \(output.prefix(300))")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testTheClientsServerNameChoosesTheCertificate() throws {
        let pki = try pki
        let first = try pki.leaf("first", names: ["first.test"])
        let second = try pki.leaf("second", names: ["second.test", "*.second.test"], key: .rsa)
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1"] + first.flags + second.flags)
        func subject(_ serverName: String?) throws -> String {
            let name = serverName.map { "-servername \($0)" } ?? "-noservername"
            let output = try TestCertificates.shell(
                "openssl s_client -connect 127.0.0.1:\(server.port) \(name) -CAfile \(pki.authority) </dev/null 2>/dev/null").stdout
            return output.split(separator: "\n").first { $0.hasPrefix("subject=") }.map(String.init) ?? output
        }
        XCTAssertEqual(try subject("second.test"), "subject=CN = second.test")
        XCTAssertEqual(try subject("www.second.test"), "subject=CN = second.test", "a wildcard name")
        XCTAssertEqual(try subject("first.test"), "subject=CN = first.test")
        XCTAssertEqual(try subject("unknown.test"), "subject=CN = first.test", "an unknown name gets the default")
        XCTAssertEqual(try subject(nil), "subject=CN = first.test", "no name gets the default")
        XCTAssertEqual(try curl(server.port, ["/"], name: "second.test"), "200 1\n")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testALPNSelectsHTTP11AndRefusesOnlyOtherProtocols() throws {
        let pki = try pki
        let server = try tlsServer(Self.ecdsa)
        let connect = "openssl s_client -connect 127.0.0.1:\(server.port) -servername localhost -CAfile \(pki.authority)"
        let offered = try TestCertificates.shell("\(connect) -alpn h2,http/1.1 </dev/null 2>&1")
        XCTAssertTrue(offered.stdout.contains("ALPN protocol: http/1.1"), offered.stdout)
        let onlyH2 = try TestCertificates.shell("\(connect) -alpn h2 </dev/null 2>&1")
        XCTAssertNotEqual(onlyH2.status, 0)
        XCTAssertTrue(onlyH2.stdout.contains("no application protocol"), onlyH2.stdout)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testTLS10And11AndWeakCiphersAreRefused() throws {
        let pki = try pki
        let server = try tlsServer(Self.rsa)
        func connects(_ options: String) throws -> Bool {
            try TestCertificates.shell("openssl s_client -brief -connect 127.0.0.1:\(server.port) -servername localhost "
                + "-CAfile \(pki.authority) \(options) </dev/null 2>&1").stdout.contains("CONNECTION ESTABLISHED")
        }
        XCTAssertTrue(try connects("-tls1_3"))
        XCTAssertTrue(try connects("-tls1_2"))
        XCTAssertTrue(try connects("-tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305"))
        // The client's own floor is lowered, so the refusal is the server's.
        XCTAssertFalse(try connects("-tls1 -cipher DEFAULT@SECLEVEL=0"))
        XCTAssertFalse(try connects("-tls1_1 -cipher DEFAULT@SECLEVEL=0"))
        for weak in ["AES128-SHA", "ECDHE-RSA-AES128-SHA", "DES-CBC3-SHA@SECLEVEL=0", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA256"] {
            XCTAssertFalse(try connects("-tls1_2 -cipher \(weak)"), weak)
        }
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAStaticFileArrivesWholeOverTLSInEitherTriggerMode() throws {
        let pki = try pki
        let root = pki.directory + "/root"
        try TestCertificates.shellSucceeding("mkdir -p \(root) && head -c 3000000 /dev/urandom > \(root)/big.bin")
        let expected = try TestCertificates.shellSucceeding("sha256sum < \(root)/big.bin")
        for flags in [[], ["--edge-triggered"]] {
            let server = try tlsServer(Self.ecdsa, ["--root", root] + flags)
            let received = try TestCertificates.shellSucceeding(
                "curl -sS --http1.1 --cacert \(pki.authority) --resolve localhost:\(server.port):127.0.0.1 "
                    + "https://localhost:\(server.port)/big.bin | sha256sum")
            XCTAssertEqual(received, expected, "\(flags)")
            // A limited reader makes the server meet a full socket (SSL_ERROR_WANT_WRITE) many times.
            let slow = try TestCertificates.shellSucceeding(
                "curl -sS --http1.1 --limit-rate 4M --cacert \(pki.authority) --resolve localhost:\(server.port):127.0.0.1 "
                    + "https://localhost:\(server.port)/big.bin | sha256sum")
            XCTAssertEqual(slow, expected, "\(flags), rate-limited")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testAPlainAndATLSListenerServeSideBySide() throws {
        _ = try pki
        let server = try ServerProcess(["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0,tls", "--workers", "2"] + Self.ecdsa.flags)
        XCTAssertEqual(server.ports.count, 2, server.startupLine)
        XCTAssertTrue(server.startupLine.contains(", 127.0.0.1:\(server.ports[1]) tls ("), server.startupLine)
        XCTAssertTrue(server.startupLine.contains(", TLS file bodies by "), server.startupLine)
        XCTAssertEqual(try TestClient(port: server.ports[0]).get("/").status, 200)
        XCTAssertEqual(try curl(server.ports[1], ["/", "/"]), "200 1\n200 0\n")
        let plainOnTLS = try TestCertificates.shell("curl -sS http://127.0.0.1:\(server.ports[1])/ -o /dev/null -w '%{http_code}'")
        XCTAssertNotEqual(plainOnTLS.stdout, "200", "plain HTTP is not answered on the TLS listener")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// The ticket keys are the master's (made before fork), so a session a worker began resumes on
    /// another: with --reuseport the kernel spreads the connections, and a few tries reach both.
    func testASessionResumesOnAnotherWorker() throws {
        let pki = try pki
        let server = try tlsServer(Self.ecdsa, ["--workers", "2", "--reuseport"])
        let session = pki.directory + "/session-\(server.port).pem"
        func get(_ sessionFlag: String) throws -> (pid: String, reused: Bool) {
            let output = try TestCertificates.shell(
                "printf 'GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n' | openssl s_client -ign_eof "
                    + "-connect 127.0.0.1:\(server.port) -servername localhost -CAfile \(pki.authority) \(sessionFlag) 2>/dev/null").stdout
            let pid = output.split(whereSeparator: \.isNewline).first { $0.hasPrefix("pid ") }.map(String.init) ?? "none"
            return (pid, output.contains("Reused, TLSv1.3"))
        }
        let first = try get("-sess_out \(session)")
        XCTAssertNotEqual(first.pid, "none")
        var resumedElsewhere = false
        for _ in 0..<30 where !resumedElsewhere {
            let next = try get("-sess_in \(session)")
            XCTAssertTrue(next.reused, "the session resumes on \(next.pid)")
            resumedElsewhere = next.reused && next.pid != first.pid
        }
        XCTAssertTrue(resumedElsewhere, "a resumption landed on the worker that did not issue the ticket")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// RFC 8446 §C.4: a TLS 1.3 client should not use a ticket twice, so every resumption must
    /// leave it a fresh one; without it a client that keeps only its last session (wrk does) pays
    /// a full handshake on every other connection. Each link of the chain resumes with the ticket
    /// the previous connection left.
    func testEveryTLS13ResumptionLeavesTheClientAFreshTicket() throws {
        let pki = try pki
        let server = try tlsServer(Self.ecdsa)
        let base = pki.directory + "/chain-\(server.port)"
        func connect(_ flags: String) throws -> Bool {
            try TestCertificates.shell(
                "printf 'GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n' | openssl s_client -ign_eof "
                    + "-connect 127.0.0.1:\(server.port) -servername localhost -CAfile \(pki.authority) \(flags) 2>/dev/null"
            ).stdout.contains("Reused, TLSv1.3")
        }
        func ticket(_ link: Int) throws -> String {
            let text = try TestCertificates.shellSucceeding("openssl sess_id -in \(base)-\(link).pem -noout -text")
            return String(text.split(separator: "TLS session ticket:").last ?? "")
        }
        XCTAssertFalse(try connect("-sess_out \(base)-0.pem"), "the first connection is a full handshake")
        for link in 1...3 {
            XCTAssertTrue(try connect("-sess_in \(base)-\(link - 1).pem -sess_out \(base)-\(link).pem"), "link \(link) resumes")
            XCTAssertNotEqual(try ticket(link), try ticket(link - 1), "link \(link) left a new ticket")
        }
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// OpenSSL reads a close_notify that arrives with the last request along with it; in
    /// edge-triggered mode epoll will not report it again, so the session must say an end is pending.
    func testACloseNotifyArrivingWithTheLastRequestEndsTheConnectionAtOnce() throws {
        let pki = try pki
        let client = pki.directory + "/close_notify_client.py"
        try Self.closeNotifyClient.write(toFile: client, atomically: true, encoding: .utf8)
        for flags in [[], ["--edge-triggered"]] {
            let server = try tlsServer(Self.ecdsa, ["--keepalive-timeout", "30"] + flags)
            let seconds = try TestCertificates.shellSucceeding("python3 \(client) \(server.port) \(pki.authority)")
            XCTAssertLessThan(Double(seconds.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 99, 5, "\(flags): closed at once")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    /// A streamed request body paused while its handler is behind and resumed when it catches up,
    /// in both trigger modes: over TLS the tail of the body can sit in OpenSSL's read-ahead buffer,
    /// where epoll cannot see it, so resuming must read it without waiting for an event.
    func testAPausedUploadOverTLSResumesAndCompletesInEitherTriggerMode() throws {
        let pki = try pki
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/ss"), "/usr/bin/ss is missing: apt-get install iproute2")
        let pair = try pki.leaf("upload")
        let body = pki.directory + "/upload-body"
        try TestCertificates.shellSucceeding("head -c 1000000 /dev/zero > \(body)")
        for mode in [[], ["--edge-triggered"]] {
            let server = try ServerProcess(["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0,tls", "--workers", "1"] + pair.flags + mode,
                                           executable: "example-server")
            let (plain, tls) = (server.ports[0], server.ports[1])
            let answer = pki.directory + "/upload-answer\(mode.count)"
            // /stream/held takes one chunk, then waits for /stream/release: the worker stops reading.
            try TestCertificates.shellSucceeding(
                "curl -sS --http1.1 --max-time 20 --cacert \(pki.authority) --resolve localhost:\(tls):127.0.0.1 "
                    + "--data-binary @\(body) https://localhost:\(tls)/stream/held > \(answer) 2>&1 &")
            XCTAssertTrue(ServerProcess.eventually { Self.unreadBytes(onServerPort: tls) > 0 },
                          "\(mode): the worker stops reading while the handler is behind")
            XCTAssertEqual(try TestClient(port: plain).get("/stream/release").status, 200)
            XCTAssertTrue(ServerProcess.eventually { (try? String(contentsOfFile: answer, encoding: .utf8)) == "1000000 bytes\n" },
                          "\(mode): the whole body reached the handler: \((try? String(contentsOfFile: answer, encoding: .utf8)) ?? "")")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    /// The largest receive queue of the server's established connections on `port` (ss(8)).
    private static func unreadBytes(onServerPort port: Int) -> Int {
        let output = (try? TestCertificates.shell("ss -Htn state established '( sport = :\(port) )'").stdout) ?? ""
        return output.split(separator: "\n").compactMap { line in line.split(separator: " ").first.flatMap { Int($0) } }.max() ?? 0
    }

    func testIPv6TLSListener() throws {
        let pki = try pki
        try XCTSkipUnless(TestCertificates.ipv6LoopbackAvailable, "no IPv6 loopback (::1) on this machine")
        let server = try tlsServer(Self.ecdsa, host: "::1")
        let output = try TestCertificates.shellSucceeding(
            "curl -sS -g --cacert \(pki.authority) -o /dev/null -w '%{http_code}' 'https://[::1]:\(server.port)/'")
        XCTAssertEqual(output, "200")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}

extension HTTPSTests {
    static let closeNotifyClient = TestCertificates.memoryBIOHandshake + #"""
# A TLS client that sends its request and its close_notify alert in one TCP
# segment, then reads until the server closes: prints the seconds that took.
# Used by HTTPSTests (the server must see the end that OpenSSL read along with the request).
import time

port, authority = int(sys.argv[1]), sys.argv[2]
connection, session, incoming, outgoing = handshake(ssl.create_default_context(cafile=authority), port)
connection.sendall(outgoing.read())
session.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
try:
    session.unwrap()
except ssl.SSLWantReadError:
    pass
start = time.monotonic()
connection.sendall(outgoing.read())
while connection.recv(65536):
    pass
print(f"{time.monotonic() - start:.1f}")
"""#
}

extension TestCertificates {
    /// Whether the loopback interface has ::1 (ipv6(7): /proc/net/if_inet6 lists each address).
    static var ipv6LoopbackAvailable: Bool {
        let addresses = (try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8)) ?? ""
        return addresses.split(separator: "\n").contains { $0.hasPrefix("00000000000000000000000000000001") }
    }
}
