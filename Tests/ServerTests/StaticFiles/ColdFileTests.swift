// ColdFileTests: a file evicted from the page cache (posix_fadvise(2)
// POSIX_FADV_DONTNEED) is sent with its cold pages read by the worker's helper
// threads (--aio-threads, nginx's `aio threads`) instead of by a sendfile that
// would block the loop: it arrives intact (SHA-256 compared), other requests
// are answered while it goes, and /metrics counts the read-aheads; with
// --aio-threads 0 the same file still arrives and nothing is offloaded; a file
// just written (cached) is sent without read-ahead; bad flags are refused.
// Skipped where eviction cannot be observed (a file system that keeps the
// pages, or no RWF_NOWAIT to ask with).
import Foundation
import Glibc
@testable import ServerSystem
import TestSupport
import XCTest

final class ColdFileTests: XCTestCase {
    private var tree: StaticTree!

    override func setUpWithError() throws { tree = try StaticTree() }
    override func tearDown() { tree = nil }

    private static let size = 16 << 20

    /// A file of random bytes at `relative`, and its SHA-256 (taken before any eviction).
    private func randomFile(_ relative: String) throws -> (path: String, sha256: String) {
        let path = tree.root + "/" + relative
        let made = try Launch.runToEnd("/bin/sh", ["-c", "head -c \(Self.size) /dev/urandom > '\(path)' && sha256sum < '\(path)'"],
                                       timeoutMilliseconds: 60_000)
        XCTAssertEqual(made.status.flatMap(exitCode(ofWaitStatus:)), 0, made.stderr)
        return (path, String(made.stdout.prefix(64)))
    }

    /// Drops the file's pages from the page cache; throws XCTSkip when they are still seen there
    /// (unless `checking` is false: helpers may be reading it back in meanwhile).
    private func evict(_ path: String, checking: Bool = true) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertEqual(fdatasync(fd), 0)
        XCTAssertEqual(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0)
        for offset in [0, Self.size / 2, Self.size - 1] where checking && PageCache.residency(of: fd, at: offset) != .missing {
            throw XCTSkip("the page cache still holds the file after POSIX_FADV_DONTNEED (or cannot be asked): eviction is not observable here")
        }
    }

    private func metric(_ server: ServerProcess, _ name: String) throws -> Double? {
        let text = try TestClient(port: server.port).get("/metrics").body
        return try PrometheusText(text).value("prefork_" + name)
    }

    /// Downloads `/name` with curl (rate-limited, so it lasts a while) while another connection asks for
    /// the small file again and again; returns the download's SHA-256 and how many small answers came.
    private func download(_ name: String, from server: ServerProcess) throws -> (sha256: String, smallAnswers: Int) {
        let curl = try Launch.run("/bin/sh", ["-c", "curl -sS --limit-rate 64M http://127.0.0.1:\(server.port)/\(name) | sha256sum"])
        defer { close(curl.stdout); close(curl.stderr) }
        let client = try TestClient(port: server.port)
        var answers = 0
        var status: Int32?
        let deadline = Launch.now() + 60_000
        while status == nil && Launch.now() < deadline {
            let small = try client.get("/small.txt")
            XCTAssertEqual(small.status, 200)
            XCTAssertEqual(small.body, "small\n")
            answers += 1
            status = Launch.waitForExit(curl.pid, timeoutMilliseconds: 5)
        }
        XCTAssertNotNil(status, "the download ended within 60 s")
        return (String(Launch.readAvailable(from: curl.stdout).prefix(64)), answers)
    }

    func testAnEvictedFileIsReadAheadOffTheLoopAndArrivesIntact() throws {
        try tree.file("small.txt", "small\n")
        let (path, expected) = try randomFile("cold.bin")
        try evict(path)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root])
        let got = try download("cold.bin", from: server)
        XCTAssertEqual(got.sha256, expected, "the same SHA-256")
        XCTAssertGreaterThan(got.smallAnswers, 0)
        let offloaded = try XCTUnwrap(try metric(server, "file_reads_offloaded_total"))
        XCTAssertGreaterThanOrEqual(offloaded, 1, "the cold pages were read by a helper thread")
        XCTAssertLessThanOrEqual(offloaded, Double(Self.size / (256 << 10)), "at most one read-ahead per chunk")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// Edge-triggered mode registers the connection for both directions once: the events that
    /// come while it waits for the disk must not send, and the read's completion must resume it.
    func testAnEvictedFileIsReadAheadInEdgeTriggeredModeToo() throws {
        try tree.file("small.txt", "small\n")
        let (path, expected) = try randomFile("cold.bin")
        try evict(path)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root,
                                        "--reuseport", "--edge-triggered"])
        XCTAssertEqual(try download("cold.bin", from: server).sha256, expected, "the same SHA-256")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(try metric(server, "file_reads_offloaded_total")), 1)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// A helper still reading for a connection that has gone holds the file open until its read is
    /// done, and no longer: with the open-file cache off each response owns its descriptor, and
    /// the worker's descriptors come back to what they were.
    func testClientsThatLeaveDuringAReadAheadLeaveNoDescriptorBehind() throws {
        try tree.file("small.txt", "small\n")
        let (path, _) = try randomFile("cold.bin")
        try evict(path)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--open-file-cache", "0"])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        // One connection open throughout, so the baseline is not taken while another one closes.
        let keeper = try TestClient(port: server.port)
        XCTAssertEqual(try keeper.get("/small.txt").status, 200)
        let descriptors = { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker)/fd").count) ?? -1 }
        let before = descriptors()
        for _ in 0..<20 {
            try evict(path, checking: false)
            let client = try TestClient(port: server.port)
            try client.send("GET /cold.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            var reader = RawReader(fd: client.fd)
            XCTAssertTrue(try reader.readHead().hasPrefix("HTTP/1.1 200"))
        }
        XCTAssertEqual(try keeper.get("/small.txt").body, "small\n", "the worker still serves")
        // At most as many: connections of the test's setup may close meanwhile; 20 owned files left open would show.
        XCTAssertTrue(ServerProcess.eventually { descriptors() <= before }, "descriptors back to \(before): \(descriptors())")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(try metric(server, "file_reads_offloaded_total")), 1)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testWithoutAioThreadsAnEvictedFileIsSentByTheLoopItself() throws {
        try tree.file("small.txt", "small\n")
        let (path, expected) = try randomFile("cold.bin")
        try evict(path)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--aio-threads", "0"])
        let got = try download("cold.bin", from: server)
        XCTAssertEqual(got.sha256, expected, "the same SHA-256")
        XCTAssertEqual(try metric(server, "file_reads_offloaded_total"), 0)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAWarmFileIsSentWithoutReadAhead() throws {
        try tree.file("small.txt", "small\n")
        let (_, expected) = try randomFile("warm.bin")  // just written: in the page cache
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root])
        XCTAssertEqual(try download("warm.bin", from: server).sha256, expected)
        XCTAssertEqual(try metric(server, "file_reads_offloaded_total"), 0)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testBadFileSendingFlagsAreOneLineAndANonZeroExit() throws {
        for (flags, message) in [(["--aio-threads", "65"], "--aio-threads must be between 0 and 64"),
                                 (["--aio-threads=-1"], "--aio-threads must be between 0 and 64"),
                                 (["--sendfile-max-chunk", "4095"], "--sendfile-max-chunk must be between 4096")] {
            let result = try Launch.runToEnd(ServerProcess.executablePath, flags + ["--port", "0"])
            XCTAssertNotEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, "\(flags)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
    }
}
