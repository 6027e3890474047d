// What a gzipped body costs the worker: a slow reader of a large file holds one
// zlib state and bounded buffers, never the body (the resident set stays
// within a few MiB while 48 MiB leave); clients that go away mid-body leave
// nothing behind (200 of them: descriptors back to idle, memory flat).
import Foundation
import Glibc
import TestSupport
import XCTest

final class GzipMemoryTests: XCTestCase {
    private var filePath = ""

    override func tearDown() {
        if !filePath.isEmpty { unlink(filePath) }
        super.tearDown()
    }

    private func startServer(fileMegabytes: Int) throws -> (ServerProcess, [UInt8], pid_t) {
        let (path, bytes) = try GzipWire.textFile(megabytes: fileMegabytes, compressible: false)
        filePath = path
        setenv("EXAMPLE_FILE", path, 1)
        defer { unsetenv("EXAMPLE_FILE") }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--gzip"], executable: "example-server")
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 1 }, "the worker started")
        return (server, bytes, server.workerPIDs().first ?? 0)
    }

    func testASlowReaderOfALargeGzippedFileKeepsTheWorkersMemoryBounded() throws {
        let (server, bytes, worker) = try startServer(fileMegabytes: 64)
        // Warm up: one whole gzipped body, so zlib's and the allocator's first use is in the baseline.
        let warm = try TestClient(port: server.port)
        var warmReader = RawReader(fd: warm.fd)
        XCTAssertTrue(try GzipWire.exchange(&warmReader, warm, GzipWire.get("/example/text?size=300000")).isGzipped)
        let baseline = GzipWire.residentBytes(of: worker)

        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        try client.send(GzipWire.get("/example/text-file"))
        var reader = RawReader(fd: client.fd)
        let head = try reader.readHead()
        guard head.contains("Content-Encoding: gzip") else { return XCTFail("not gzipped: \(head)") }
        var compressed: [UInt8] = []
        var peak = baseline
        let deadline = Launch.now() + 60_000
        var done = false
        while !done && Launch.now() < deadline {
            // One chunk at a time, pausing every MiB: the worker meets a full socket again and again.
            let line = try Self.readLine(&reader)
            guard let size = Int(line, radix: 16) else { return XCTFail("bad chunk size line \(line)") }
            if size == 0 { done = true; break }
            compressed += try reader.read(exactly: size)
            _ = try reader.read(exactly: 2)
            if (compressed.count - size) >> 20 != compressed.count >> 20 {
                usleep(2_000)
                peak = max(peak, GzipWire.residentBytes(of: worker))
            }
        }
        XCTAssertTrue(done, "the whole body within 60 s")
        XCTAssertGreaterThan(compressed.count, 32 << 20, "the body is large compressed too")
        XCTAssertTrue(Gunzip.decode(compressed) == bytes, "it decodes to the file")
        // The body is 48 MiB compressed and 64 MiB raw: holding either would show. One zlib state
        // (~256 KiB), a 32 KiB staging buffer and a 16 KiB piece are all a slow reader costs.
        XCTAssertLessThan(peak - baseline, 8 << 20, "resident set grew by \((peak - baseline) >> 10) KiB")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testClientsThatGoAwayMidBodyLeaveNothingBehind() throws {
        let (server, _, worker) = try startServer(fileMegabytes: 8)
        XCTAssertTrue(ServerProcess.eventually { ProcessActivity.isAtRest(worker) })
        let idleDescriptors = GzipWire.openDescriptors(of: worker)
        var residentAfterWarmUp = 0
        for round in 0..<200 {
            let client = try TestClient(port: server.port, smallReceiveBuffer: true)
            try client.send(GzipWire.get(round % 2 == 0 ? "/example/text-file" : "/example/text/stream?chunks=1000&size=16384"))
            var reader = RawReader(fd: client.fd)
            XCTAssertTrue(try reader.readHead().contains("Content-Encoding: gzip"))
            _ = try reader.read(atMost: 4096)
            // Unread bytes in its socket: the close sends a reset, as a client that crashed would.
            // (TestClient closes its socket when released, at the end of this round.)
            if round == 19 {
                XCTAssertTrue(ServerProcess.eventually { GzipWire.openDescriptors(of: worker) == idleDescriptors })
                residentAfterWarmUp = GzipWire.residentBytes(of: worker)
            }
        }
        XCTAssertTrue(ServerProcess.eventually { GzipWire.openDescriptors(of: worker) == idleDescriptors },
                      "every connection and file closed: \(GzipWire.openDescriptors(of: worker)) open, \(idleDescriptors) idle")
        let grown = GzipWire.residentBytes(of: worker) - residentAfterWarmUp
        // 180 leaked zlib states would hold ~45 MiB.
        XCTAssertLessThan(grown, 8 << 20, "resident set grew by \(grown >> 10) KiB over 180 abandoned bodies")
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "the worker serves on")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAFileTruncatedWhileItIsGzippedEndsTheConnectionWithoutTheLastChunk() throws {
        let (server, _, worker) = try startServer(fileMegabytes: 32)
        let idleDescriptors = GzipWire.openDescriptors(of: worker)
        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        try client.send(GzipWire.get("/example/text-file"))
        var reader = RawReader(fd: client.fd)
        XCTAssertTrue(try reader.readHead().contains("Content-Encoding: gzip"))
        XCTAssertEqual(truncate(filePath, 1 << 20), 0, "truncate(2)")
        // The worker reads on as the client drains, meets the end of the file before the region's
        // end, and closes: the body is cut short, never ended with the last chunk as if complete.
        XCTAssertThrowsError(try reader.readChunkedBody(), "the body ends without its last chunk")
        XCTAssertTrue(ServerProcess.eventually { GzipWire.openDescriptors(of: worker) == idleDescriptors },
                      "the connection and the file are closed")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    private static func readLine(_ reader: inout RawReader) throws -> String {
        var line: [UInt8] = []
        while line.count < 2 || line[line.count - 2] != 13 || line[line.count - 1] != 10 {
            let byte = try reader.read(atMost: 1)
            guard !byte.isEmpty else { throw LaunchError("closed inside a chunk size line") }
            line += byte
        }
        return String(decoding: line.dropLast(2), as: UTF8.self)
    }
}
