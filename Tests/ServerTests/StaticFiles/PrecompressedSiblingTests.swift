// --gzip-static against `server --root`: a file's `.br` or `.gz` sibling is
// served by the client's Accept-Encoding weights, with Content-Encoding, Vary,
// the sibling's own length and the original's Content-Type; without the flag,
// or without a preferred sibling, the file itself; with --gzip too, a sibling
// is never compressed again, and a file without one is compressed on the fly.
import Foundation
import Glibc
import TestSupport
import XCTest
@testable import Server

final class PrecompressedSiblingTests: XCTestCase {
    private static let original = String(repeating: "<p>the original page, compressible enough</p>\n", count: 200)
    private static let brotli = "BR-SIBLING-BYTES\n"
    private static let gzip = "GZ-SIBLING-BYTES-LONGER\n"

    private func tree(siblings: Bool = true) throws -> StaticTree {
        let tree = try StaticTree()
        try tree.file("page.html", Self.original)
        try tree.file("alone.html", Self.original)
        try tree.file("dir/index.html", Self.original)
        if siblings {
            try tree.file("page.html.br", Self.brotli)
            try tree.file("page.html.gz", Self.gzip)
            try tree.file("dir/index.html.gz", Self.gzip)
        }
        return tree
    }

    func testTheSiblingIsChosenByTheClientsWeights() throws {
        let tree = try tree()
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--gzip-static"])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        // (Accept-Encoding, the body expected, its Content-Encoding)
        let table: [(String?, String, String?)] = [
            (nil, Self.original, nil),
            ("gzip", Self.gzip, "gzip"),
            ("br", Self.brotli, "br"),
            ("gzip, deflate, br", Self.brotli, "br"),
            ("br;q=0.5, gzip", Self.gzip, "gzip"),
            ("br;q=0, gzip;q=0.1", Self.gzip, "gzip"),
            ("gzip;q=0", Self.original, nil),
            ("identity, gzip;q=0.5", Self.original, nil),
            ("identity;q=0.5, br;q=0.5", Self.brotli, "br"),
            ("*", Self.brotli, "br"),
            ("*;q=0", Self.original, nil),
            ("x-gzip", Self.gzip, "gzip"),
            ("deflate", Self.original, nil),
        ]
        for (accept, body, coding) in table {
            let response = try GzipWire.exchange(&reader, client, GzipWire.get("/page.html", acceptEncoding: accept))
            XCTAssertEqual(String(decoding: response.body, as: UTF8.self), body, "\(accept ?? "none")")
            XCTAssertEqual(response.has("content-encoding: \(coding ?? "")\r\n"), coding != nil, "\(accept ?? "none"): \(response.head)")
            XCTAssertTrue(response.has("content-length: \(body.utf8.count)\r\n"), "the sibling's own length: \(response.head)")
            XCTAssertTrue(response.has("content-type: text/html"), "the original's type: \(response.head)")
            XCTAssertTrue(response.varies, "\(accept ?? "none"): \(response.head)")
        }
        // A directory's index file has siblings too; a file without any varies by nothing.
        let index = try GzipWire.exchange(&reader, client, GzipWire.get("/dir/", acceptEncoding: "gzip"))
        XCTAssertEqual(String(decoding: index.body, as: UTF8.self), Self.gzip)
        let alone = try GzipWire.exchange(&reader, client, GzipWire.get("/alone.html", acceptEncoding: "gzip"))
        XCTAssertFalse(alone.isGzipped || alone.varies, alone.head)
        let head = try GzipWire.exchange(&reader, client, GzipWire.get("/page.html", method: "HEAD"), head: true)
        XCTAssertTrue(head.isGzipped && head.has("content-length: \(Self.gzip.utf8.count)\r\n"), head.head)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testWithoutTheFlagTheFileItselfIsServed() throws {
        let tree = try tree()
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        let response = try GzipWire.exchange(&reader, client, GzipWire.get("/page.html", acceptEncoding: "br, gzip"))
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), Self.original)
        XCTAssertFalse(response.isGzipped || response.varies, response.head)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testWithOnTheFlyGzipASiblingIsSentAsItIsAndAFileWithoutOneIsCompressed() throws {
        let tree = try tree()
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--gzip-static", "--gzip"])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        let sibling = try GzipWire.exchange(&reader, client, GzipWire.get("/page.html"))
        XCTAssertEqual(String(decoding: sibling.body, as: UTF8.self), Self.gzip, "not compressed twice")
        XCTAssertEqual(sibling.head.lowercased().components(separatedBy: "vary:").count, 2, "one Vary: \(sibling.head)")
        let alone = try GzipWire.exchange(&reader, client, GzipWire.get("/alone.html"))
        XCTAssertTrue(alone.isGzipped && alone.varies, alone.head)
        XCTAssertEqual(alone.decoded, Array(Self.original.utf8))
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testCurlCompressedDecodesARealGzipSibling() throws {
        guard let curl = GzipWire.curl else { throw XCTSkip("curl is not installed (apt-get install curl)") }
        let tree = try StaticTree()
        let text = String(repeating: "a real page, gzipped ahead of time by its build\n", count: 5000)
        try tree.file("real.html", text)
        let compressed = try XCTUnwrap(GzipBodyTests.pullAll(GzipBody(source: .bytes(Array(text.utf8)), level: 9), pieceSize: 4096))
        try Data(compressed).write(to: URL(fileURLWithPath: tree.root + "/real.html.gz"))
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root, "--gzip-static"])
        let output = tree.base + "/curl.out"
        // Into a file: runToEnd reads curl's stdout only once it exits, and a pipe holds 64 KiB.
        let result = try Launch.runToEnd(curl, ["-s", "--compressed", "-o", output, "-w", "size_download=%{size_download}",
                                               "http://127.0.0.1:\(server.port)/real.html"])
        XCTAssertEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, result.stderr)
        XCTAssertEqual(result.stdout, "size_download=\(compressed.count)", "the sibling's bytes travelled")
        XCTAssertEqual(FileManager.default.contents(atPath: output), Data(text.utf8), "curl decoded them to the page")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
