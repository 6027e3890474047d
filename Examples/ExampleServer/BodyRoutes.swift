// BodyRoutes: the response bodies that follow their head as the socket drains.
// `GET /example/file` serves the file named by the environment variable
// EXAMPLE_FILE (a fixed file, never a path from the request: no traversal),
// with sendfile(2). `GET /example/stream?chunks=N&size=M` streams N pieces of
// M bytes of unknown length (chunked), produced only as the client reads; and
// `GET /example/stream/produced` tells how many bytes this worker's streams
// have produced so far, so a test can see a producer paused.
import Glibc
import Server
import Synchronization

/// Bytes produced by this process's streams, for `/example/stream/produced`.
private let producedBytes = Atomic<Int>(0)

struct BodyRoutes: ExampleRoute {
    /// The one file `/example/file` serves, read once at start.
    let filePath: String? = getenv("EXAMPLE_FILE").map { String(cString: $0) }

    func answer(_ request: Request, with response: inout Response) -> Bool {
        let path = request.path
        if path == "/example/file" {
            serveFile(&response)
        } else if path == "/example/stream" {
            let (chunks, size) = Self.streamShape(request.query)
            response.contentType = "application/octet-stream"
            response.body = .stream(BodyStream(producer: PatternProducer(chunks: chunks, size: size)))
        } else if path == "/example/stream/produced" {
            response.body = .bytes(Array("\(producedBytes.load(ordering: .relaxed))\n".utf8))
        } else {
            return false
        }
        return true
    }

    private func serveFile(_ response: inout Response) {
        guard let filePath else {
            response.status = .notFound
            response.body = .text("EXAMPLE_FILE is not set\n")
            return
        }
        do {
            guard let region = try FileRegion.open(filePath) else {
                response.status = .notFound
                response.body = .text("not found\n")
                return
            }
            response.contentType = "application/octet-stream"
            response.body = .file(region)
        } catch {
            response.status = .internalServerError
            response.body = .text("cannot open the file\n")
        }
    }

    /// `chunks=N&size=M` from the query; 4 pieces of 1 KiB when absent.
    static func streamShape(_ query: ByteSlice?) -> (chunks: Int, size: Int) {
        var chunks = 4
        var size = 1024
        for pair in (query?.string ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]), value >= 0 else { continue }
            if parts[0] == "chunks" { chunks = value } else if parts[0] == "size" { size = max(1, value) }
        }
        return (chunks, size)
    }
}

/// N pieces of M bytes, byte i of the body being `i % 251` (a test can check every byte).
/// Unchecked Sendable: the worker's event loop alone pulls it, one call at a time.
final class PatternProducer: BodyProducer, @unchecked Sendable {
    private var remaining: Int
    private var position = 0

    init(chunks: Int, size: Int) {
        let (total, overflow) = chunks.multipliedReportingOverflow(by: size)
        remaining = overflow ? .max : total
    }

    func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(remaining, buffer.count)
        for index in 0..<count { buffer[index] = UInt8((position + index) % 251) }
        position += count
        remaining -= count
        producedBytes.add(count, ordering: .relaxed)
        return count
    }
}
