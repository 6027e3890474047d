// FileSendingCallsTests: how a file body leaves, seen with strace on the worker:
// the head goes with MSG_MORE and the file right after it by sendfile(2), so a
// small file leaves in the same packet as its head; and no sendfile call sends
// more than the bounded chunk (nginx's sendfile_max_chunk), so one fast client
// cannot hold the worker.
import Foundation
import Glibc
import TestSupport
import XCTest

final class FileSendingCallsTests: XCTestCase {
    func testTheHeadIsSentWithMsgMoreAndTheFileFollowsBySendfileInBoundedChunks() throws {
        let tree = try StaticTree()
        try tree.file("small.css", "body{}\n")
        let big = tree.root + "/big.bin"
        let fd = open(big, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        XCTAssertEqual(ftruncate(fd, off_t(8 << 20)), 0)
        close(fd)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root])
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 1 }, "the worker started")
        let worker = try XCTUnwrap(server.workerPIDs().first)
        let client = try TestClient(port: server.port)
        guard let trace = Strace(pid: worker, calls: "sendto,sendfile,write,writev") else {
            throw XCTSkip("strace is needed to see the worker's calls (apt-get install strace)")
        }
        XCTAssertEqual(try client.get("/small.css").body, "body{}\n")
        try client.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        var reader = RawReader(fd: client.fd)
        _ = try reader.readHead()
        XCTAssertEqual(try reader.read(exactly: 8 << 20).count, 8 << 20)
        let calls = trace.finish()
        let head = try XCTUnwrap(calls.firstIndex { $0.contains("HTTP/1.1 200 OK") }, "\(calls)")
        XCTAssertTrue(calls[head].contains("MSG_MORE"), calls[head])
        XCTAssertTrue(calls[head + 1].contains("sendfile("), "the file follows the head at once: \(calls)")
        XCTAssertTrue(calls[head + 1].hasSuffix("= 7"), "the whole small file in one call: \(calls[head + 1])")
        // sendfile(out, in, [offset] => [offset'], count) = sent: the count asked for.
        let counts = calls.compactMap { line -> Int? in
            guard let match = line.firstMatch(of: /sendfile\(\d+, \d+, \[\d+\](?: => \[\d+\])?, (\d+)\)/) else { return nil }
            return Int(match.1)
        }
        XCTAssertGreaterThanOrEqual(counts.count, 9, "the small file in one call, the 8 MiB in at least 8: \(calls)")
        XCTAssertLessThanOrEqual(counts.max() ?? 0, 1 << 20, "no call asks for more than the chunk: \(counts)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
