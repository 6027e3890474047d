// Real clients against `server --root`: curl's ranges (-r), its conditional GET
// (-z, with a date and with a local file older or newer), a resumed partial
// download (-C -), HEAD (-I); and a multipart answer of large parts, produced
// across many pieces, checked byte for byte.
import Foundation
import Glibc
import TestSupport
import XCTest

final class FileClientsTests: XCTestCase {
    private var root = ""
    private var server: ServerProcess?
    /// 1 MiB of a repeating pattern that never repeats within a line, so a misplaced byte shows.
    private let content: [UInt8] = (0..<(1 << 20)).map(FileClientsTests.patternByte)

    private static func patternByte(_ index: Int) -> UInt8 {
        let step = index * 7 + index / 1013
        return UInt8(33 + step % 90)
    }
    private let modified = 1_600_000_000  // Sun, 13 Sep 2020 12:26:40 GMT

    override func setUpWithError() throws {
        guard access("/usr/bin/curl", X_OK) == 0 else { throw XCTSkip("curl is not installed (Debian package curl)") }
        root = NSTemporaryDirectory() + "file-clients-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data(content).write(to: URL(fileURLWithPath: root + "/big.bin"))
        setModified(root + "/big.bin", modified)
        server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", root])
    }

    override func tearDown() {
        _ = server?.stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    private var url: String { "http://127.0.0.1:\(server!.port)/big.bin" }

    func testCurlRangeGetsThosePartsOnly() throws {
        XCTAssertEqual(try curl(["-r", "0-99"]), .init(status: 206, body: Array(content[0...99])))
        XCTAssertEqual(try curl(["-r", "1000000-"]), .init(status: 206, body: Array(content[1_000_000...])))
        XCTAssertEqual(try curl(["-r", "-10"]), .init(status: 206, body: Array(content.suffix(10))))
    }

    func testCurlConditionalGetWithADateAndWithALocalFile() throws {
        XCTAssertEqual(try curl(["-z", "Sun, 13 Sep 2020 12:26:40 GMT"]).status, 304)
        XCTAssertEqual(try curl(["-z", "Sun, 13 Sep 2020 12:26:39 GMT"]), .init(status: 200, body: content))
        let local = root + "/local-copy"
        XCTAssertTrue(FileManager.default.createFile(atPath: local, contents: Data("old".utf8)))
        setModified(local, modified - 3600)
        XCTAssertEqual(try curl(["-z", local]), .init(status: 200, body: content), "a local copy older than the file")
        setModified(local, modified + 3600)
        XCTAssertEqual(try curl(["-z", local]), .init(status: 304, body: []), "a local copy newer than the file")
        // "-z -DATE" asks for the file only if it is unmodified since (If-Unmodified-Since).
        XCTAssertEqual(try curl(["-z", "-Sun, 13 Sep 2020 12:26:39 GMT"]).status, 412)
    }

    func testCurlResumesAPartialDownload() throws {
        let partial = root + "/partial"
        try Data(content[0..<300_000]).write(to: URL(fileURLWithPath: partial))
        let result = try Launch.runToEnd("/usr/bin/curl", ["-s", "-C", "-", "-o", partial, "-w", "%{http_code}", url])
        XCTAssertEqual(result.stdout, "206")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: partial)), Data(content))
    }

    func testCurlHeadShowsTheValidatorsAndNoBody() throws {
        let result = try Launch.runToEnd("/usr/bin/curl", ["-s", "-I", url])
        let head = result.stdout.lowercased()
        XCTAssertTrue(head.hasPrefix("http/1.1 200 ok\r\n"), head)
        XCTAssertTrue(head.contains("content-length: \(content.count)\r\n"), head)
        XCTAssertTrue(head.contains("last-modified: sun, 13 sep 2020 12:26:40 gmt\r\n"), head)
        XCTAssertTrue(head.contains("etag: \"5f5e1000-100000-"), head)
        XCTAssertTrue(head.contains("accept-ranges: bytes\r\n"), head)
    }

    func testAMultipartAnswerOfLargePartsIsExactToTheByte() throws {
        let ranges = [(0, 99_999), (500_000, 799_999), (1_048_000, 1_048_575)]
        let client = try TestClient(port: server!.port)
        let spec = ranges.map { "\($0.0)-\($0.1)" }.joined(separator: ",")
        try client.send("GET /big.bin HTTP/1.1\r\nHost: test\r\nRange: bytes=\(spec)\r\n\r\n")
        // The pattern is ASCII, so the client's text body holds every byte.
        let head = try client.readResponse()
        XCTAssertEqual(head.status, 206)
        let type = head.header("Content-Type") ?? ""
        let boundary = type.components(separatedBy: "boundary=").last ?? ""
        XCTAssertTrue(type.hasPrefix("multipart/byteranges; boundary="), type)
        var expected: [UInt8] = []
        for (first, last) in ranges {
            expected += Array(("\r\n--\(boundary)\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Range: bytes \(first)-\(last)/\(content.count)\r\n\r\n").utf8)
            expected += content[first...last]
        }
        expected += Array("\r\n--\(boundary)--\r\n".utf8)
        XCTAssertEqual(head.header("Content-Length"), "\(expected.count)")
        XCTAssertTrue(Array(head.body.utf8) == expected, "the multipart body differs from the parts and headers expected")
        // The connection stays usable: the body ended exactly at its length.
        XCTAssertEqual(try client.get("/big.bin", headers: "Range: bytes=0-0\r\n").status, 206)
    }

    // MARK: - Helpers

    struct Fetched: Equatable {
        let status: Int
        let body: [UInt8]
    }

    /// curl's status and body for `url` with `arguments`.
    private func curl(_ arguments: [String]) throws -> Fetched {
        let output = root + "/curl-\(UUID().uuidString)"
        let result = try Launch.runToEnd("/usr/bin/curl", ["-s", "-o", output, "-w", "%{http_code}"] + arguments + [url])
        let body = (try? Data(contentsOf: URL(fileURLWithPath: output))).map { Array($0) } ?? []
        try? FileManager.default.removeItem(atPath: output)
        return Fetched(status: Int(result.stdout) ?? -1, body: body)
    }

    private func setModified(_ path: String, _ seconds: Int) {
        var times = [timeval(tv_sec: seconds, tv_usec: 0), timeval(tv_sec: seconds, tv_usec: 0)]
        XCTAssertEqual(utimes(path, &times), 0)
    }
}
