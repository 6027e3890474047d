// KernelTLSTests: which way file bodies go over TLS, by what the kernel offers.
// Without the `tls` upper-layer protocol (tls(7)) they are read with pread and
// encrypted by SSL_write; with it, the kernel encrypts the records and
// SSL_sendfile sends the file. Either way a 3 MB file arrives intact (hash),
// read fast and rate-limited (the server meets a full socket many times), and
// /metrics names the path in prefork_tls_file_body_path; a server without a
// TLS listener shows no such family. The kernel path's test runs only where
// the kernel has (or `modprobe tls` gives it) the `tls` ULP.
import Foundation
import Glibc
import TestSupport
import XCTest

final class KernelTLSTests: XCTestCase {
    func testWithoutKernelTLSFileBodiesGoByPreadAndSSLWriteAndArriveIntact() throws {
        try XCTSkipIf(Self.kernelOffersTLS, "the kernel has the tls ULP: testWithKernelTLS... covers this machine")
        try checkFileBodies(path: "pread_ssl_write", startup: "TLS file bodies by pread and SSL_write (kernel TLS unavailable)")
    }

    func testWithKernelTLSFileBodiesGoBySSLSendfileAndArriveIntact() throws {
        // Loading the module is what an operator would do; it fails harmlessly without modprobe or the right.
        _ = try? TestCertificates.shell("command -v modprobe >/dev/null && modprobe tls")
        try XCTSkipUnless(Self.kernelOffersTLS,
                          "the kernel lacks the tls ULP (no `tls` in /proc/sys/net/ipv4/tcp_available_ulp, even after trying modprobe tls): expected on a kernel without it")
        try checkFileBodies(path: "ktls_sendfile", startup: "TLS file bodies by kernel TLS and SSL_sendfile")
    }

    func testAServerWithoutATLSListenerShowsNoTLSFileBodyPath() throws {
        let server = try ServerProcess(["--workers", "1"])
        XCTAssertFalse(server.startupLine.contains("TLS file bodies"), server.startupLine)
        XCTAssertFalse(try TestClient(port: server.port).get("/metrics").body.contains("tls_file_body_path"))
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// `tls` is listed in tcp_available_ulp, as the server itself checks.
    private static var kernelOffersTLS: Bool {
        let modules = (try? String(contentsOfFile: "/proc/sys/net/ipv4/tcp_available_ulp", encoding: .utf8)) ?? ""
        return modules.split(whereSeparator: \.isWhitespace).contains("tls")
    }

    /// A plain listener (for /metrics) beside a TLS one serving a 3 MB random file.
    private func checkFileBodies(path: String, startup: String) throws {
        try TestCertificates.requireTools()
        let pki = try TestCertificates()
        let pair = try pki.leaf("ktls")
        let root = pki.directory + "/root"
        try TestCertificates.shellSucceeding("mkdir -p \(root) && head -c 3000000 /dev/urandom > \(root)/big.bin")
        let expected = try TestCertificates.shellSucceeding("sha256sum < \(root)/big.bin")
        let server = try ServerProcess(["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0,tls", "--workers", "1",
                                        "--root", root] + pair.flags)
        XCTAssertTrue(server.startupLine.contains(startup), server.startupLine)
        let metrics = try TestClient(port: server.ports[0]).get("/metrics").body
        let series = metrics.split(separator: "\n").filter { $0.hasPrefix("prefork_tls_file_body_path{") }
        XCTAssertEqual(series.sorted(), [
            "prefork_tls_file_body_path{path=\"ktls_sendfile\"} \(path == "ktls_sendfile" ? 1 : 0)",
            "prefork_tls_file_body_path{path=\"pread_ssl_write\"} \(path == "pread_ssl_write" ? 1 : 0)",
        ], metrics)
        let curl = "curl -sS --http1.1 --cacert \(pki.authority) --resolve localhost:\(server.ports[1]):127.0.0.1"
        let url = "https://localhost:\(server.ports[1])/big.bin"
        XCTAssertEqual(try TestCertificates.shellSucceeding("\(curl) \(url) | sha256sum"), expected)
        // Twice on one connection (the second file's head follows the first's body), rate-limited.
        let twice = try TestCertificates.shellSucceeding("\(curl) --limit-rate 8M \(url) \(url) | sha256sum")
        XCTAssertEqual(twice, try TestCertificates.shellSucceeding("cat \(root)/big.bin \(root)/big.bin | sha256sum"), "rate-limited")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
