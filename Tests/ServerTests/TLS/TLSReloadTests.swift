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
        let session = pki.directory + "/session.pem"
        func resumes(_ sessionFlag: String) throws -> Bool {
            try TestCertificates.shell("printf 'GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n' | "
                + "openssl s_client -ign_eof -connect 127.0.0.1:\(server.port) -noservername -CAfile \(pki.authority) "
                + "\(sessionFlag) 2>/dev/null").stdout.contains("Reused, TLSv1.3")
        }
        XCTAssertFalse(try resumes("-sess_out \(session)"))

        try install(two)
        kill(server.pid, SIGHUP)
        XCTAssertTrue(ServerProcess.eventually { (try? subject()) == "subject=CN = two.test" }, "the fresh workers serve the renewed file")
        XCTAssertTrue(try resumes("-sess_in \(session)"), "a ticket issued before the reload resumes after it (shared ticket keys)")

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

    /// USR2 execs a new master with the same flags: it loads the certificates itself and
    /// takes over the TLS listener's socket, which goes on speaking TLS.
    func testUSR2HandsTheTLSListenerToTheNewMaster() throws {
        let pki = try TestCertificates()
        let pair = try pki.leaf("upgrade")
        let pidFile = pki.directory + "/server.pid"
        let server = try ServerProcess(["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0,tls", "--workers", "2",
                                        "--graceful-timeout", "3", "--pid-file", pidFile] + pair.flags)
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
        let oldWorkers = server.workerPIDs()
        func get() throws -> String {
            try TestCertificates.shellSucceeding("curl -sS --cacert \(pki.authority) --resolve localhost:\(server.ports[1]):127.0.0.1 "
                + "https://localhost:\(server.ports[1])/")
        }
        XCTAssertTrue(try get().hasPrefix("pid "))
        kill(server.pid, SIGUSR2)
        var newMaster: pid_t?
        XCTAssertTrue(ServerProcess.eventually {
            newMaster = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return newMaster != nil && newMaster != server.pid
        }, "the new master writes the pid file")
        defer { if let newMaster { kill(newMaster, SIGTERM) } }
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 10_000).flatMap(exitCode(ofWaitStatus:)), 0, "the old master exits")
        let answer = try get()
        let servedBy = pid_t(answer.dropFirst(4).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertFalse(oldWorkers.contains(servedBy), "a new worker answers over TLS: \(answer)")
    }
}
