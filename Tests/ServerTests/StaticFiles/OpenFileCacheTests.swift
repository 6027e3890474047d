// OpenFileCacheTests: the worker's open-file cache seen from outside: a hit
// opens and stats nothing (strace of the worker) and counts in /metrics; a
// replaced, deleted or created file is seen once --open-file-cache-valid has
// passed, and not before (the cache answers from what it holds); with
// --open-file-cache 0 every request looks the file up again.
import Foundation
import Glibc
import TestSupport
import XCTest

final class OpenFileCacheTests: XCTestCase {
    private var tree: StaticTree!

    override func setUpWithError() throws { tree = try StaticTree() }
    override func tearDown() { tree = nil }

    private func start(_ flags: [String] = []) throws -> ServerProcess {
        try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root] + flags)
    }

    /// Replaces `relative` with a new file (a new inode, as a deploy's rename does).
    private func replace(_ relative: String, with text: String) throws {
        try tree.file(relative + ".new", text)
        XCTAssertEqual(rename(tree.root + "/" + relative + ".new", tree.root + "/" + relative), 0)
    }

    private func metric(_ server: ServerProcess, _ name: String) throws -> Double? {
        let text = try TestClient(port: server.port).get("/metrics").body
        return try PrometheusText(text).value("prefork_" + name)
    }

    func testACachedFileIsServedWithoutOpeningOrStatingItAgain() throws {
        try tree.file("a.css", "body{}\n")
        let server = try start()
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/a.css").body, "body{}\n", "the first request opens it")
        let trace = Strace(pid: worker, calls: "openat,openat2,open,fstat,newfstatat,statx")
        for _ in 0..<5 { XCTAssertEqual(try client.get("/a.css").body, "body{}\n") }
        if let calls = trace?.finish() {
            XCTAssertEqual(calls, [], "a hit makes none of these calls")
        }
        XCTAssertEqual(try metric(server, "file_cache_misses_total"), 1)
        XCTAssertEqual(try metric(server, "file_cache_hits_total"), 5)
        XCTAssertEqual(try metric(server, "file_sent_bytes_total"), 6 * 7)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testChangesAreNotSeenWhileTheEntryIsValid() throws {
        try tree.file("a.txt", "one\n")
        try tree.file("gone.txt", "here\n")
        let server = try start()  // the default validity, 60 s, outlasts the test
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/a.txt").body, "one\n")
        XCTAssertEqual(try client.get("/gone.txt").status, 200)
        XCTAssertEqual(try client.get("/later.txt").status, 404)
        try replace("a.txt", with: "two, longer\n")
        tree.remove("gone.txt")
        try tree.file("later.txt", "now here\n")
        XCTAssertEqual(try client.get("/a.txt").body, "one\n", "the cached open file, not the new one")
        XCTAssertEqual(try client.get("/gone.txt").body, "here\n", "the cached descriptor still reads the unlinked file")
        XCTAssertEqual(try client.get("/later.txt").status, 404, "the negative entry")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testChangesAreSeenOnceTheValidityIntervalHasPassed() throws {
        try tree.file("a.txt", "one\n")
        try tree.file("edited.txt", "short\n")
        try tree.file("gone.txt", "here\n")
        let server = try start(["--open-file-cache-valid", "0.2"])
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/a.txt").body, "one\n")
        XCTAssertEqual(try client.get("/edited.txt").body, "short\n")
        XCTAssertEqual(try client.get("/gone.txt").status, 200)
        XCTAssertEqual(try client.get("/later.txt").status, 404)
        try replace("a.txt", with: "two, longer\n")
        try tree.file("edited.txt", "edited in place, longer\n")  // the same inode, a new size and time
        tree.remove("gone.txt")
        try tree.file("later.txt", "now here\n")
        XCTAssertTrue(ServerProcess.eventually { (try? client.get("/a.txt").body) == "two, longer\n" }, "replaced")
        XCTAssertTrue(ServerProcess.eventually { (try? client.get("/edited.txt").body) == "edited in place, longer\n" }, "edited")
        XCTAssertTrue(ServerProcess.eventually { (try? client.get("/gone.txt").status) == 404 }, "deleted")
        XCTAssertTrue(ServerProcess.eventually { (try? client.get("/later.txt").status) == 200 }, "created")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testWithoutTheCacheEveryRequestLooksTheFileUp() throws {
        try tree.file("a.txt", "one\n")
        let server = try start(["--open-file-cache", "0"])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port)
        let trace = Strace(pid: worker, calls: "openat,openat2,open,fstat,newfstatat,statx")
        XCTAssertEqual(try client.get("/a.txt").body, "one\n")
        try replace("a.txt", with: "two\n")
        XCTAssertEqual(try client.get("/a.txt").body, "two\n")
        if let calls = trace?.finish() {
            // The same trace that sees no call on a hit sees each lookup here: beneath the root, then fstat.
            XCTAssertEqual(calls.filter { $0.contains("openat2(") && $0.contains("a.txt") }.count, 2, "\(calls)")
            XCTAssertEqual(calls.filter { $0.contains("fstat") }.count, 2, "\(calls)")
        }
        XCTAssertEqual(try metric(server, "file_cache_hits_total"), 0)
        XCTAssertEqual(try metric(server, "file_cache_misses_total"), 2)
        // No descriptor of a served file stays open in the worker.
        XCTAssertTrue(ServerProcess.eventually { !Self.process(worker, hasOpenUnder: self.tree.root + "/a.txt") })
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testTheCacheKeepsAtMostItsCapacityOpen() throws {
        for index in 0..<20 { try tree.file("f\(index).txt", "\(index)\n") }
        let server = try start(["--open-file-cache", "5"])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port)
        for index in 0..<20 { XCTAssertEqual(try client.get("/f\(index).txt").body, "\(index)\n") }
        XCTAssertTrue(ServerProcess.eventually { Self.openFiles(of: worker, under: self.tree.root).count == 5 },
                      "\(Self.openFiles(of: worker, under: tree.root))")
        XCTAssertEqual(Set(Self.openFiles(of: worker, under: tree.root)), Set((15..<20).map { tree.root + "/f\($0).txt" }),
                       "the five most recently used")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAFileEvictedWhileItIsBeingSentArrivesWhole() throws {
        let size = 16 << 20
        let bytes = (0..<size / 4096).flatMap { page in [UInt8](repeating: UInt8(truncatingIfNeeded: page), count: 4096) }
        try Data(bytes).write(to: URL(fileURLWithPath: tree.root + "/big.bin"))
        for name in ["x", "y", "z"] { try tree.file(name, name) }
        let server = try start(["--open-file-cache", "1"])
        let slow = try TestClient(port: server.port, smallReceiveBuffer: true)
        try slow.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        var reader = RawReader(fd: slow.fd)
        XCTAssertTrue(try reader.readHead().contains("Content-Length: \(size)\r\n"))
        var received = try reader.read(exactly: 1 << 20)
        // Other names take the cache's one entry: the file being sent is evicted.
        let other = try TestClient(port: server.port)
        for name in ["x", "y", "z"] { XCTAssertEqual(try other.get("/" + name).body, name) }
        received += try reader.read(exactly: size - received.count)
        XCTAssertTrue(received == bytes, "the whole file, every byte in place")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    static func openFiles(of pid: pid_t, under prefix: String) -> [String] {
        let directory = "/proc/\(pid)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)") }
            .filter { $0.hasPrefix(prefix + "/") }
    }

    static func process(_ pid: pid_t, hasOpenUnder path: String) -> Bool {
        openFiles(of: pid, under: (path as NSString).deletingLastPathComponent).contains(path)
    }
}

final class OpenFileCacheBudgetTests: XCTestCase {
    /// Under a descriptor limit that cannot hold --max-connections and the cache, the cache is
    /// shrunk (and the operator told), so the connections keep their headroom.
    func testTheCacheShrinksToLeaveTheConnectionsTheirDescriptors() throws {
        let tree = try StaticTree()
        for index in 0..<80 { try tree.file("f\(index).txt", "\(index)\n") }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root,
                                        "--max-connections", "150"], openFileLimit: 256)
        // 256 - 150 connections - 64 for the worker's own descriptors; said once, on stderr.
        var errors = ""
        XCTAssertTrue(ServerProcess.eventually {
            errors += server.standardError()
            return errors.contains("open-file cache shrunk from 1000 to 42 entries")
        }, errors)
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port)
        for index in 0..<80 { XCTAssertEqual(try client.get("/f\(index).txt").body, "\(index)\n") }
        XCTAssertTrue(ServerProcess.eventually { OpenFileCacheTests.openFiles(of: worker, under: tree.root).count == 42 },
                      "\(OpenFileCacheTests.openFiles(of: worker, under: tree.root).count) open")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
