// TLSTicketKeyRotationTests: --tls-ticket-key-rotation. A session ticket issued
// under the current key still resumes after one rotation (the key is then the
// previous one) and costs a full handshake after two; the rotations are seen in
// prefork_tls_ticket_key_rotations_total, which the test waits on. A bad value
// is one line and a non-zero exit.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSTicketKeyRotationTests: XCTestCase {
    func testATicketResumesAfterOneRotationAndNotAfterTwo() throws {
        let pki = try TestCertificates()
        let pair = try pki.leaf("rotation")
        let server = try ServerProcess(["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0,tls", "--workers", "2",
                                        "--tls-ticket-key-rotation", "3"] + pair.flags)
        let session = pki.directory + "/session.pem"
        func rotations() -> Int? {
            let body = (try? TestClient(port: server.ports[0]).get("/metrics").body) ?? ""
            return body.split(separator: "\n").first { $0.hasPrefix("prefork_tls_ticket_key_rotations_total ") }
                .flatMap { Int($0.split(separator: " ").last ?? "") }
        }
        func resumes(_ sessionFlag: String) throws -> Bool {
            try TestCertificates.shell("printf 'GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n' | "
                + "openssl s_client -ign_eof -connect 127.0.0.1:\(server.ports[1]) -noservername -CAfile \(pki.authority) "
                + "\(sessionFlag) 2>/dev/null").stdout.contains("Reused, TLSv1.3")
        }
        /// Runs `body` with no rotation during it; returns its result and the rotation count it ran under.
        func withinOnePeriod<T>(_ body: () throws -> T) throws -> (T, Int) {
            for _ in 0..<5 {
                guard let before = rotations() else { continue }
                let result = try body()
                if rotations() == before { return (result, before) }
            }
            throw LaunchError("the keys rotated during every attempt")
        }

        let (issuedResumption, issued) = try withinOnePeriod { try resumes("-sess_out \(session)") }
        XCTAssertFalse(issuedResumption, "the first connection is a full handshake")
        XCTAssertTrue(ServerProcess.eventually { (rotations() ?? 0) >= issued + 1 }, "one rotation")
        let (afterOne, at) = try withinOnePeriod { try resumes("-sess_in \(session)") }
        XCTAssertEqual(at, issued + 1, "checked after exactly one rotation")
        XCTAssertTrue(afterOne, "a ticket of the previous key resumes")
        XCTAssertTrue(ServerProcess.eventually { (rotations() ?? 0) >= issued + 2 }, "a second rotation")
        XCTAssertFalse(try resumes("-sess_in \(session)"), "a ticket two rotations old costs a full handshake")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testABadRotationPeriodIsRefusedInOneLine() throws {
        let pki = try TestCertificates()
        let pair = try pki.leaf("badrotation")
        for value in ["0", "-5", "604801", "hour"] {
            let result = try Launch.runToEnd(ServerProcess.executablePath,
                                             ["--listen", "127.0.0.1:0,tls", "--tls-ticket-key-rotation", value] + pair.flags)
            XCTAssertNotEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, value)
            XCTAssertEqual(result.stdout, "", value)
            XCTAssertTrue(result.stderr.contains("--tls-ticket-key-rotation"), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)")
        }
    }
}
