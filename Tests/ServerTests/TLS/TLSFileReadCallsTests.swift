// TLSFileReadCallsTests: how a file body is read and sent when it goes over TLS
// without kernel TLS, seen with strace on the worker: each pread(2) takes four
// records' worth (just under 64 KiB), not one (16 KiB), and the four records
// leave in one send(2), not one write(2) each, so a 2 MiB body costs about 40
// reads and 40 sends (five per 256 KiB send chunk) instead of 129 and 129
// (nginx: 64 reads of 32 KiB, 129 writes), and it still arrives intact, over
// TLS 1.3 and 1.2.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSFileReadCallsTests: XCTestCase {
    func testAFileBodyOverTLSIsReadAndSentFourRecordsAtATime() throws {
        try TestCertificates.requireTools()
        let pki = try TestCertificates()
        let pair = try pki.leaf("reads")
        let root = pki.directory + "/root"
        let size = 2 << 20
        try TestCertificates.shellSucceeding("mkdir -p \(root) && head -c \(size) /dev/urandom > \(root)/big.bin")
        let expected = try TestCertificates.shellSucceeding("sha256sum < \(root)/big.bin")
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1", "--root", root] + pair.flags)
        try XCTSkipUnless(server.startupLine.contains("by pread and SSL_write"),
                          "kernel TLS sends file bodies by SSL_sendfile here: no pread to count")
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let trace = try Strace.required(pid: worker, calls: "pread64,write,sendto")
        let received = try TestCertificates.shellSucceeding(
            "curl -sS --http1.1 --cacert \(pki.authority) --resolve localhost:\(server.port):127.0.0.1 "
                + "https://localhost:\(server.port)/big.bin | sha256sum")
        XCTAssertEqual(received, expected)
        let calls = trace.finish()
        // TLS 1.2's records carry 29 bytes of overhead each (an explicit nonce, RFC 5288 §3): they fit too.
        let overTLS12 = try TestCertificates.shellSucceeding(
            "curl -sS --http1.1 --tls-max 1.2 --cacert \(pki.authority) --resolve localhost:\(server.port):127.0.0.1 "
                + "https://localhost:\(server.port)/big.bin | sha256sum")
        XCTAssertEqual(overTLS12, expected, "TLS 1.2")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        // pread64(fd, "..."..., count, offset) = read: the count asked for and what came.
        let reads = calls.compactMap { line -> (asked: Int, got: Int)? in
            guard let match = line.firstMatch(of: /pread64\(\d+, .*, (\d+), \d+\) += (\d+)$/) else { return nil }
            return (Int(match.1)!, Int(match.2)!)
        }
        // strace may not have written the last lines when curl has its bytes: most of the body is enough.
        XCTAssertGreaterThanOrEqual(reads.map(\.got).reduce(0, +), size - (256 << 10), "the body was read: \(calls.count) calls")
        XCTAssertGreaterThan(reads.map(\.asked).max() ?? 0, 3 * (16 << 10), "a read asks for four records: \(reads)")
        // 8 chunks of 256 KiB take 5 reads each (4 of 64 KiB - 256, then the rest); a
        // full socket costs a read again. One read per record would be 128 at least.
        XCTAssertLessThan(reads.count, 64, "fewer reads than at 32 KiB each: \(reads)")
        // write(fd, ...) = sent or sendto(fd, ..., flags, NULL, 0) = sent (after the pid, with -f): the body's calls carry more than a record.
        let sends = calls.compactMap { line -> Int? in
            guard line.contains("write(") || line.contains("sendto("), let match = line.firstMatch(of: /\) += (\d+)$/) else { return nil }
            return Int(match.1)
        }.filter { $0 > 1024 }
        XCTAssertGreaterThan(sends.max() ?? 0, 3 * (16 << 10), "four records in one call: \(sends)")
        XCTAssertLessThan(sends.count, 64, "a call per four records, not per record (128 at least): \(sends)")
    }
}
