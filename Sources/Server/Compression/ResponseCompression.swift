// ResponseCompression: on-the-fly gzip of a handler's response, decided once
// the handler has answered and before the head is written: the body (bytes,
// text, a file or a stream) becomes a GzipBody of unknown length, sent chunked.
//
// A response is considered (and says `Vary: Accept-Encoding`, RFC 9110 §12.5.5,
// so a cache keeps the codings apart) when it is compressible: a status with
// content other than 206 (its Content-Range counts bytes of the identity body),
// no Content-Encoding or Content-Range yet, a compressible type, and a known
// length of at least the minimum. It is then compressed when the client prefers
// gzip (q-values, RFC 9110 §12.5.3) and speaks HTTP/1.1: to an HTTP/1.0 client
// a body of unknown length could only end with the connection, so, as nginx's
// gzip_http_version 1.1, it gets the identity body and keeps its keep-alive.
//
// HEAD gets the head GET would get (Content-Encoding, chunked, no length: RFC 9110
// §9.3.2), and no zlib state is made for it. A strong ETag becomes weak, as nginx
// does: the gzipped bytes are not the identity ones a strong validator names (§8.8.1).
import HTTP1

struct ResponseCompression {
    let level: Int32
    let minimumLength: Int
    /// The connection driver's idle zlib states.
    let pool: DeflaterPool

    /// The compression `settings` ask for, nil when on-the-fly gzip is off.
    init?(_ settings: CompressionSettings) {
        guard settings.gzip else { return nil }
        level = Int32(settings.level)
        minimumLength = settings.minimumLength
        pool = DeflaterPool(level: level)
    }

    /// Compresses `response` for `request` when it is worth it and the client accepts it.
    func apply(to response: inout Response, for request: Request, head: RequestHead) {
        // A body from an async sequence arrives from a task as it is produced; it goes out as it comes.
        if case .stream(let stream) = response.body, stream.pump != nil { return }
        guard let source = CompressionSource(response.body), isCompressible(response, length: source.length) else { return }
        addVary(to: &response)
        guard head.version == .http1_1, AcceptEncoding(of: request).preferred(among: [.identity, .gzip]) == .gzip else { return }
        response.body = .stream(BodyStream(producer: GzipBody(source: source, level: level, pool: pool)))
        response.addHeader("Content-Encoding", "gzip")
        weakenETag(of: &response)
    }

    /// - Parameter length: the body's length, nil when unknown (a stream: always long enough).
    private func isCompressible(_ response: Response, length: Int?) -> Bool {
        let status = response.status.code
        guard status >= 200 && status != 204 && status != 206 && status != 304 else { return false }
        if let length, length < minimumLength || length == 0 { return false }
        guard CompressibleTypes.contains(typeOf: response) else { return false }
        return !response.headers.contains { Self.named($0.name, "content-encoding") || Self.named($0.name, "content-range") }
    }

    /// Adds `Vary: Accept-Encoding` unless a Vary the handler set already covers it.
    private func addVary(to response: inout Response) {
        for field in response.headers where Self.named(field.name, "vary") {
            let value = field.value.lowercased()
            if value.contains("accept-encoding") || value.contains("*") { return }
        }
        response.addHeader("Vary", "Accept-Encoding")
    }

    private func weakenETag(of response: inout Response) {
        guard let index = response.headers.firstIndex(where: { Self.named($0.name, "etag") }) else { return }
        let value = response.headers[index].value
        if !value.hasPrefix("W/") { response.headers[index].value = "W/" + value }
    }

    private static func named(_ name: StaticString, _ lowercase: StaticString) -> Bool {
        AcceptEncoding.equalIgnoringCase(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), lowercase)
    }
}
