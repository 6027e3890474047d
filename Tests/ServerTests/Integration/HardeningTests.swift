// Clients that are slow, silent, greedy or hostile: timeouts, limits, running
// out of descriptors, backpressure and fairness, against the real binary.
import Glibc
import Server
import TestSupport
import XCTest

final class HardeningTests: XCTestCase {
    private static let shortTimeouts = ["--header-timeout", "0.4", "--keepalive-timeout", "0.4",
                                        "--body-timeout", "0.4", "--write-timeout", "0.4"]

    func testSlowlorisGets408WhenTheHeaderBlockTakesTooLong() throws {
        try inEveryMode(extraFlags: Self.shortTimeouts) { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: test\r\n")
            // Trickling bytes does not extend the deadline: a header line every 200 ms (half the
            // header timeout), the slowloris's pace, would keep a restarted deadline from ever passing.
            var trickled = 0
            while trickled < 10 && !client.isReadable(withinMilliseconds: 200) {
                try? client.send("X-Slow: 1\r\n")
                trickled += 1
            }
            XCTAssertLessThan(trickled, 10, "\(mode): answered while the client was still trickling")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 408, "\(mode)")
            XCTAssertEqual(response.header("Connection"), "close", "\(mode)")
            XCTAssertTrue(client.readsEndOfStream(), "\(mode)")
        }
    }

    func testIdleKeepAliveConnectionIsClosedQuietly() throws {
        try inEveryMode(extraFlags: Self.shortTimeouts) { server, mode in
            let client = try TestClient(port: server.port)
            XCTAssertEqual(try client.get("/health").status, 200, "\(mode)")
            XCTAssertEqual(client.readUntilClosed(), "", "\(mode): closed with no response")
        }
    }

    func testBusyKeepAliveConnectionOutlivesTheIdleTimeout() throws {
        try inEveryMode(extraFlags: Self.shortTimeouts) { server, mode in
            let client = try TestClient(port: server.port)
            for index in 0..<10 {  // one second of traffic, with a 0.4 s idle timeout
                XCTAssertEqual(try client.get("/health").status, 200, "\(mode): request \(index)")
                usleep(100_000)  // the client's pace, part of the scenario: idle, but never 0.4 s at once
            }
        }
    }

    func testStalledBodyGets408() throws {
        try inEveryMode(extraFlags: Self.shortTimeouts) { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n123")
            XCTAssertEqual(try client.readResponse().status, 408, "\(mode)")
        }
    }

    func testExpectContinueGets100BeforeTheBody() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("POST /health HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            XCTAssertEqual(try client.readResponse().status, 100, "\(mode): interim response first")
            try client.send("hello")
            XCTAssertEqual(try client.readResponse().status, 405, "\(mode): then the final one")
        }
    }

    func testExpectContinueWithTooLargeABodyGetsTheFinalStatusAtOnce() throws {
        try inEveryMode(extraFlags: ["--max-body-size", "100"]) { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
            XCTAssertEqual(try client.readResponse().status, 413, "\(mode)")
        }
    }

    func testLargestContentLengthGets413UnderTheLargestBodyLimitAndNoWorkerDies() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1",
                                        "--max-body-size", "\(RequestLimits.maximumBodyBytes)"])
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 1 })
        let before = server.workerPIDs()
        let client = try TestClient(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: \(Int.max)\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 413)
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "a new connection is served")
        XCTAssertEqual(server.workerPIDs(), before, "by the same worker")
    }

    func testChunkedBodyIsDecodedAndTheNextRequestFramedAfterIt() throws {
        try inEveryMode { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("POST /health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
                + "GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(try client.readResponse().status, 405, "\(mode)")
            XCTAssertEqual(try client.readResponse().body, "ok\n", "\(mode)")
        }
    }

    func testWorkerStopsAcceptingAtMaxConnectionsAndResumesWhenOneCloses() throws {
        try inEveryMode(workers: 1, extraFlags: ["--max-connections", "3"]) { server, mode in
            var held = try (0..<3).map { _ in try TestClient(port: server.port) }
            for client in held { XCTAssertEqual(try client.get("/health").status, 200, "\(mode)") }
            let waiting = try TestClient(port: server.port, timeoutSeconds: 1)  // queued by the kernel
            try waiting.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertThrowsError(try waiting.readResponse(), "\(mode): not served while the worker is full")
            held.removeFirst()  // closes one, making room
            XCTAssertEqual(try waiting.readResponse().status, 200, "\(mode): the queued connection is accepted now")
            for client in held { XCTAssertEqual(try client.get("/health").status, 200, "\(mode): none was dropped") }
        }
    }

    func testRunningOutOfDescriptorsNeitherKillsNorSpinsTheWorker() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"], openFileLimit: 24)
        let worker = try XCTUnwrap(server.onlyWorkerPID())
        var clients: [TestClient] = []
        for _ in 0..<40 {
            let client = try TestClient(port: server.port, timeoutSeconds: 1)
            try client.send("GET / HTTP/1.1\r\n")  // a first byte, or the kernel defers the accept
            clients.append(client)
        }
        var errors = ""
        XCTAssertTrue(ServerProcess.eventually {
            errors += server.standardError()
            return errors.contains("Too many open files")
        }, "the worker has run out of descriptors")
        let meter = try SpinMeter(worker)
        usleep(1_000_000)  // the measuring window
        let (runnable, wall, share) = try meter.reading()
        // Retrying accept in a loop keeps the worker runnable all along, however loaded the
        // machine; pausing 100 ms between tries keeps it asleep nearly all the time.
        XCTAssertLessThan(share, 0.3, "the worker waits instead of retrying accept in a loop: runnable \(runnable) ms of \(wall) ms")
        clients.removeAll()
        XCTAssertTrue(ServerProcess.eventually {
            (try? TestClient(port: server.port).get("/health").status) == 200
        }, "it serves again once descriptors are free")
        XCTAssertEqual(server.workerPIDs(), [worker], "the worker survived")
        errors += server.standardError()
        let warnings = errors.components(separatedBy: "Too many open files").count - 1
        XCTAssertGreaterThan(warnings, 0, "the condition is logged")
        XCTAssertLessThan(warnings, 5, "once per burst, not once per attempt")
    }

    func testClientThatPipelinesButNeverReadsIsNotBufferedWithoutBound() throws {
        try inEveryMode(workers: 1) { server, mode in
            let worker = try XCTUnwrap(server.onlyWorkerPID(), "\(mode)")
            let before = Self.residentKilobytes(of: worker)
            let client = try TestClient(port: server.port, smallReceiveBuffer: true)
            let request = Array(String(repeating: "GET / HTTP/1.1\r\nHost: t\r\n\r\n", count: 100).utf8)
            let sent = client.sendWithoutBlocking(request, forMilliseconds: 1500, atMost: 64 * 1024 * 1024)
            XCTAssertLessThan(sent, 64 * 1024 * 1024, "\(mode): the server stopped reading, so sending blocked")
            let grown = Self.residentKilobytes(of: worker) - before
            XCTAssertLessThan(grown, 16 * 1024, "\(mode): the worker holds a bounded amount for it (grew \(grown) KiB)")
            XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "\(mode): others are served")
        }
    }

    func testClientThatStopsReadingIsClosedAfterTheWriteTimeout() throws {
        try inEveryMode(workers: 1, extraFlags: Self.shortTimeouts) { server, mode in
            let client = try TestClient(port: server.port, smallReceiveBuffer: true)
            let request = Array(String(repeating: "GET / HTTP/1.1\r\nHost: t\r\n\r\n", count: 100).utf8)
            _ = client.sendWithoutBlocking(request, forMilliseconds: 1200, atMost: 16 * 1024 * 1024)
            let answered = client.readUntilClosed().components(separatedBy: "HTTP/1.1 200").count - 1
            XCTAssertGreaterThan(answered, 0, "\(mode)")
            XCTAssertTrue(client.readsEndOfStream(), "\(mode): the server gave up on it")
        }
    }

    func testFloodingConnectionDoesNotStarveAPoliteOne() throws {
        try inEveryMode(workers: 1) { server, mode in
            let flooder = try TestClient(port: server.port)
            let batch = Array(String(repeating: "GET / HTTP/1.1\r\nHost: t\r\n\r\n", count: 256).utf8)
            let stop = Flag()
            let flowing = Flag()
            let socket = flooder.fd
            let reader = Thread {  // keeps reading, so backpressure never pauses the flood
                var sink = [UInt8](repeating: 0, count: 1 << 16)
                while !stop.isSet && recv(socket, &sink, sink.count, 0) > 0 { flowing.set() }
            }
            reader.start()
            let writer = Thread {
                let deadline = Launch.now() + 4000
                while !stop.isSet && Launch.now() < deadline {
                    _ = batch.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
            }
            writer.start()
            defer { stop.set() }
            XCTAssertTrue(ServerProcess.eventually { flowing.isSet }, "\(mode): the flood is being answered")
            let polite = try TestClient(port: server.port, timeoutSeconds: 3)
            for index in 0..<20 {
                XCTAssertEqual(try polite.get("/health").body, "ok\n", "\(mode): polite request \(index) answered during the flood")
            }
        }
    }

    func testHalfClosedClientThatDoesNotReadNeitherSpinsTheWorkerNorStaysForever() throws {
        // A write timeout long enough to watch the worker while the hung-up connection is still open.
        let timeouts = ["--header-timeout", "0.4", "--keepalive-timeout", "0.4", "--body-timeout", "0.4", "--write-timeout", "2"]
        try inEveryMode(workers: 1, extraFlags: timeouts) { server, mode in
            let worker = try XCTUnwrap(server.onlyWorkerPID(), "\(mode)")
            let idleDescriptors = try Self.idleDescriptors(of: worker, port: server.port)
            let client = try TestClient(port: server.port, timeoutSeconds: 3, smallReceiveBuffer: true)
            // Answers (4 KiB of /metrics each, 4.6 MB in all) that back up far past the socket
            // buffers, asked for in 40 KB the server's receive window takes whole, so the FIN
            // after them reaches it: otherwise the FIN waits behind unsent requests and the
            // server never sees the hang-up this is about.
            try client.send(String(repeating: "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", count: 1_140))
            client.shutdownWrite()
            XCTAssertTrue(ServerProcess.eventually {
                client.serverEnd().map { $0.state == TCPSocketRow.closeWait && $0.sendQueue > 0 } ?? false
            }, "\(mode): the hang-up reached the server while its answers back up: \(String(describing: client.serverEnd()))")
            // A worker woken again and again by the hung-up peer never sleeps; one that waits
            // sleeps once it has written what the socket takes (bounded well inside the write
            // timeout, so that a spinning worker is still spinning in the window below).
            XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 1200) { ProcessActivity.isAtRest(worker) }, "\(mode): the worker sleeps")
            XCTAssertGreaterThan(Self.openDescriptors(of: worker), idleDescriptors,
                                 "\(mode): no busy loop on the hung-up peer: asleep while its connection is still open")
            let meter = try SpinMeter(worker)
            usleep(500_000)  // the measuring window, still inside the write timeout
            let (runnable, wall, share) = try meter.reading()
            XCTAssertLessThan(share, 0.3, "\(mode): no busy loop on the hung-up peer: runnable \(runnable) ms of \(wall) ms")
            XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 3000) { Self.openDescriptors(of: worker) == idleDescriptors },
                          "\(mode): closed after the write timeout, though the client never read "
                          + "(\(Self.openDescriptors(of: worker)) descriptors open, \(idleDescriptors) when idle)")
        }
    }

    func testTricklingBytesDoesNotExtendTheWriteTimeout() throws {
        try inEveryMode(workers: 1, extraFlags: Self.shortTimeouts) { server, mode in
            let worker = try XCTUnwrap(server.onlyWorkerPID(), "\(mode)")
            let idleDescriptors = try Self.idleDescriptors(of: worker, port: server.port)
            let client = try TestClient(port: server.port, timeoutSeconds: 3, smallReceiveBuffer: true)
            let request = Array(String(repeating: "GET / HTTP/1.1\r\nHost: t\r\n\r\n", count: 100).utf8)
            _ = client.sendWithoutBlocking(request, forMilliseconds: 300, atMost: 1024 * 1024)
            var closed = false
            for _ in 0..<20 where !closed {  // up to 3 s of one byte every 150 ms, far past the write timeout
                _ = client.sendWithoutBlocking([UInt8(ascii: "G")], forMilliseconds: 1, atMost: 1)
                usleep(150_000)  // the trickle's pace, part of the scenario; `closed` must come within it
                closed = Self.openDescriptors(of: worker) == idleDescriptors
            }
            XCTAssertTrue(closed, "\(mode): closed although the client kept sending")
        }
    }

    func testEveryPipelinedRequestGetsItsOwnHeaderDeadline() throws {
        try inEveryMode(extraFlags: ["--header-timeout", "0.5"]) { server, mode in
            let client = try TestClient(port: server.port)
            try client.send("GET /health HTTP/1.1\r\n")
            for index in 0..<5 {  // each send ends one request and starts the next: 1.25 s in all
                usleep(250_000)  // half the header timeout, part of the scenario: only a per-request deadline survives five
                try client.send("Host: t\r\n\r\nGET /health HTTP/1.1\r\n")
                XCTAssertEqual(try client.readResponse().status, 200, "\(mode): request \(index)")
            }
        }
    }

    // MARK: /proc readings

    /// The worker's descriptors once it is serving (its epoll set and signalfd exist) and idle.
    private static func idleDescriptors(of worker: pid_t, port: Int) throws -> Int {
        let check = try TestClient(port: port)
        XCTAssertEqual(try check.get("/health", headers: "Connection: close\r\n").status, 200)
        check.shutdownWrite()  // ends the server's lingering close
        XCTAssertTrue(ServerProcess.eventually { !check.serverHoldsItsEnd() }, "the health check's connection is closed")
        return openDescriptors(of: worker)
    }

    private static func openDescriptors(of pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    private static func residentKilobytes(of pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
}

/// A flag one thread sets and others read.
private final class Flag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
