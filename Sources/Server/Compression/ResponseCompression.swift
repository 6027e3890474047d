// ResponseCompression: on-the-fly gzip or brotli of a handler's response,
// decided once the handler has answered and before the head is written: the
// body (bytes, text, a file or a stream) becomes a CompressedBody of unknown
// length, sent chunked, and is counted by coding (compressed_responses_total).
//
// A response is considered (and says `Vary: Accept-Encoding`, RFC 9110 §12.5.5,
// so a cache keeps the codings apart) when it is compressible: a status with
// content other than 206 (its Content-Range counts bytes of the identity body),
// no Content-Encoding or Content-Range yet, no `Cache-Control: no-transform`
// (RFC 9111 §5.2.2.6: the sender forbids changing the content coding), a
// compressible type, and a known length of at least the minimum. It is then
// compressed when the client prefers a coding that is on (q-values, RFC 9110
// §12.5.3; br on a tie) and speaks HTTP/1.1: to an HTTP/1.0 client
// a body of unknown length could only end with the connection, so, as nginx's
// gzip_http_version 1.1, it gets the identity body and keeps its keep-alive.
//
// HEAD gets the head GET would get (Content-Encoding, chunked, no length: RFC 9110
// §9.3.2), and no zlib state is made for it. A strong ETag becomes weak, as nginx
// does: the gzipped bytes are not the identity ones a strong validator names (§8.8.1).
import HTTP1

struct ResponseCompression {
    let minimumLength: Int
    /// The codings on (identity always).
    let offered: ContentCodings
    /// The connection driver's idle zlib states, and its brotli states.
    let pool: DeflaterPool
    let brotli: BrotliEncoders
    /// Where compressed responses are counted by coding.
    let record: WorkerRecord

    /// The compression `settings` ask for, nil when on-the-fly compression is off.
    init?(_ settings: CompressionSettings, record: WorkerRecord = .detached) {
        guard settings.gzip || settings.brotli else { return nil }
        minimumLength = settings.minimumLength
        var offered = ContentCodings.identity
        if settings.gzip { offered.insert(.gzip) }
        if settings.brotli { offered.insert(.br) }
        self.offered = offered
        pool = DeflaterPool(level: Int32(settings.level))
        brotli = BrotliEncoders(quality: settings.brotliLevel)
        self.record = record
    }

    /// Compresses `response` for `request` when it is worth it and the client accepts it.
    func apply(to response: inout Response, for request: Request, head: RequestHead) {
        // A body from an async sequence arrives from a task as it is produced; it goes out as it comes.
        if case .stream(let stream) = response.body, stream.pump != nil { return }
        guard let source = CompressionSource(response.body), isCompressible(response, length: source.length) else { return }
        addVary(to: &response)
        guard head.version == .http1_1 else { return }
        switch AcceptEncoding(of: request).preferred(among: offered) {
        case .identity: return
        case .gzip:
            response.body = .stream(BodyStream(producer: GzipBody(source: source, supply: pool)))
            response.addHeader("Content-Encoding", "gzip")
            if !head.isHead { record.add(.gzipResponses) }
        case .br:
            response.body = .stream(BodyStream(producer: BrotliBody(source: source, supply: brotli)))
            response.addHeader("Content-Encoding", "br")
            if !head.isHead { record.add(.brotliResponses) }
        }
        weakenETag(of: &response)
    }

    /// - Parameter length: the body's length, nil when unknown (a stream: always long enough).
    private func isCompressible(_ response: Response, length: Int?) -> Bool {
        let status = response.status.code
        guard status >= 200 && status != 204 && status != 206 && status != 304 else { return false }
        if let length, length < minimumLength || length == 0 { return false }
        guard CompressibleTypes.contains(typeOf: response) else { return false }
        return !response.headers.contains { Self.named($0.name, "content-encoding") || Self.named($0.name, "content-range") }
            && !forbidsTransformation(response)
    }

    /// Whether a Cache-Control field of the response carries the no-transform directive (RFC 9111 §5.2.2.6).
    private func forbidsTransformation(_ response: Response) -> Bool {
        for field in response.headers where Self.named(field.name, "cache-control") {
            if Self.containsIgnoringCase(field.value, "no-transform") { return true }
        }
        for field in response.runtimeHeaders where field.name.utf8.count == 13 && Self.containsIgnoringCase(field.name, "cache-control") {
            if Self.containsIgnoringCase(field.value, "no-transform") { return true }
        }
        return false
    }

    /// Whether `value` contains `needle` (lowercase ASCII), ignoring case; without allocating for a native string.
    private static func containsIgnoringCase(_ value: String, _ needle: StaticString) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            let count = needle.utf8CodeUnitCount
            guard bytes.count >= count else { return false }
            for start in 0...(bytes.count - count) {
                let window = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<(start + count)])
                if AcceptEncoding.equalIgnoringCase(window, needle) { return true }
            }
            return false
        }
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
