// CompressionRoutes: compressible bodies of every kind, for the gzip tests
// (the server compresses them on the fly when started with --gzip):
//   GET /example/text-file                 EXAMPLE_FILE as text/plain, a file body (sendfile, or pread when gzipped)
//   GET /example/text?size=N               N bytes of text, a bytes body
//   GET /example/text/static               a short text body known at compile time
//   GET /example/text/stream?chunks=N&size=M  N pieces of M bytes of text, of unknown length
//   GET /example/text/deferred?size=N      N bytes of text answered from the handler pool
//   GET /example/text/etag?size=N          N bytes of text with a strong ETag
//   GET /example/text/no-transform?size=N  N bytes of text with Cache-Control: no-transform (never compressed)
//   GET /example/precompressed             EXAMPLE_FILE, or EXAMPLE_FILE.br / .gz when the
//                                          client's Accept-Encoding prefers one (PrecompressedSiblings)
import Glibc
import Server

struct CompressionRoutes: ExampleRoute {
    let filePath: String? = getenv("EXAMPLE_FILE").map { String(cString: $0) }
    static let largestText = 64 << 20

    func answer(_ request: Request, with response: inout Response) -> Bool {
        // The default content type, text/plain, is compressible.
        let path = request.path
        if path == "/example/text-file" {
            serve(filePath, &response)
        } else if path == "/example/text" || path == "/example/text/etag" {
            response.body = .bytes(Self.text(count: Self.size(in: request)))
            if path == "/example/text/etag" { response.addHeader("ETag", "\"text-v1\"") }
        } else if path == "/example/text/no-transform" {
            response.body = .bytes(Self.text(count: Self.size(in: request)))
            response.addHeader("Cache-Control", "public, No-Transform")
        } else if path == "/example/text/static" {
            response.body = .text("short\n")
        } else if path == "/example/text/stream" {
            let (chunks, size) = BodyRoutes.streamShape(request.query)
            response.body = .stream(BodyStream(producer: TextProducer(count: min(chunks * size, Self.largestText))))
        } else if path == "/example/text/deferred" {
            let size = Self.size(in: request)
            response.deferToPool { _ in Response(body: .bytes(Self.text(count: size))) }
        } else if path == "/example/precompressed" {
            servePrecompressed(AcceptEncoding(of: request), &response)
        } else {
            return false
        }
        return true
    }

    private func serve(_ path: String?, _ response: inout Response) {
        guard let path, let region = try? FileRegion.open(path) else {
            response.status = .notFound
            response.body = .text("not found\n")
            return
        }
        response.body = .file(region)
    }

    /// The sibling the client prefers, with its own length and Content-Encoding, and the
    /// original's type; Vary either way, as the answer depends on Accept-Encoding.
    private func servePrecompressed(_ accepted: AcceptEncoding, _ response: inout Response) {
        guard let filePath else { return serve(nil, &response) }
        response.addHeader("Vary", "Accept-Encoding")
        let chosen = PrecompressedSiblings.choose(for: accepted) { coding in
            try? FileRegion.open(filePath + String(describing: coding.fileSuffix))
        }
        guard let chosen else { return serve(filePath, &response) }
        response.addHeader("Content-Encoding", String(describing: chosen.coding.headerValue))
        response.body = .file(chosen.file)
    }

    /// `size=N` from the query, 64 KiB when absent.
    private static func size(in request: Request) -> Int {
        for pair in (request.query?.string ?? "").split(separator: "&") where pair.hasPrefix("size=") {
            return min(largestText, max(0, Int(pair.dropFirst(5)) ?? 0))
        }
        return 64 * 1024
    }

    /// `count` bytes of numbered lines: compressible, and every line different.
    static func text(count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 64)
        var number = 0
        while bytes.count < count {
            bytes += line(number)
            number += 1
        }
        return Array(bytes.prefix(count))
    }

    static func line(_ number: Int) -> [UInt8] {
        Array("line \(number): the quick brown fox jumps over the lazy dog \(number * 7919 % 10007)\n".utf8)
    }
}

/// `count` bytes of `CompressionRoutes.text`, made a line at a time as the client reads.
/// Unchecked Sendable: the worker's event loop alone pulls it, one call at a time.
final class TextProducer: BodyProducer, @unchecked Sendable {
    private var remaining: Int
    private var line = 0
    private var pending: [UInt8] = []
    private var pendingStart = 0

    init(count: Int) {
        remaining = count
    }

    func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        while written < buffer.count && remaining > 0 {
            if pendingStart == pending.count {
                pending = CompressionRoutes.line(line)
                pendingStart = 0
                line += 1
            }
            let count = min(buffer.count - written, pending.count - pendingStart, remaining)
            pending.withUnsafeBytes { (buffer.baseAddress! + written).copyMemory(from: $0.baseAddress! + pendingStart, byteCount: count) }
            pendingStart += count
            written += count
            remaining -= count
        }
        return written
    }
}
