// StreamingRoutes: streamed request bodies (a route's own body limit, read as
// they arrive) and streamed responses (an async sequence), for the tests.
//   POST /stream/crc               any body up to 64 GiB, chunked or not: "N bytes, crc32 XXXXXXXX"
//   POST /stream/blocking-crc      the same, read with nextChunk() on a pool thread
//   POST /stream/limited           at most 1000 bytes (413 beyond): "N bytes"
//   POST /stream/held              takes one chunk, then waits (at most 30 s) for GET /stream/release: "N bytes"
//   GET  /stream/release           lets held handlers read on
//   GET  /stream/chunks/{count}    count chunks of 64,256 bytes (byte i is i mod 251), chunked
//   GET  /stream/produced          bytes /stream/chunks has produced in this worker
//   GET  /stream/forever           a chunk every 10 ms, never ending
//   GET  /stream/interrupted       streaming handlers and producers that saw their client go (an error or cancellation)
import CZlib
import Server
import Synchronization

private let released = Atomic<Bool>(false)
private let produced = Atomic<Int>(0)
private let interrupted = Atomic<Int>(0)

struct StreamingRoutes: ExampleRoute {
    let router: Router = Self.makeRouter()

    func answer(_ request: Request, with response: inout Response) -> Bool {
        router.route(request, with: &response)
    }

    var streamsRequestBodies: Bool { router.streamsRequestBodies }

    func streamedBodyLimit(for request: Request) -> Int? {
        router.streamedBodyLimit(for: request)
    }

    private static func text(_ body: String) -> Response {
        Response(body: .bytes(Array(body.utf8)))
    }

    private static func makeRouter() -> Router {
        var router = Router()
        router.post("/stream/crc", .async(maxBodySize: 64 << 30) { request in
            var checksum = Checksum()
            do {
                for try await chunk in request.bodyChunks { checksum.add(chunk) }
            } catch {
                interrupted.add(1, ordering: .relaxed)
                throw error
            }
            return text(checksum.summary)
        })
        router.post("/stream/blocking-crc", .blocking(maxBodySize: 64 << 30) { request in
            var checksum = Checksum()
            while let chunk = try request.nextChunk() { checksum.add(chunk) }
            return text(checksum.summary)
        })
        router.post("/stream/limited", .async(maxBodySize: 1000) { request in
            var count = 0
            for try await chunk in request.bodyChunks { count += chunk.count }
            return text("\(count) bytes\n")
        })
        router.post("/stream/held", .async(maxBodySize: 64 << 30) { request in
            var count = 0
            var waited = false
            for try await chunk in request.bodyChunks {
                count += chunk.count
                guard !waited else { continue }
                waited = true
                for _ in 0..<3000 where !released.load(ordering: .relaxed) { try await Task.sleep(nanoseconds: 10_000_000) }
            }
            return text("\(count) bytes\n")
        })
        router.get("/stream/release", .inline { _, _, response in
            released.store(true, ordering: .relaxed)
            response.body = .text("released\n")
        })
        router.get("/stream/chunks/{count}", .async { request in
            let count = min(1 << 20, Int(request.parameters["count"] ?? "") ?? 0)
            return Response(body: .stream(BodyStream(chunks: RepeatedChunks(count: count))))
        })
        router.get("/stream/produced", .inline { _, _, response in
            response.body = .bytes(Array("\(produced.load(ordering: .relaxed))\n".utf8))
        })
        router.get("/stream/forever", .async { _ in
            Response(body: .stream(BodyStream(chunks: EndlessChunks())))
        })
        router.get("/stream/interrupted", .inline { _, _, response in
            response.body = .bytes(Array("\(interrupted.load(ordering: .relaxed))\n".utf8))
        })
        return router
    }
}

/// A body's length and CRC-32 (zlib's crc32(3), fast in any build), as the tests compute them.
private struct Checksum {
    var count = 0
    var crc = crc32(0, nil, 0)

    mutating func add(_ chunk: [UInt8]) {
        count += chunk.count
        crc = chunk.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
    }

    var summary: String {
        let hex = String(crc, radix: 16)
        return "\(count) bytes, crc32 \(String(repeating: "0", count: max(0, 8 - hex.count)) + hex)\n"
    }
}

/// `count` times the same chunk: 256 runs of 0...250, so byte i of the body is i mod 251.
struct RepeatedChunks: AsyncSequence, Sendable {
    static let chunk: [UInt8] = Array(repeating: Array(0...250), count: 256).flatMap { $0 }
    let count: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var left: Int

        mutating func next() async -> [UInt8]? {
            guard left > 0 else { return nil }
            left -= 1
            produced.add(RepeatedChunks.chunk.count, ordering: .relaxed)
            return RepeatedChunks.chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(left: count) }
}

/// A chunk of "tick\n" lines every 10 ms until the task is cancelled (counted in /stream/interrupted).
struct EndlessChunks: AsyncSequence, Sendable {
    struct AsyncIterator: AsyncIteratorProtocol {
        mutating func next() async throws -> [UInt8]? {
            do {
                try await Task.sleep(nanoseconds: 10_000_000)
            } catch {
                interrupted.add(1, ordering: .relaxed)
                throw error
            }
            return Array("tick\n".utf8)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
}
