// TLSReadCallsTests: a request on a keep-alive HTTPS connection costs the worker
// one read(2), seen with strace: the socket reader (CTLS) notes that OpenSSL's
// read came back short, so the session stops there instead of reading again
// only to meet EAGAIN (nginx makes that second read: two per request).
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSReadCallsTests: XCTestCase {
    func testAKeepAliveRequestOverTLSIsOneReadWithoutAnotherThatMeetsEAGAIN() throws {
        try TestCertificates.requireTools()
        let pki = try TestCertificates()
        let pair = try pki.leaf("reads")
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1"] + pair.flags)
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let trace = try Strace.required(pid: worker, calls: "read")
        let requests = 20
        let url = "https://localhost:\(server.port)/"
        // One curl, one connection: each request is sent once the previous answer is in.
        let answers = try TestCertificates.shellSucceeding(
            "curl -sS --http1.1 --cacert \(pki.authority) --resolve localhost:\(server.port):127.0.0.1 "
                + String(repeating: url + " ", count: requests) + "-w '%{http_code} %{num_connects}\\n' -o /dev/null")
        XCTAssertEqual(answers.split(separator: "\n").filter { $0 == "200 1" || $0 == "200 0" }.count, requests, answers)
        XCTAssertEqual(answers.split(separator: "\n").filter { $0.hasSuffix(" 1") }.count, 1, "one connection: \(answers)")
        let calls = trace.finish()
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        // read(fd, "..."..., asked) = got, or = -1 EAGAIN (Resource temporarily unavailable).
        let reads = calls.filter { $0.contains("read(") }
        let withBytes = reads.filter { $0.firstMatch(of: /\) += [1-9]\d*$/) != nil }
        let eagain = reads.filter { $0.contains("EAGAIN") }
        // strace may miss the last lines: most of the requests are enough.
        XCTAssertGreaterThanOrEqual(withBytes.count, requests - 2, "a read per request: \(reads)")
        // The handshake meets EAGAIN a few times (its flights); two reads per request would be 20 more.
        XCTAssertLessThan(eagain.count, requests / 2, "no second read per request: \(reads)")
    }
}
