// A multipart/byteranges body whose file shrinks while it is being sent: the
// stream cannot honour its Content-Length, so the connection ends early, never
// hangs and never carries another response after the short body.
import Foundation
import Glibc
import TestSupport
import XCTest

final class MultipartTruncationTests: XCTestCase {
    func testAFileTruncatedDuringAMultipartAnswerEndsTheConnection() throws {
        let root = NSTemporaryDirectory() + "multipart-truncation-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/big.bin"
        let size = 64 << 20
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        XCTAssertEqual(truncate(path, off_t(size)), 0)  // sparse: 64 MiB of zeros, far more than socket buffers hold
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", root])
        defer { _ = server.stop() }

        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        try client.send("GET /big.bin HTTP/1.1\r\nHost: test\r\nRange: bytes=0-0,1-\(size - 1)\r\n\r\n")
        var head: [String] = []
        while let line = try? client.readLine(), line != "\r", head.count < 20 { head.append(line) }
        XCTAssertEqual(head.first, "HTTP/1.1 206 Partial Content\r")
        XCTAssertTrue(head.contains { $0.hasPrefix("Content-Type: multipart/byteranges; boundary=") }, "\(head)")
        let declared = head.first { $0.hasPrefix("Content-Length: ") }.flatMap { Int($0.dropFirst(16).dropLast()) } ?? 0
        XCTAssertGreaterThan(declared, size)

        XCTAssertEqual(truncate(path, off_t(1 << 20)), 0)
        let received = client.readUntilClosed().utf8.count
        XCTAssertLessThan(received, declared, "the body ended short of its Content-Length")
        XCTAssertTrue(client.readsEndOfStream(), "the server closed the connection")
    }
}
