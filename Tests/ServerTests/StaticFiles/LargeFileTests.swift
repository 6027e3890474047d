// LargeFileTests: big and changing files under `server --root`. A 1 GiB file
// (sparse, with marks written at known offsets) reaches a rate-limited curl
// intact (SHA-256 compared) while the worker's resident memory stays flat; a
// client that stops reading it is ended by the write timeout; a file truncated
// while it is being sent ends that response by closing the connection, and no
// response follows the short body.
import Foundation
import Glibc
import TestSupport
import XCTest

final class LargeFileTests: XCTestCase {
    private var tree: StaticTree!

    override func setUpWithError() throws { tree = try StaticTree() }
    override func tearDown() { tree = nil }

    /// A sparse file of `size` bytes at `relative`, with an 8-byte mark every `size / 8` bytes and at the end.
    private func sparseFile(_ relative: String, size: Int) throws -> String {
        let path = tree.root + "/" + relative
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertEqual(ftruncate(fd, off_t(size)), 0)
        for offset in stride(from: 0, to: size, by: size / 8) + [size - 8] {
            var mark = UInt64(offset).bigEndian
            XCTAssertEqual(pwrite(fd, &mark, 8, off_t(offset)), 8)
        }
        return path
    }

    private static func residentKilobytes(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
    }

    private static func tool(_ name: String) -> String? {
        ["/usr/bin/\(name)", "/bin/\(name)"].first { (path: String) in access(path, X_OK) == 0 }
    }

    func testAGibibyteFileReachesASlowReaderIntactWithTheWorkerMemoryFlat() throws {
        guard Self.tool("curl") != nil, Self.tool("sha256sum") != nil else {
            throw XCTSkip("curl and sha256sum are needed (apt-get install curl coreutils)")
        }
        let path = try sparseFile("big.bin", size: 1 << 30)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200)
        let before = try XCTUnwrap(Self.residentKilobytes(worker))
        let expected = try Launch.runToEnd("/bin/sh", ["-c", "sha256sum < '\(path)'"], timeoutMilliseconds: 120_000)
        // A reader at about 256 MiB/s: the socket fills and sendfile meets EAGAIN again and again.
        let download = try Launch.run("/bin/sh", ["-c", "curl -sS --limit-rate 256M http://127.0.0.1:\(server.port)/big.bin | sha256sum"])
        var peak = before
        var status: Int32?
        let deadline = Launch.now() + 120_000
        while status == nil && Launch.now() < deadline {
            peak = max(peak, Self.residentKilobytes(worker) ?? 0)
            status = Launch.waitForExit(download.pid, timeoutMilliseconds: 50)
        }
        let got = Launch.readAvailable(from: download.stdout)
        close(download.stdout)
        close(download.stderr)
        XCTAssertNotNil(status, "the download ended within 120 s")
        XCTAssertEqual(got.prefix(64), expected.stdout.prefix(64), "the same SHA-256")
        XCTAssertEqual(got.count >= 64, true, got)
        // sendfile moves the pages without them entering the worker: its memory does not follow the file's size.
        XCTAssertLessThan(peak - before, 16 * 1024, "the worker's RSS grew from \(before) to \(peak) KiB")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAGibibyteFileToAClientThatStopsReadingEndsAtTheWriteTimeout() throws {
        _ = try sparseFile("big.bin", size: 1 << 30)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--write-timeout", "1"])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        try client.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(ServerProcess.eventually { Self.connectionWasReset(client.fd) }, "the write timeout ends it")
        // The response's hold on the file is gone; only the cache's own descriptor remains.
        XCTAssertTrue(ServerProcess.eventually { OpenFileCacheTests.openFiles(of: worker, under: self.tree.root).count == 1 })
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "the worker goes on")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAFileTruncatedWhileSentEndsItsResponseByClosingTheConnection() throws {
        let size = 64 << 20
        let path = try sparseFile("shrinking.bin", size: size)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root])
        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        // A request pipelined behind the file: it must not be answered after a short body.
        try client.send("GET /shrinking.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        var reader = RawReader(fd: client.fd)
        XCTAssertTrue(try reader.readHead().contains("Content-Length: \(size)\r\n"))
        var received = try reader.read(exactly: 1 << 20).count
        XCTAssertEqual(truncate(path, off_t(2 << 20)), 0)
        var tail: [UInt8] = []
        let deadline = Launch.now() + 20_000
        while Launch.now() < deadline {
            guard let piece = try? reader.read(atMost: 256 * 1024), !piece.isEmpty else { break }  // EOF or reset
            received += piece.count
            tail = Array((tail + piece).suffix(64))
        }
        XCTAssertLessThan(Launch.now(), deadline, "the connection closed: no hang")
        XCTAssertLessThan(received, size, "the body ended short")
        XCTAssertFalse(String(decoding: tail, as: UTF8.self).contains("HTTP/1.1"), "no response after the short body")
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "the worker goes on")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// The server reset the connection (the write timeout's SO_LINGER 0 close): poll(2) reports an error.
    private static func connectionWasReset(_ fd: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return false }
        return poller.revents & Int16(POLLERR | POLLHUP) != 0
    }
}
