// On-the-fly gzip against the real example server (--gzip): curl gets a large
// text file's exact bytes; handlers' bodies of every kind (bytes, stream,
// deferred) are gzipped; identity is sent when gzip is not accepted, not worth
// it or not allowed; HEAD gets GET's head; Vary says when the answer depends on
// Accept-Encoding; pipelined requests behind a gzipped body keep their order.
import Foundation
import Glibc
import TestSupport
import XCTest

final class GzipOnTheFlyTests: XCTestCase {
    private var filePath = ""

    override func tearDown() {
        if !filePath.isEmpty { unlink(filePath) }
        super.tearDown()
    }

    private func startServer(fileMegabytes: Int = 1, compressible: Bool = true, flags: [String] = ["--gzip"]) throws
        -> (ServerProcess, [UInt8]) {
        let (path, bytes) = try GzipWire.textFile(megabytes: fileMegabytes, compressible: compressible)
        filePath = path
        setenv("EXAMPLE_FILE", path, 1)
        defer { unsetenv("EXAMPLE_FILE") }
        return (try ServerProcess(["--host", "127.0.0.1", "--workers", "1"] + flags, executable: "example-server"), bytes)
    }

    func testCurlCompressedReceivesTheExactBytesOfALargeTextFile() throws {
        guard let curl = GzipWire.curl else { throw XCTSkip("curl is not installed (apt-get install curl)") }
        let (server, bytes) = try startServer(fileMegabytes: 8)
        let output = filePath + ".out"
        defer { unlink(output) }
        let result = try Launch.runToEnd(curl, ["-s", "--compressed", "-D", "-", "-o", output, "-w", "size_download=%{size_download}",
                                               "http://127.0.0.1:\(server.port)/example/text-file"])
        XCTAssertEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, result.stderr)
        let headers = result.stdout.lowercased()
        XCTAssertTrue(headers.contains("content-encoding: gzip"), headers)
        XCTAssertTrue(headers.contains("vary: accept-encoding"), headers)
        let received = try XCTUnwrap(FileManager.default.contents(atPath: output))
        XCTAssertEqual(received.count, bytes.count)
        XCTAssertTrue(received == Data(bytes), "curl decoded the very bytes of the file")
        let written = try XCTUnwrap(result.stdout.range(of: "size_download="), result.stdout)
        let wireBytes = try XCTUnwrap(Int(result.stdout[written.upperBound...]), result.stdout)
        XCTAssertLessThan(wireBytes, bytes.count / 2, "the body travelled compressed")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testHandlerBodiesOfEveryKindAreGzipped() throws {
        let (server, _) = try startServer()
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        for path in ["/example/text?size=100000", "/example/text/stream?chunks=20&size=5000",
                     "/example/text/deferred?size=50000", "/example/text-file"] {
            let identity = try GzipWire.exchange(&reader, client, GzipWire.get(path, acceptEncoding: nil))
            let gzipped = try GzipWire.exchange(&reader, client, GzipWire.get(path))
            XCTAssertFalse(identity.isGzipped, path)
            XCTAssertTrue(gzipped.isGzipped, "\(path): \(gzipped.head)")
            XCTAssertTrue(gzipped.has("transfer-encoding: chunked\r\n") && !gzipped.has("content-length"), gzipped.head)
            XCTAssertTrue(gzipped.varies && identity.varies, "\(path): Vary either way")
            XCTAssertEqual(gzipped.decoded, identity.body, "\(path) decodes to the identity body")
            XCTAssertLessThan(gzipped.body.count, identity.body.count / 2, path)
        }
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testIdentityIsSentWhenGzipIsNotAcceptedNotWorthItOrNotAllowed() throws {
        let (server, _) = try startServer()
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        // (request, gzipped, Vary, why)
        let table: [(String, Bool, Bool, String)] = [
            (GzipWire.get("/example/text?size=5000"), true, true, "gzip accepted"),
            (GzipWire.get("/example/text?size=5000", acceptEncoding: nil), false, true, "no Accept-Encoding"),
            (GzipWire.get("/example/text?size=5000", acceptEncoding: "gzip;q=0"), false, true, "q=0 excludes gzip"),
            (GzipWire.get("/example/text?size=5000", acceptEncoding: "br, deflate"), false, true, "gzip not listed"),
            (GzipWire.get("/example/text?size=5000", acceptEncoding: "*"), true, true, "* accepts gzip"),
            (GzipWire.get("/example/text?size=5000", acceptEncoding: "*;q=0"), false, true, "nothing acceptable: identity, no 406"),
            (GzipWire.get("/example/text?size=5000", acceptEncoding: "identity, gzip;q=0.5"), false, true, "identity preferred"),
            (GzipWire.get("/example/text?size=5000", acceptEncoding: "GZip ; Q=0.8"), true, true, "case and spaces"),
            (GzipWire.get("/example/text?size=5000", acceptEncoding: "gzip;q=nonsense, ,"), false, true, "malformed weight ignored"),
            (GzipWire.get("/example/text?size=200"), false, false, "below --gzip-min-length (256)"),
            (GzipWire.get("/example/text?size=256"), true, true, "at the minimum"),
            (GzipWire.get("/example/text/static"), false, false, "a 6-byte text body"),
            (GzipWire.get("/example/file"), false, false, "application/octet-stream is not compressible"),
            (GzipWire.get("/nowhere-with-a-long-name"), false, false, "a short 404"),
            (GzipWire.get("/example/text?size=5000", version: "1.0"), false, true, "HTTP/1.0: identity, keep-alive kept"),
        ]
        for (request, gzipped, varies, why) in table {
            let response = try GzipWire.exchange(&reader, client, request)
            XCTAssertEqual(response.isGzipped, gzipped, "\(why): \(response.head)")
            XCTAssertEqual(response.varies, varies, "\(why): \(response.head)")
            XCTAssertNotNil(response.decoded, why)
            if !gzipped { XCTAssertTrue(response.has("content-length:"), "\(why): \(response.head)") }
        }
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAStrongETagBecomesWeakWhenTheBodyIsGzipped() throws {
        let (server, _) = try startServer()
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        let identity = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text/etag?size=5000", acceptEncoding: nil))
        XCTAssertTrue(identity.has("etag: \"text-v1\"\r\n"), identity.head)
        // RFC 9110 §8.8.1: the gzipped bytes are another representation; a strong tag would claim they are the same.
        let gzipped = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text/etag?size=5000"))
        XCTAssertTrue(gzipped.isGzipped && gzipped.has("etag: w/\"text-v1\"\r\n"), gzipped.head)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testWithoutTheFlagNothingIsCompressedOrVaried() throws {
        let (server, _) = try startServer(flags: [])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        let response = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text?size=100000"))
        XCTAssertFalse(response.isGzipped || response.varies, response.head)
        XCTAssertEqual(response.body.count, 100_000)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testFlagsSetTheMinimumLengthAndAreValidated() throws {
        let (server, _) = try startServer(flags: ["--gzip", "--gzip-min-length", "200000", "--gzip-level", "9"])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        XCTAssertFalse(try GzipWire.exchange(&reader, client, GzipWire.get("/example/text?size=100000")).isGzipped)
        XCTAssertTrue(try GzipWire.exchange(&reader, client, GzipWire.get("/example/text?size=300000")).isGzipped)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        for (flags, message) in [(["--gzip-level", "0"], "--gzip-level must be between 1 and 9"),
                                 (["--gzip-level", "10"], "--gzip-level must be between 1 and 9"),
                                 (["--gzip-min-length=-1"], "--gzip-min-length must not be negative")] {
            let result = try Launch.runToEnd(ServerProcess.executablePath, flags + ["--port", "0"])
            XCTAssertNotEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, "\(flags)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
    }

    func testHeadGetsTheHeadOfTheGzippedGetAndNoBody() throws {
        let (server, _) = try startServer()
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        let get = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text-file"))
        XCTAssertTrue(get.isGzipped, get.head)
        try client.send(GzipWire.get("/example/text-file", method: "HEAD") + GzipWire.get("/health"))
        let head = try GzipWire.read(&reader, head: true)
        XCTAssertEqual(Self.fieldsButDate(head.head), Self.fieldsButDate(get.head), "RFC 9110 §9.3.2: the same fields")
        let health = try GzipWire.read(&reader)
        XCTAssertEqual(health.body, Array("ok\n".utf8), "the next response follows the head at once")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testPipelinedRequestsBehindGzippedBodiesAreAnsweredInOrder() throws {
        let (server, bytes) = try startServer(fileMegabytes: 2)
        let client = try TestClient(port: server.port, smallReceiveBuffer: true)
        try client.send(GzipWire.get("/example/text-file") + GzipWire.get("/health") + GzipWire.get("/example/text?size=70000")
            + GzipWire.get("/example/text/stream?chunks=3&size=1000", acceptEncoding: nil) + GzipWire.get("/example/text-file")
            + GzipWire.get("/health", close: true))
        var reader = RawReader(fd: client.fd)
        let first = try GzipWire.read(&reader)
        XCTAssertTrue(first.isGzipped)
        XCTAssertEqual(first.decoded, bytes, "the file, whole and first")
        XCTAssertEqual(try GzipWire.read(&reader).body, Array("ok\n".utf8))
        XCTAssertEqual(try GzipWire.read(&reader).decoded?.count, 70_000)
        let plain = try GzipWire.read(&reader)
        XCTAssertFalse(plain.isGzipped)
        XCTAssertEqual(plain.body.count, 3000)
        XCTAssertEqual(try GzipWire.read(&reader).decoded, bytes)
        XCTAssertEqual(try GzipWire.read(&reader).body, Array("ok\n".utf8))
        XCTAssertEqual(try reader.read(atMost: 1), [], "closed after the last")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testEveryModelGzips() throws {
        let (path, _) = try GzipWire.textFile(megabytes: 1, compressible: true)
        filePath = path
        setenv("EXAMPLE_FILE", path, 1)
        defer { unsetenv("EXAMPLE_FILE") }
        for model in ["serial", "thread-pool", "thread-per-connection", "process-per-connection", "prefork", "reactor"] {
            let server = try ServerProcess(["--host", "127.0.0.1", "--model", model, "--gzip"], executable: "example-server")
            let client = try TestClient(port: server.port)
            var reader = RawReader(fd: client.fd)
            let identity = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text-file", acceptEncoding: nil))
            let gzipped = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text-file", close: true))
            XCTAssertTrue(gzipped.isGzipped, "\(model): \(gzipped.head)")
            XCTAssertEqual(gzipped.decoded, identity.body, model)
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0, model)
        }
    }

    private static func fieldsButDate(_ head: String) -> [String] {
        head.split(separator: "\r\n").map(String.init).filter { !$0.lowercased().hasPrefix("date:") }
    }
}
