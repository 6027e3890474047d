// FileAccessLogTests: the access log's $body_bytes_sent for file bodies is what
// actually left: the whole file when it was sent, 0 for HEAD, and less than the
// Content-Length when the client went away halfway or the file was truncated;
// for multipart and gzipped bodies too (streams), not their length or 0.
import Foundation
import Glibc
import TestSupport
import XCTest

final class FileAccessLogTests: XCTestCase {
    private var tree: StaticTree!

    override func setUpWithError() throws { tree = try StaticTree() }
    override func tearDown() { tree = nil }

    private func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// $body_bytes_sent of the line for `request` ("GET /a.txt").
    private func bodyBytes(in lines: [String], for request: String) -> Int? {
        guard let line = lines.first(where: { $0.contains("\"\(request) HTTP/1.1\"") }) else { return nil }
        let afterRequest = line.components(separatedBy: "HTTP/1.1\" ")[1].split(separator: " ")
        return Int(afterRequest[1])
    }

    func testFileBodiesAreLoggedWithTheBytesActuallySent() throws {
        let size = 64 << 20
        try tree.file("small.txt", "hello\n")
        let fd = open(tree.root + "/big.bin", O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        XCTAssertEqual(ftruncate(fd, off_t(size)), 0)
        close(fd)
        let log = tree.base + "/access.log"
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--access-log", log])
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/small.txt").body, "hello\n")
        try client.send("HEAD /small.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse(headOnly: true).status, 200)
        // A client that reads 1 MiB of the 64 MiB and goes away.
        let leaving = try TestClient(port: server.port, smallReceiveBuffer: true)
        try leaving.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        var reader = RawReader(fd: leaving.fd)
        _ = try reader.readHead()
        _ = try reader.read(exactly: 1 << 20)
        var lingerOff = linger(l_onoff: 1, l_linger: 0)
        setsockopt(leaving.fd, SOL_SOCKET, SO_LINGER, &lingerOff, socklen_t(MemoryLayout<linger>.size))
        close(leaving.fd)
        XCTAssertTrue(ServerProcess.eventually { self.bodyBytes(in: self.lines(log), for: "GET /big.bin") != nil },
                      "the line is written once the body is done with: \(lines(log))")
        let written = lines(log)
        XCTAssertEqual(bodyBytes(in: written, for: "GET /small.txt"), 6)
        XCTAssertEqual(bodyBytes(in: written, for: "HEAD /small.txt"), 0)
        let partial = try XCTUnwrap(bodyBytes(in: written, for: "GET /big.bin"))
        XCTAssertGreaterThanOrEqual(partial, 1 << 20, "at least what the client read")
        XCTAssertLessThan(partial, size, "not the Content-Length: \(written)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testMultipartAndGzippedBodiesAreLoggedWithTheBytesActuallySent() throws {
        let size = 64 << 20
        let fd = open(tree.root + "/big.txt", O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        XCTAssertEqual(ftruncate(fd, off_t(size)), 0)
        close(fd)
        // Random letters do not shrink much gzipped: the client's 1 MiB is a small part of the body.
        let random = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom")?.readData(ofLength: 16 << 20))
        XCTAssertTrue(FileManager.default.createFile(atPath: tree.root + "/random.txt", contents: random))
        let log = tree.base + "/access.log"
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--access-log", log, "--gzip"])
        // Two halves of a file as multipart/byteranges, and a file gzipped: each to a client that reads 1 MiB and goes away.
        let requests = ["GET /big.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-33554431,33554432-\r\n\r\n",
                        "GET /random.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n"]
        var lengths: [Int?] = []
        for request in requests {
            let leaving = try TestClient(port: server.port, smallReceiveBuffer: true)
            try leaving.send(request)
            var reader = RawReader(fd: leaving.fd)
            let head = try reader.readHead()
            lengths.append(head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) })
            _ = try reader.read(exactly: 1 << 20)
            var lingerOff = linger(l_onoff: 1, l_linger: 0)
            setsockopt(leaving.fd, SOL_SOCKET, SO_LINGER, &lingerOff, socklen_t(MemoryLayout<linger>.size))
            close(leaving.fd)
        }
        XCTAssertTrue(ServerProcess.eventually {
            self.bodyBytes(in: self.lines(log), for: "GET /big.txt") != nil && self.bodyBytes(in: self.lines(log), for: "GET /random.txt") != nil
        }, "the lines are written once the bodies are done with: \(lines(log))")
        let multipart = try XCTUnwrap(bodyBytes(in: lines(log), for: "GET /big.txt"))
        let multipartLength = try XCTUnwrap(lengths[0] ?? nil, "multipart has a Content-Length")
        XCTAssertGreaterThanOrEqual(multipart, 1 << 20, "at least what the client read")
        XCTAssertLessThan(multipart, multipartLength, "not the Content-Length: \(lines(log))")
        let gzipped = try XCTUnwrap(bodyBytes(in: lines(log), for: "GET /random.txt"))
        XCTAssertGreaterThanOrEqual(gzipped, 1 << 20, "at least what the client read, not 0")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
