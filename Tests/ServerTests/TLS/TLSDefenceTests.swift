// TLSDefenceTests: what an operator's mistakes and a hostile client get. An
// expired or mismatched certificate, a key every user can read, TLS on a
// blocking model, a listener without certificates: one line and a non-zero exit
// before anything listens. A handshake that never finishes is cut at the header
// timeout and counted; garbage instead of a ClientHello closes with only a counter rising.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSDefenceTests: XCTestCase {
    nonisolated(unsafe) private static var certificates: TestCertificates?

    override class func setUp() { certificates = try? TestCertificates() }
    override class func tearDown() { certificates = nil }

    private var pki: TestCertificates {
        get throws {
            try TestCertificates.requireTools()
            guard let certificates = Self.certificates else { throw LaunchError("the test PKI could not be made") }
            return certificates
        }
    }

    /// Runs the server, expects it to fail before listening, returns its one line of stderr.
    private func refusal(_ arguments: [String]) throws -> String {
        let result = try Launch.runToEnd(ServerProcess.executablePath, arguments)
        XCTAssertNotEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, "\(arguments) fails")
        XCTAssertEqual(result.stdout, "", "\(arguments): nothing listens")
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): one line: \(result.stderr)")
        return result.stderr
    }

    func testUnusableCertificatesAndKeysAreRefusedAtStartInOneLine() throws {
        let pki = try pki
        let good = try pki.leaf("good")
        let other = try pki.leaf("other", key: .rsa)
        let expired = try pki.leaf("expired", expired: true)
        let tls = ["--listen", "127.0.0.1:0,tls"]
        XCTAssertTrue(try refusal(tls + expired.flags).contains("expired on 2020-01-02 00:00:00 UTC"))
        let mismatched = try refusal(tls + ["--tls-certificate", good.certificate, "--tls-key", other.key])
        XCTAssertTrue(mismatched.contains("does not match"), mismatched)
        let missing = try refusal(tls + ["--tls-certificate", pki.directory + "/none.pem", "--tls-key", good.key])
        XCTAssertTrue(missing.contains("none.pem"), missing)
        XCTAssertTrue(try refusal(tls).contains("needs --tls-certificate"))
        XCTAssertTrue(try refusal(["--listen", "127.0.0.1:0"] + good.flags).contains("needs a TLS listener"))
        XCTAssertTrue(try refusal(tls + good.flags + ["--tls-key", good.key]).contains("come in pairs"))
        for model in ["prefork", "serial", "thread-pool"] {
            let line = try refusal(tls + good.flags + ["--model", model])
            XCTAssertTrue(line.contains("applies only to the hybrid and reactor models"), line)
        }
    }

    func testAKeyEveryUserCanReadIsRefusedAndAGroupReadableOneAccepted() throws {
        let pki = try pki
        let pair = try pki.leaf("modes")
        let tls = ["--listen", "127.0.0.1:0,tls"] + pair.flags
        chmod(pair.key, 0o644)
        let line = try refusal(tls)
        XCTAssertTrue(line.contains("readable by every user (mode 644)"), line)
        chmod(pair.key, 0o640)
        let server = try ServerProcess(tls + ["--workers", "1"])
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// Workers running as --user cannot read a root-only key: the master loaded it before forking them.
    func testTheMasterReadsTheKeyBeforeWorkersDropPrivileges() throws {
        try XCTSkipUnless(getuid() == 0 && getpwnam("nobody") != nil, "needs root and the user nobody")
        let pki = try pki
        let pair = try pki.leaf("private")
        chmod(pair.key, 0o600)
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1", "--user", "nobody"] + pair.flags)
        let served = try TestCertificates.shellSucceeding(
            "curl -sS --cacert \(pki.authority) --resolve localhost:\(server.port):127.0.0.1 -o /dev/null -w '%{http_code}' "
                + "https://localhost:\(server.port)/")
        XCTAssertEqual(served, "200")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAHandshakeThatNeverFinishesIsCutAtTheHeaderTimeoutAndCounted() throws {
        let pki = try pki
        let pair = try pki.leaf("slow")
        let server = try ServerProcess(["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0,tls", "--workers", "1",
                                        "--header-timeout", "1"] + pair.flags)
        XCTAssertEqual(try Self.handshakeFailures(server.ports[0]), 0)
        let client = try TestClient(port: server.ports[1], timeoutSeconds: 10)
        // The start of a TLS record header (handshake, TLS 1.0 record version), and then nothing.
        try client.send([0x16, 0x03, 0x01])
        let start = Launch.now()
        XCTAssertTrue(client.serverClosesWhileDraining(), "the server closes the connection")
        let elapsed = Launch.now() - start
        XCTAssertGreaterThan(elapsed, 700, "not before the timeout")
        XCTAssertLessThan(elapsed, 5000, "at the timeout")
        XCTAssertTrue(ServerProcess.eventually { (try? Self.handshakeFailures(server.ports[0])) == 1 },
                      "the cut handshake counts in prefork_tls_handshake_failures_total")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testGarbageInsteadOfAClientHelloClosesAndCountsWithoutLogging() throws {
        let pki = try pki
        let pair = try pki.leaf("garbage")
        let server = try ServerProcess(["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0,tls", "--workers", "1"] + pair.flags)
        XCTAssertEqual(try Self.handshakeFailures(server.ports[0]), 0)
        let garbage: [[UInt8]] = [Array("GET / HTTP/1.1\r\nHost: t\r\n\r\n".utf8), [UInt8](repeating: 0, count: 300),
                                  (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }]
        for bytes in garbage {
            let client = try TestClient(port: server.ports[1])
            try client.send(bytes)
            XCTAssertTrue(client.serverClosesWhileDraining(), "closed")
        }
        XCTAssertTrue(ServerProcess.eventually { (try? Self.handshakeFailures(server.ports[0])) == 3 })
        // A good client still gets served.
        let served = try TestCertificates.shellSucceeding(
            "curl -sS --cacert \(pki.authority) --resolve localhost:\(server.ports[1]):127.0.0.1 -o /dev/null -w '%{http_code}' "
                + "https://localhost:\(server.ports[1])/")
        XCTAssertEqual(served, "200")
        let errors = server.standardError().split(separator: "\n").filter { !$0.contains(" info ") }
        XCTAssertEqual(errors, [], "nothing but startup lines logged")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// prefork_tls_handshake_failures_total, read from /metrics on the plain listener.
    private static func handshakeFailures(_ plainPort: Int) throws -> Int {
        let body = try TestClient(port: plainPort).get("/metrics").body
        guard let line = body.split(separator: "\n").first(where: { $0.hasPrefix("prefork_tls_handshake_failures_total ") }),
              let value = Int(line.split(separator: " ").last ?? "") else {
            throw LaunchError("no prefork_tls_handshake_failures_total in /metrics")
        }
        return value
    }
}
