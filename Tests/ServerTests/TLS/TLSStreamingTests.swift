// TLSStreamingTests: a request body streamed to its handler over TLS, paused
// while the handler is behind and resumed when it catches up, in both trigger
// modes. Over TLS the tail of the body can sit in OpenSSL's read-ahead buffer,
// where epoll cannot see it: resuming must read it without waiting for an
// event that will never come (the client has sent everything and waits).
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSStreamingTests: XCTestCase {
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
}
