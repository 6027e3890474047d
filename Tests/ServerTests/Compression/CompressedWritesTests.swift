// CompressedWritesTests: how a gzipped page leaves, seen with strace on the
// worker: the head, the compressed body in one chunk and the last chunk go out
// in one write call, as nginx sends them in one writev (each extra sendto was
// a tenth of gzip's throughput); and the access log counts the bytes the
// gzipped body actually took on the wire, not 0.
import Foundation
import Glibc
import TestSupport
import XCTest

final class CompressedWritesTests: XCTestCase {
    /// An HTML page of `size` bytes that compresses as pages do: table rows with varying numbers (scripts/harness/files.py).
    static func html(size: Int) -> String {
        var page = "<!doctype html>\n<html><head><title>bench</title></head><body><table>\n"
        let tail = "</table></body></html>\n"
        var index = 0
        while true {
            let row = "<tr><td class=\"id\">\(index)</td><td>item \(index * 7919 % 10007)</td><td>\(index * index % 997)</td></tr>\n"
            if page.utf8.count + row.utf8.count + tail.utf8.count > size { break }
            page += row
            index += 1
        }
        page += tail
        return page + String(repeating: " ", count: size - page.utf8.count)
    }

    func testAGzippedPageIsOneWriteOfHeadBodyAndLastChunk() throws {
        let tree = try StaticTree()
        let page = Self.html(size: 100 * 1024)
        try tree.file("100k.html", page)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--gzip"])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        // Once before tracing: the worker's first response warms its caches (the open-file cache, the zlib pool).
        XCTAssertTrue(try GzipWire.exchange(&reader, client, GzipWire.get("/100k.html")).isGzipped)
        let trace = try Strace.required(pid: worker, calls: "write,writev,sendto,sendmsg")
        let response = try GzipWire.exchange(&reader, client, GzipWire.get("/100k.html"))
        let calls = trace.finish()
        XCTAssertTrue(response.isGzipped, response.head)
        XCTAssertEqual(response.decoded, Array(page.utf8))
        XCTAssertEqual(calls.count, 1, "one call for the whole response: \(calls)")
        XCTAssertTrue(calls.first?.contains("HTTP/1.1 200 OK") == true, "\(calls)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testTheAccessLogCountsTheBytesOfAGzippedBody() throws {
        let tree = try StaticTree()
        try tree.file("100k.html", Self.html(size: 100 * 1024))
        let log = tree.base + "/access.log"
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--gzip",
                                        "--access-log", log])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        try client.send(GzipWire.get("/100k.html", close: true))
        let head = try reader.readHead()
        // The body as it travelled, up to the close: its chunk framing too, as nginx's $body_bytes_sent counts it.
        var wire: [UInt8] = []
        while case let piece = try reader.read(atMost: 1 << 16), !piece.isEmpty { wire += piece }
        XCTAssertTrue(wire.suffix(5).elementsEqual(Array("0\r\n\r\n".utf8)), "the body ends with the last chunk")
        XCTAssertTrue(head.lowercased().contains("content-encoding: gzip"), head)
        func loggedBytes() -> Int? {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard let line = text.split(separator: "\n").first(where: { $0.contains("\"GET /100k.html HTTP/1.1\"") }) else { return nil }
            return Int(line.components(separatedBy: "HTTP/1.1\" ")[1].split(separator: " ")[1])
        }
        XCTAssertTrue(ServerProcess.eventually { loggedBytes() != nil }, "the line is written once the body is sent")
        XCTAssertEqual(loggedBytes(), wire.count)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
