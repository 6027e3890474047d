// File and streamed response bodies, against the example server's BodyRoutes:
// a 64 MiB file reaches a slow reader intact by sendfile alone, a stream of
// unknown length arrives chunked, a stream whose client stops reading is paused
// and ended by the write timeout, pipelined requests behind a file body are
// answered in order, and HEAD sends the head only (and closes the file).
import Foundation
import Glibc
import TestSupport
import XCTest

final class ResponseBodyTests: XCTestCase {
    private var filePath = ""
    private var fileBytes: [UInt8] = []

    override func tearDown() {
        if !filePath.isEmpty { unlink(filePath) }
        fileBytes = []  // XCTest keeps every test case object until the run ends: give the 64 MiB back now
        super.tearDown()
    }

    /// Writes a file of `megabytes` MiB, each MiB a random block stamped with its index
    /// (so a misplaced or repeated MiB shows), and starts the example server serving it.
    private func startServer(fileMegabytes megabytes: Int, extraFlags: [String] = []) throws -> ServerProcess {
        let block = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255) }
        fileBytes = []
        fileBytes.reserveCapacity(megabytes << 20)
        for index in 0..<megabytes {
            fileBytes += withUnsafeBytes(of: UInt64(index)) { Array($0) }
            fileBytes += block.dropFirst(8)
        }
        filePath = NSTemporaryDirectory() + "response-body-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertTrue(FileManager.default.createFile(atPath: filePath, contents: Data(fileBytes)))
        setenv("EXAMPLE_FILE", filePath, 1)
        defer { unsetenv("EXAMPLE_FILE") }
        return try ServerProcess(["--host", "127.0.0.1", "--workers", "1"] + extraFlags, executable: "example-server")
    }

    func testFileBodyArrivesIntactThroughASlowReaderWithoutBeingReadIntoTheWorker() throws {
        // Without helper threads: on a machine short of memory the fresh file's pages may already be
        // evicted, and a helper's pread that brings them back (DiskReads) is not the body read here.
        let server = try startServer(fileMegabytes: 64, extraFlags: ["--aio-threads", "0"])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let trace = SyscallTrace(pid: worker)
        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        try client.send("GET /example/file HTTP/1.1\r\nHost: t\r\n\r\n")
        var reader = RawReader(fd: client.fd)
        let head = try reader.readHead()
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK"), head)
        XCTAssertTrue(head.contains("Content-Length: \(64 << 20)\r\n"), head)
        // Pauses between MiB make the worker's sendfile meet a full socket (EAGAIN) again and again.
        let deadline = Launch.now() + 20_000
        var received = 0
        while received < fileBytes.count && Launch.now() < deadline {
            let piece = try reader.read(atMost: min(256 * 1024, fileBytes.count - received))
            XCTAssertTrue(Self.same(piece, fileBytes, at: received), "bytes at \(received)")
            if (received + piece.count) >> 20 != received >> 20 { usleep(5_000) }  // the slow reader's pace
            received += piece.count
        }
        XCTAssertEqual(received, fileBytes.count, "the whole file, within 20 s")
        XCTAssertEqual(try client.get("/health").status, 200, "the connection goes on after the body")
        XCTAssertTrue(ServerProcess.eventually { !Self.worker(worker, hasOpen: self.filePath) }, "the file is closed")
        if let calls = trace?.finish() {
            print(calls.summary)
            XCTAssertGreaterThanOrEqual(calls.sentByFile, fileBytes.count, calls.summary)
            XCTAssertGreaterThan(calls.sendFileWouldBlock, 0, "sendfile met a full socket: \(calls.summary)")
            XCTAssertEqual(calls.readsOfFile, 0, "the file is never read into the worker: \(calls.summary)")
        }
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testStreamOfUnknownLengthArrivesChunkedAndIntact() throws {
        let server = try startServer(fileMegabytes: 1)
        let client = try TestClient(port: server.port)
        try client.send("GET /example/stream?chunks=50&size=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        var reader = RawReader(fd: client.fd)
        let head = try reader.readHead()
        XCTAssertTrue(head.contains("Transfer-Encoding: chunked\r\n"), head)
        XCTAssertFalse(head.contains("Content-Length"), head)
        let body = try reader.readChunkedBody()
        XCTAssertEqual(body.count, 150_000)
        XCTAssertTrue(body.enumerated().allSatisfy { $0.element == UInt8($0.offset % 251) }, "every byte in place")
        XCTAssertEqual(try client.get("/health").status, 200, "the connection goes on after the last chunk")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testStreamToAClientThatStopsReadingIsPausedAndEndedByTheWriteTimeout() throws {
        let server = try startServer(fileMegabytes: 1, extraFlags: ["--write-timeout", "1"])
        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        // 1.6 GB asked for; the client reads none of it.
        try client.send("GET /example/stream?chunks=100000&size=16384 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(ServerProcess.eventually { Self.connectionWasReset(client.fd) }, "the write timeout ends it")
        let produced = try XCTUnwrap(Int(try TestClient(port: server.port).get("/example/stream/produced").body
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        // What the kernel's socket buffers hold (a few MiB at most) plus one piece: never the 1.6 GB.
        XCTAssertGreaterThan(produced, 0)
        XCTAssertLessThan(produced, 16 << 20, "the producer waited for the socket")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testFileBodyToAClientThatStopsReadingEndsAtTheWriteTimeoutAndClosesTheFile() throws {
        let server = try startServer(fileMegabytes: 32, extraFlags: ["--write-timeout", "1"])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        try client.send("GET /example/file HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(ServerProcess.eventually { Self.worker(worker, hasOpen: self.filePath) }, "the body is under way")
        XCTAssertTrue(ServerProcess.eventually { Self.connectionWasReset(client.fd) }, "the write timeout ends it")
        XCTAssertTrue(ServerProcess.eventually { !Self.worker(worker, hasOpen: self.filePath) }, "the file is closed")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testPipelinedRequestsBehindAFileBodyAreAnsweredInOrder() throws {
        let server = try startServer(fileMegabytes: 4)
        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        try client.send("GET /example/file HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n"
            + "GET /example/stream?chunks=2&size=10 HTTP/1.1\r\nHost: t\r\n\r\nGET /example/file HTTP/1.1\r\nHost: t\r\n\r\n"
            + "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        var reader = RawReader(fd: client.fd)
        for round in 0..<2 {
            XCTAssertTrue(try reader.readHead().contains("Content-Length: \(4 << 20)\r\n"), "file \(round)")
            XCTAssertTrue(Self.same(try reader.read(exactly: fileBytes.count), fileBytes, at: 0), "file \(round) intact")
            let health = try reader.readHead()
            XCTAssertTrue(health.hasPrefix("HTTP/1.1 200") && health.contains("Content-Length: 3\r\n"), health)
            XCTAssertEqual(String(decoding: try reader.read(exactly: 3), as: UTF8.self), "ok\n")
            guard round == 0 else { break }
            XCTAssertTrue(try reader.readHead().contains("chunked"))
            XCTAssertEqual(try reader.readChunkedBody().count, 20)
        }
        XCTAssertEqual(try reader.read(atMost: 1), [], "closed after the last")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testHeadOfAFileSendsTheHeadOnlyAndClosesTheFile() throws {
        let server = try startServer(fileMegabytes: 1)
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port)
        try client.send("HEAD /example/file HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        var reader = RawReader(fd: client.fd)
        XCTAssertTrue(try reader.readHead().contains("Content-Length: \(1 << 20)\r\n"))
        XCTAssertTrue(try reader.readHead().hasPrefix("HTTP/1.1 200 OK"), "the next response follows the head at once")
        XCTAssertEqual(String(decoding: try reader.read(exactly: 3), as: UTF8.self), "ok\n")
        XCTAssertTrue(ServerProcess.eventually { !Self.worker(worker, hasOpen: self.filePath) }, "the file is closed")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// Whether `piece` equals `whole`'s bytes at `offset` (memcmp: a debug build's element loop is slow at 64 MiB).
    private static func same(_ piece: [UInt8], _ whole: [UInt8], at offset: Int) -> Bool {
        guard offset + piece.count <= whole.count else { return false }
        return piece.withUnsafeBytes { p in whole.withUnsafeBytes { w in memcmp(p.baseAddress!, w.baseAddress! + offset, p.count) == 0 } }
    }

    /// Whether any descriptor of `pid` refers to `path`.
    private static func worker(_ pid: pid_t, hasOpen path: String) -> Bool {
        let directory = "/proc/\(pid)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)")) == path }
    }

    /// The server reset the connection (the write timeout's SO_LINGER 0 close): poll(2) reports an error.
    private static func connectionWasReset(_ fd: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return false }
        return poller.revents & Int16(POLLERR | POLLHUP) != 0
    }
}
