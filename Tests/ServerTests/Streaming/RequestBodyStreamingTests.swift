// Request bodies streamed to their handler, against the example server's
// StreamingRoutes: bodies of any framing reach an async and a blocking handler
// intact, in both trigger modes; a route's own limit answers 413 whether the
// length is declared or grows; a handler that is behind stops the server
// reading the socket (and the worker's memory stays flat), and it reads on once
// the handler catches up; a 1 GiB chunked upload is hashed with the worker's
// memory within 16 MiB of idle; a client that goes away fails the handler's read;
// pipelined requests behind a streamed body are answered in order.
import Glibc
import TestSupport
import XCTest

final class RequestBodyStreamingTests: XCTestCase {
    private func startServer(_ flags: [String] = []) throws -> ServerProcess {
        try ServerProcess(["--host", "127.0.0.1", "--workers", "1"] + flags, executable: "example-server")
    }

    private static let modes: [[String]] = [[], ["--edge-triggered"]]

    /// The one worker's pid, once the master has forked it.
    private static func worker(of server: ServerProcess) -> pid_t? {
        _ = ServerProcess.eventually { !server.workerPIDs().isEmpty }
        return server.workerPIDs().first
    }

    func testBodiesOfEitherFramingReachAsyncAndBlockingHandlersIntact() throws {
        let body = StreamingWire.bytes(300_000)
        let expected = BodySummary.of(body).line
        for mode in Self.modes {
            let server = try startServer(mode)
            let client = try TestClient(port: server.port)
            let reader = ResponseReader(client)
            for route in ["/stream/crc", "/stream/blocking-crc"] {
                try client.send(StreamingWire.head(route, fields: "Content-Length: \(body.count)\r\n"))
                try client.send(body)
                XCTAssertEqual(try reader.response().text, expected, "\(route), Content-Length, \(mode)")
                // Uneven chunks, one with an extension, and a trailer field.
                var chunked = Array(StreamingWire.head(route, fields: "Transfer-Encoding: chunked\r\n").utf8)
                var offset = 0
                for size in [1, 70_000, 3, 100_000, 129_996] {
                    chunked += StreamingWire.chunk(Array(body[offset..<(offset + size)]), extensions: size == 3 ? ";name=value" : "")
                    offset += size
                }
                chunked += Array("0\r\nX-Trailer: done\r\n\r\n".utf8)
                try client.send(chunked)
                XCTAssertEqual(try reader.response().text, expected, "\(route), chunked, \(mode)")
                try client.send(StreamingWire.head(route, fields: "Content-Length: 0\r\n"))
                XCTAssertEqual(try reader.response().text, BodySummary().line, "\(route), empty, \(mode)")
            }
            // A client waiting for 100 Continue gets it, then sends the body.
            try client.send(StreamingWire.head("/stream/crc", fields: "Content-Length: 5\r\nExpect: 100-continue\r\n"))
            XCTAssertEqual(try reader.response().status, 100)
            try client.send("hello")
            XCTAssertEqual(try reader.response().text, BodySummary.of(Array("hello".utf8)).line)
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testARoutesOwnLimitAnswers413ForADeclaredOrAGrowingBody() throws {
        let server = try startServer()
        let within = try TestClient(port: server.port)
        try within.send(StreamingWire.head("/stream/limited", fields: "Content-Length: 1000\r\n") + String(repeating: "a", count: 1000))
        XCTAssertEqual(try within.readResponse().body, "1000 bytes\n")

        // Declared: refused on the head, before any of the body is sent.
        let declared = try TestClient(port: server.port)
        try declared.send(StreamingWire.head("/stream/limited", fields: "Content-Length: 1001\r\n"))
        XCTAssertEqual(try declared.readResponse().status, 413)

        // Growing: refused once the chunks pass the limit, however the client goes on.
        let growing = try TestClient(port: server.port)
        try growing.send(StreamingWire.head("/stream/limited", fields: "Transfer-Encoding: chunked\r\n"))
        try growing.send(StreamingWire.chunk(Array(repeating: 98, count: 600)))
        try growing.send(StreamingWire.chunk(Array(repeating: 98, count: 600)))
        let refused = try growing.readResponse()
        XCTAssertEqual(refused.status, 413)
        XCTAssertEqual(refused.header("Connection"), "close")

        // The route's limit replaces --max-body-size: 2 MiB streams past a 1 MiB server limit.
        let large = StreamingWire.bytes(2 << 20)
        let streamed = try TestClient(port: server.port)
        try streamed.send(StreamingWire.head("/stream/crc", fields: "Content-Length: \(large.count)\r\n"))
        try streamed.send(large)
        XCTAssertEqual(try streamed.readResponse().body, BodySummary.of(large).line)
        // A route without a limit of its own still has the server's.
        let whole = try TestClient(port: server.port)
        try whole.send(StreamingWire.head("/apps/echo", fields: "Content-Length: \(large.count)\r\n"))
        XCTAssertEqual(try whole.readResponse().status, 413)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAStreamedRouteStillStreamsBehindTheRequestIDWrapper() throws {
        // --request-id wraps the handler (ServerEcosystem.RequestIDs): the wrapper must pass the
        // route's own limit on, or the 2 MiB body would meet the server's 1 MiB limit (413).
        let server = try startServer(["--request-id"])
        let large = StreamingWire.bytes(2 << 20)
        let client = try TestClient(port: server.port)
        try client.send(StreamingWire.head("/stream/crc", fields: "Content-Length: \(large.count)\r\nX-Request-Id: upload-1\r\n"))
        try client.send(large)
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, BodySummary.of(large).line)
        XCTAssertEqual(response.header("X-Request-Id"), "upload-1")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAHandlerThatIsBehindStopsTheServerReadingUntilItCatchesUp() throws {
        let total = 96 << 20
        let block = StreamingWire.bytes(64 * 1024)
        for mode in Self.modes {
            let server = try startServer(mode)
            guard let worker = Self.worker(of: server), let idle = StreamingWire.memoryKilobytes("VmRSS", of: worker) else {
                return XCTFail("no worker")
            }
            let client = try TestClient(port: server.port)
            try client.send(StreamingWire.head("/stream/held", fields: "Content-Length: \(total)\r\n"))
            // The handler takes one chunk and waits: what the client can send is what the
            // socket buffers hold plus the ~128 KiB the server keeps for the handler.
            let sent = client.sendWithoutBlocking(block, forMilliseconds: 1500, atMost: total)
            XCTAssertLessThan(sent, 32 << 20, "the server stopped reading (\(mode))")
            let held = (StreamingWire.memoryKilobytes("VmRSS", of: worker) ?? .max) - idle
            XCTAssertLessThan(held, 16 * 1024, "the worker holds \(held) KiB more than idle (\(mode))")
            XCTAssertEqual(try TestClient(port: server.port).get("/apps/inline").body, "inline\n", "the worker serves others meanwhile")
            XCTAssertEqual(try TestClient(port: server.port).get("/stream/release").status, 200)
            // Caught up, the handler is read to again: the rest of the body goes through.
            var remaining = total - sent
            var offset = sent % block.count
            while remaining > 0 {
                let piece = Array(block[offset..<min(block.count, offset + remaining)])
                try client.send(piece)
                remaining -= piece.count
                offset = 0
            }
            XCTAssertEqual(try client.readResponse().body, "\(total) bytes\n", "\(mode)")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testAClientThatResetsWhileItsBodyIsPausedIsClosedAtOnce() throws {
        // Paused, the connection asks epoll for nothing; a reset is reported all the same,
        // and must close it, not spin the loop until the handler catches up (30 s here).
        for mode in Self.modes {
            let server = try startServer(mode)
            let before = Self.activeConnections(server)
            var client: TestClient? = try TestClient(port: server.port)
            try client?.send(StreamingWire.head("/stream/held", fields: "Content-Length: \(96 << 20)\r\n"))
            _ = client?.sendWithoutBlocking(StreamingWire.bytes(64 * 1024), forMilliseconds: 1000, atMost: 96 << 20)
            XCTAssertEqual(Self.activeConnections(server), before.map { $0 + 1 }, "the held upload is open (\(mode))")
            client?.resetOnClose()
            client = nil
            XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 5000) { Self.activeConnections(server) == before },
                          "the reset connection is closed while its handler still waits (\(mode))")
            XCTAssertEqual(try TestClient(port: server.port).get("/stream/release").status, 200)
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    /// Connections open in the server now, as /metrics says (the same for every scrape).
    private static func activeConnections(_ server: ServerProcess) -> Int? {
        guard let text = try? TestClient(port: server.port).get("/metrics").body,
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("prefork_connections_active ") }),
              let value = Double(line.split(separator: " ").last ?? "") else { return nil }
        return Int(value)
    }

    func testABodyTrickledBelowTheMinimumRateGets408WhenStreamedToo() throws {
        // Every byte restarts the body timeout: only the rate stops a trickle from holding
        // the connection and its handler (a pool thread, for a blocking one) for ever.
        let server = try startServer(["--min-body-rate", "10000", "--min-body-rate-grace", "1"])
        for route in ["/stream/crc", "/stream/blocking-crc"] {
            let client = try TestClient(port: server.port)
            try client.send(StreamingWire.head(route, fields: "Content-Length: 1000000\r\n"))
            var answered = false
            for _ in 0..<50 where !answered {  // 100 bytes every 100 ms: about 1,000 bytes/s, for at most 5 s
                try? client.send(StreamingWire.bytes(100))
                answered = client.isReadable(withinMilliseconds: 100)
            }
            XCTAssertTrue(answered, "\(route): refused within 5 s")
            XCTAssertEqual(try client.readResponse().status, 408, route)
        }
        XCTAssertEqual(try TestClient(port: server.port).get("/apps/inline").body, "inline\n")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAGibibyteChunkedUploadIsHashedWithTheWorkersMemoryNearIdle() throws {
        let server = try startServer()
        guard let worker = Self.worker(of: server) else { return XCTFail("no worker") }
        let client = try TestClient(port: server.port)
        let reader = ResponseReader(client)
        // Warm up the path once (tasks, the handler pool's first use), then take the idle size.
        try client.send(StreamingWire.head("/stream/crc", fields: "Content-Length: 5\r\n") + "hello")
        _ = try reader.response()
        guard let idle = StreamingWire.memoryKilobytes("VmRSS", of: worker) else { return XCTFail("no VmRSS") }
        let data = StreamingWire.bytes(64 * 1024, seed: 7)
        let chunk = StreamingWire.chunk(data)
        let chunks = 16_384
        var expected = BodySummary()
        let started = Launch.now()
        try client.send(StreamingWire.head("/stream/crc", fields: "Transfer-Encoding: chunked\r\n"))
        for _ in 0..<chunks {
            try client.send(chunk)
            expected.add(data)
        }
        try client.send(StreamingWire.lastChunk)
        XCTAssertEqual(try reader.response().text, expected.line, "1 GiB, hashed as it arrived")
        let seconds = Double(Launch.now() - started) / 1000
        XCTAssertLessThan(seconds, 120, "bounded in time")
        let peak = StreamingWire.memoryKilobytes("VmHWM", of: worker) ?? .max
        print("1 GiB chunked upload: \(String(format: "%.1f", seconds)) s; worker idle VmRSS \(idle) KiB, peak VmHWM \(peak) KiB (+\(peak - idle) KiB)")
        XCTAssertLessThanOrEqual(peak - idle, 16 * 1024, "the worker's peak stays within 16 MiB of idle")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAClientThatGoesAwayMidBodyFailsTheHandlersRead() throws {
        for mode in Self.modes {
            let server = try startServer(mode)
            let before = StreamingWire.counter("/stream/interrupted", port: server.port) ?? -1
            do {
                let client = try TestClient(port: server.port)
                try client.send(StreamingWire.head("/stream/crc", fields: "Content-Length: \(10 << 20)\r\n"))
                try client.send(StreamingWire.bytes(200_000))
            }  // closed here, 200 KB into a 10 MiB body
            XCTAssertTrue(ServerProcess.eventually { StreamingWire.counter("/stream/interrupted", port: server.port) == before + 1 },
                          "the handler saw its body cut short (\(mode))")
            XCTAssertEqual(try TestClient(port: server.port).get("/apps/inline").body, "inline\n")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
            // The handler rethrew; a client that leaves is not the server's failure (no error line per client).
            let log = server.standardError()
            XCTAssertFalse(log.contains("handler failed"), "\(mode): \(log)")
        }
    }

    func testAClientThatPausesMidBodyGets408AndAHandlerThatFallsBehindGets503() throws {
        let server = try startServer(["--body-timeout", "0.4", "--handler-timeout", "0.6"])
        let before = StreamingWire.counter("/stream/interrupted", port: server.port) ?? -1
        let slowClient = try TestClient(port: server.port)
        try slowClient.send(StreamingWire.head("/stream/crc", fields: "Content-Length: 1000\r\n") + "only ten b")
        let timedOut = try slowClient.readResponse()
        XCTAssertEqual(timedOut.status, 408, "the body timeout applies while the body streams")
        XCTAssertTrue(ServerProcess.eventually { StreamingWire.counter("/stream/interrupted", port: server.port) == before + 1 },
                      "the handler's read failed")
        // A handler that never reads on: the server stops reading, then gives up on the handler.
        let behind = try TestClient(port: server.port)
        try behind.send(StreamingWire.head("/stream/held", fields: "Content-Length: \(64 << 20)\r\n"))
        _ = behind.sendWithoutBlocking(StreamingWire.bytes(64 * 1024), forMilliseconds: 300, atMost: 64 << 20)
        XCTAssertEqual(try behind.readResponse().status, 503, "the handler timeout applies while the handler is behind")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testPipelinedRequestsBehindAStreamedBodyAreAnsweredInOrder() throws {
        for mode in Self.modes {
            let server = try startServer(mode)
            let client = try TestClient(port: server.port)
            let reader = ResponseReader(client)
            let body = StreamingWire.bytes(200_000)
            var pipeline = Array(StreamingWire.head("/stream/crc", fields: "Transfer-Encoding: chunked\r\n").utf8)
            pipeline += StreamingWire.chunk(Array(body[..<150_000])) + StreamingWire.chunk(Array(body[150_000...])) + StreamingWire.lastChunk
            pipeline += Array(StreamingWire.head("/apps/inline", method: "GET", fields: "").utf8)
            pipeline += Array((StreamingWire.head("/stream/limited", fields: "Content-Length: 5\r\n") + "hello").utf8)
            pipeline += Array(StreamingWire.head("/apps/async", method: "GET", fields: "").utf8)
            pipeline += Array((StreamingWire.head("/stream/blocking-crc", fields: "Content-Length: 3\r\n") + "abc").utf8)
            pipeline += Array(StreamingWire.head("/stream/chunks/2", method: "GET", fields: "").utf8)
            pipeline += Array(StreamingWire.head("/apps/blocking", method: "GET", fields: "").utf8)
            try client.send(pipeline)
            let bodies = try (0..<7).map { _ in try reader.response() }
            XCTAssertEqual(bodies[0].text, BodySummary.of(body).line, "\(mode)")
            XCTAssertEqual(bodies[1].text, "inline\n")
            XCTAssertEqual(bodies[2].text, "5 bytes\n")
            XCTAssertEqual(bodies[3].text, "async\n")
            XCTAssertEqual(bodies[4].text, BodySummary.of(Array("abc".utf8)).line)
            XCTAssertEqual(bodies[5].body.count, 2 * 64_256)
            XCTAssertEqual(bodies[6].text, "blocking\n")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testTheBlockingModelsReceiveAStreamingRoutesBodyWhole() throws {
        let server = try startServer(["--model", "prefork"])
        let client = try TestClient(port: server.port)
        let reader = ResponseReader(client)
        let body = StreamingWire.bytes(100_000)
        try client.send(StreamingWire.head("/stream/crc", fields: "Content-Length: \(body.count)\r\n"))
        try client.send(body)
        XCTAssertEqual(try reader.response().text, BodySummary.of(body).line, "one chunk, the whole body")
        try client.send(StreamingWire.head("/stream/chunks/3", method: "GET", fields: ""))
        let streamed = try reader.response()
        XCTAssertTrue(streamed.isChunked)
        XCTAssertEqual(streamed.body.count, 3 * 64_256, "a streamed response: the worker's thread waits for each chunk")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}
