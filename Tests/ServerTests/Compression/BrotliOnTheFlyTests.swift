// Brotli on the fly against the real example server (--brotli): handlers'
// bodies of every kind decode (libbrotli's decoder) to the identity bytes; br
// wins a tie with gzip and loses to a heavier gzip; a response that says
// Cache-Control: no-transform is never compressed (RFC 9111 §5.2.2.6); /metrics
// counts compressed responses by coding; the quality flag is validated.
import Foundation
import Glibc
import TestSupport
import XCTest

final class BrotliOnTheFlyTests: XCTestCase {
    private var filePath = ""

    override func tearDown() {
        if !filePath.isEmpty { unlink(filePath) }
        super.tearDown()
    }

    private func startServer(flags: [String]) throws -> ServerProcess {
        let (path, _) = try GzipWire.textFile(megabytes: 1, compressible: true)
        filePath = path
        setenv("EXAMPLE_FILE", path, 1)
        defer { unsetenv("EXAMPLE_FILE") }
        return try ServerProcess(["--host", "127.0.0.1", "--workers", "1"] + flags, executable: "example-server")
    }

    func testHandlerBodiesOfEveryKindAreSentInBrotliAndDecodeToTheIdentityBytes() throws {
        let server = try startServer(flags: ["--gzip", "--brotli"])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        for path in ["/example/text?size=100000", "/example/text/stream?chunks=20&size=5000",
                     "/example/text/deferred?size=50000", "/example/text-file"] {
            let identity = try GzipWire.exchange(&reader, client, GzipWire.get(path, acceptEncoding: nil))
            let compressed = try GzipWire.exchange(&reader, client, GzipWire.get(path, acceptEncoding: "gzip, deflate, br, zstd"))
            XCTAssertTrue(compressed.has("content-encoding: br\r\n"), "\(path): br wins the tie: \(compressed.head)")
            XCTAssertTrue(compressed.has("transfer-encoding: chunked\r\n") && compressed.varies, compressed.head)
            XCTAssertEqual(Unbrotli.decode(compressed.body), identity.body, "\(path) decodes to the identity body")
            XCTAssertLessThan(compressed.body.count, identity.body.count / 2, path)
        }
        // Weights decide before the server's preference.
        let gzipped = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text?size=5000", acceptEncoding: "br;q=0.5, gzip"))
        XCTAssertTrue(gzipped.isGzipped, gzipped.head)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testBrotliIsSentOnlyWhenItsFlagIsOn() throws {
        let server = try startServer(flags: ["--gzip"])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        let onlyBrotli = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text?size=5000", acceptEncoding: "br"))
        XCTAssertFalse(onlyBrotli.has("content-encoding"), onlyBrotli.head)
        let both = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text?size=5000", acceptEncoding: "br, gzip"))
        XCTAssertTrue(both.isGzipped, both.head)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAResponseThatForbidsTransformationIsNeverCompressed() throws {
        let server = try startServer(flags: ["--gzip", "--brotli"])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        for coding in ["gzip", "br"] {
            let response = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text/no-transform?size=100000",
                                                                                 acceptEncoding: coding))
            XCTAssertFalse(response.has("content-encoding"), "\(coding): \(response.head)")
            XCTAssertEqual(response.body.count, 100_000)
        }
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testMetricsCountCompressedResponsesByCoding() throws {
        let server = try startServer(flags: ["--gzip", "--brotli"])
        let client = try TestClient(port: server.port)
        var reader = RawReader(fd: client.fd)
        for coding in ["gzip", "gzip", "br", "identity"] {
            _ = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text?size=5000", acceptEncoding: coding))
        }
        // HEAD sends no compressed body: not counted.
        _ = try GzipWire.exchange(&reader, client, GzipWire.get("/example/text?size=5000", acceptEncoding: "br", method: "HEAD"),
                                  head: true)
        func count(_ coding: String) -> Double? {
            guard let response = try? TestClient(port: server.port).get("/metrics"),
                  let metrics = try? PrometheusText(response.body) else { return nil }
            return metrics.value("prefork_compressed_responses_total", ["coding": coding])
        }
        XCTAssertTrue(ServerProcess.eventually { count("gzip") == 2 && count("br") == 1 },
                      "gzip \(String(describing: count("gzip"))), br \(String(describing: count("br")))")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testTheQualityFlagIsValidated() throws {
        for flags in [["--brotli-level", "12"], ["--brotli-level=-1"]] {
            let result = try Launch.runToEnd(ServerProcess.executablePath, flags + ["--port", "0"])
            XCTAssertNotEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, "\(flags)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("--brotli-level must be between 0 and 11"), result.stderr)
        }
    }
}
