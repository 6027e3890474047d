// FileSendingCallsTests: how a file body leaves, seen with strace on the worker:
// the head goes with MSG_MORE and the file right after it by sendfile(2), so a
// small file leaves in the same packet as its head; and no sendfile call sends
// more than the bounded chunk (nginx's sendfile_max_chunk, --sendfile-max-chunk),
// one call per loop turn, so one fast client cannot hold the worker.
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
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port)
        let trace = try Strace.required(pid: worker, calls: "sendto,sendfile,write,writev")
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
        // Counted by their starts: strace may detach before it prints the last call's end (`<detached ...>`).
        let started = calls.filter { $0.contains("sendfile(") }.count
        XCTAssertGreaterThanOrEqual(started, 33, "the small file in one call, the 8 MiB in at least 32: \(calls)")
        XCTAssertLessThanOrEqual(counts.max() ?? 0, 256 << 10, "no call asks for more than the default chunk, 256 KiB: \(counts)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// `--sendfile-max-chunk` bounds every call, and a connection gets one call per loop turn:
    /// between two epoll_wait calls of the worker there is at most one sendfile, even for a
    /// client that reads as fast as the worker sends (it used to get several, and a second
    /// share when an event for it arrived in the turn it was queued to be served again).
    func testEachLoopTurnSendsAtMostOneChunkOfTheFlagsSize() throws {
        let tree = try StaticTree()
        let big = tree.root + "/big.bin"
        let fd = open(big, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        XCTAssertEqual(ftruncate(fd, off_t(4 << 20)), 0)
        close(fd)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root,
                                        "--sendfile-max-chunk", "65536"])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port)
        let trace = try Strace.required(pid: worker, calls: "sendfile,epoll_wait")
        try client.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        var reader = RawReader(fd: client.fd)
        _ = try reader.readHead()
        XCTAssertEqual(try reader.read(exactly: 4 << 20).count, 4 << 20)
        let calls = trace.finish()
        let counts = calls.compactMap { line -> Int? in
            guard let match = line.firstMatch(of: /sendfile\(\d+, \d+, \[\d+\](?: => \[\d+\])?, (\d+)\)/) else { return nil }
            return Int(match.1)
        }
        // 64 calls at least; strace may not have written the last line when the client has its bytes.
        XCTAssertGreaterThanOrEqual(counts.count, 60, "4 MiB in calls of at most 64 KiB: \(calls.count) calls")
        XCTAssertLessThanOrEqual(counts.max() ?? 0, 65536, "no call asks for more than --sendfile-max-chunk: \(counts)")
        var sendfilesThisTurn = 0
        for line in calls {
            if line.contains("epoll_wait(") {
                sendfilesThisTurn = 0
            } else if line.contains("sendfile(") {
                sendfilesThisTurn += 1
                XCTAssertLessThanOrEqual(sendfilesThisTurn, 1, "two sendfile calls in one loop turn: \(line)")
                if sendfilesThisTurn > 1 { break }
            }
        }
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
