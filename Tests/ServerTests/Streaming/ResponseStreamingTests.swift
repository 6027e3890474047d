// Responses streamed from an async sequence (BodyStream(chunks:)), against the
// example server's StreamingRoutes: the producer runs only a bounded amount
// ahead of a client that does not read, the body arrives whole and in order
// once it does, and a client that goes away cancels the producer's task.
import Glibc
import TestSupport
import XCTest

final class ResponseStreamingTests: XCTestCase {
    private func startServer(_ flags: [String] = []) throws -> ServerProcess {
        try ServerProcess(["--host", "127.0.0.1", "--workers", "1"] + flags, executable: "example-server")
    }

    func testAStreamedResponseRunsOnlyABoundedAmountAheadOfASlowReader() throws {
        let chunks = 512  // 64,256 bytes each: 32.9 MB
        for mode in [[], ["--edge-triggered"]] {
            let server = try startServer(mode)
            let client = try TestClient(port: server.port, smallReceiveBuffer: true)
            try client.send("GET /stream/chunks/\(chunks) HTTP/1.1\r\nHost: t\r\n\r\n")
            // Not reading: production stops once the socket buffers and the pump's 64 KiB are full.
            var produced = -1
            XCTAssertTrue(ServerProcess.eventually {
                let now = StreamingWire.counter("/stream/produced", port: server.port) ?? -1
                defer { produced = now }
                usleep(200_000)
                return now > 0 && now == produced
            }, "production settles")
            XCTAssertLessThan(produced, 12 << 20, "produced \(produced) bytes ahead of a client that reads nothing (\(mode))")
            let response = try ResponseReader(client).response()
            XCTAssertEqual(response.status, 200)
            XCTAssertTrue(response.isChunked, "no length: chunked")
            XCTAssertEqual(response.body.count, chunks * 64_256)
            let misplaced = stride(from: 0, to: response.body.count, by: 4093).first { response.body[$0] != UInt8($0 % 251) }
            XCTAssertNil(misplaced, "bytes in order (\(mode))")
            XCTAssertEqual(StreamingWire.counter("/stream/produced", port: server.port), chunks * 64_256)
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testAClientThatGoesAwayCancelsTheProducersTask() throws {
        for mode in [[], ["--edge-triggered"]] {
            let server = try startServer(mode)
            let before = StreamingWire.counter("/stream/interrupted", port: server.port) ?? -1
            do {
                let client = try TestClient(port: server.port)
                try client.send("GET /stream/forever HTTP/1.1\r\nHost: t\r\n\r\n")
                XCTAssertGreaterThan(ResponseReader(client).discard(atLeast: 200), 0)
            }  // closed while the stream goes on
            XCTAssertTrue(ServerProcess.eventually { StreamingWire.counter("/stream/interrupted", port: server.port) == before + 1 },
                          "the producer's task was cancelled (\(mode))")
            XCTAssertEqual(try TestClient(port: server.port).get("/apps/inline").body, "inline\n")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }
}
