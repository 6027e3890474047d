// TLSReloadTests: HUP re-reads the certificate and key files before the
// rolling restart forks fresh workers, which serve the new certificate; a file
// that no longer loads keeps the running one serving, with one error line.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSReloadTests: XCTestCase {
    func testHUPServesTheRenewedCertificateAndKeepsTheOldOneWhenTheNewFileIsBad() throws {
        let pki = try TestCertificates()
        let one = try pki.leaf("one", names: ["one.test"])
        let two = try pki.leaf("two", names: ["two.test"], key: .rsa)
        let live = TestCertificates.Pair(certificate: pki.directory + "/live.pem", key: pki.directory + "/live.key")
        func install(_ pair: TestCertificates.Pair) throws {
            try TestCertificates.shellSucceeding("cp \(pair.certificate) \(live.certificate) && cp \(pair.key) \(live.key)")
        }
        try install(one)
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "2"] + live.flags)
        func subject() throws -> String {
            let output = try TestCertificates.shell("openssl s_client -connect 127.0.0.1:\(server.port) -noservername "
                + "-CAfile \(pki.authority) </dev/null 2>/dev/null").stdout
            return output.split(separator: "\n").first { $0.hasPrefix("subject=") }.map(String.init) ?? output
        }
        XCTAssertEqual(try subject(), "subject=CN = one.test")

        try install(two)
        kill(server.pid, SIGHUP)
        XCTAssertTrue(ServerProcess.eventually { (try? subject()) == "subject=CN = two.test" }, "the fresh workers serve the renewed file")

        try TestCertificates.shellSucceeding("echo 'not a certificate' > \(live.certificate)")
        kill(server.pid, SIGHUP)
        var log = ""
        XCTAssertTrue(ServerProcess.eventually {
            log += server.standardError()
            return log.contains("TLS certificates not reloaded")
        })
        XCTAssertEqual(log.split(separator: "\n").filter { $0.contains(" error ") }.count, 1, log)
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
        XCTAssertEqual(try subject(), "subject=CN = two.test", "the previous certificate still serves")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
