// DeferredReadCallsTests: an async handler's answer on a keep-alive connection
// costs the worker one read(2) per request, as an inline answer does, seen with
// strace. The read that brought the request came back short, so once the answer
// is written the worker waits for the next event instead of reading again only
// to meet EAGAIN (it did: half the reads of an async route under load). Input
// that arrives while the handler works is still read: the second test sends the
// next request mid-handler, in both trigger modes (edge mode is the one that
// needs the event to be noted: level mode asks for EPOLLIN again anyway).
import Foundation
import Glibc
import TestSupport
import XCTest

final class DeferredReadCallsTests: XCTestCase {
    /// The example server with one worker, that worker's pid, and a client connected to it.
    private func startServer(_ flags: [String]) throws -> (ServerProcess, pid_t, TestClient) {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"] + flags, executable: "example-server")
        return (server, try XCTUnwrap(server.onlyWorkerPID(), "the worker started"), try TestClient(port: server.port))
    }

    func testAKeepAliveAsyncAnswerIsNotFollowedByAReadThatMeetsEAGAIN() throws {
        for flags in [[], ["--edge-triggered"]] {
            let (server, worker, client) = try startServer(flags)
            XCTAssertEqual(try client.get("/apps/async").body, "async\n", "warm-up \(flags)")
            let trace = try Strace.required(pid: worker, calls: "read")
            let requests = 20
            for _ in 0..<requests {
                // The next request goes out only once the worker sleeps in epoll_wait, so a read
                // it makes after the answer happens before the request arrives, and meets EAGAIN.
                XCTAssertTrue(ServerProcess.eventually { Self.isWaitingInEpoll(worker) }, "the worker went back to epoll_wait \(flags)")
                XCTAssertEqual(try client.get("/apps/async").body, "async\n", "\(flags)")
            }
            XCTAssertTrue(ServerProcess.eventually { Self.isWaitingInEpoll(worker) }, "\(flags)")
            let reads = trace.finish().filter { $0.contains("read(") }
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0, "\(flags)")
            let withBytes = reads.filter { $0.firstMatch(of: /\) += [1-9]\d*$/) != nil }
            let eagain = reads.filter { $0.contains("EAGAIN") }
            // strace may miss the last lines: most of the requests are enough.
            XCTAssertGreaterThanOrEqual(withBytes.count, requests - 2, "a read per request \(flags): \(reads)")
            XCTAssertLessThanOrEqual(eagain.count, 2, "no read after an answer only to meet EAGAIN \(flags): \(reads)")
        }
    }

    func testARequestSentWhileAnAsyncHandlerAwaitsIsAnsweredAfterIt() throws {
        for flags in [[], ["--edge-triggered"]] {
            let (server, worker, client) = try startServer(flags)
            XCTAssertEqual(try client.get("/apps/inline").body, "inline\n", "warm-up \(flags)")
            XCTAssertTrue(ServerProcess.eventually { Self.isWaitingInEpoll(worker) }, "\(flags)")
            let readsBefore = try XCTUnwrap(Self.readCalls(worker))
            try client.send("GET /apps/async-sleep/1000 HTTP/1.1\r\nHost: t\r\n\r\n")
            // The worker has read that request and sleeps in epoll_wait while its handler awaits the timer:
            // the next request arrives on its own (in edge mode, an edge seen while the handler works).
            XCTAssertTrue(ServerProcess.eventually {
                (Self.readCalls(worker) ?? 0) > readsBefore && Self.isWaitingInEpoll(worker)
            }, "\(flags)")
            try client.send("GET /apps/inline HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(try client.readResponse().body, "slept 1000 ms\n", "\(flags)")
            XCTAssertEqual(try client.readResponse().body, "inline\n", "the request that came mid-handler \(flags)")
            XCTAssertEqual(try client.get("/apps/async").body, "async\n", "the connection goes on \(flags)")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0, "\(flags)")
        }
    }

    /// The read-like system calls the process has made (proc(5): /proc/PID/io, syscr).
    private static func readCalls(_ pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("syscr:") }
            .flatMap { Int($0.dropFirst("syscr:".count).trimmingCharacters(in: .whitespaces)) }
    }

    /// The worker's main thread (the event loop's) sleeps in epoll_wait: proc(5)'s wchan names
    /// the kernel function it waits in (`do_epoll_wait` here, `ep_poll` on older kernels).
    private static func isWaitingInEpoll(_ pid: pid_t) -> Bool {
        let wchan = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/wchan", encoding: .utf8)) ?? ""
        return wchan.contains("epoll") || wchan == "ep_poll"
    }
}
