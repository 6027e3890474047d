// Response: what a handler fills in. The server adds the framing headers
// (Date, Server, Content-Length, Connection) when it serialises it.

/// A response body.
public enum ResponseBody: Sendable {
    case empty
    /// Text known at compile time: written without any allocation.
    case text(StaticString)
    case bytes([UInt8])
    /// A region of an open file, sent with sendfile(2) after the head.
    case file(FileRegion)
    /// A body produced while the socket drains, of known or unknown length.
    case stream(BodyStream)

    /// The body's length, as Content-Length gives it (0 for a stream of unknown length, which has none).
    var count: Int {
        switch self {
        case .empty: return 0
        case .text(let text): return text.utf8CodeUnitCount
        case .bytes(let bytes): return bytes.count
        case .file(let region): return region.length
        case .stream(let stream): return stream.length ?? 0
        }
    }

    /// A stream of unknown length: framed by the chunked coding, or by closing the connection.
    @inlinable
    package var hasUnknownLength: Bool {
        if case .stream(let stream) = self { return stream.length == nil }
        return false
    }

    /// Whether the connection can stay open after this body for a `version` client: an HTTP/1.0
    /// client knows no chunked coding, so a body of unknown length ends with the connection (RFC 9112 §6.3).
    @inlinable
    package func allowsKeepAlive(for version: HTTPVersion) -> Bool {
        version != .http1_0 || !hasUnknownLength
    }
}

/// The response a handler builds for one request.
public struct Response: Sendable {
    public var status: HTTPStatus
    /// Empty (and no `mediaType`) for none: a 304 has none (RFC 9110 §15.4.5).
    public var contentType: StaticString
    /// A Content-Type made at run time; when set, it is sent instead of `contentType`.
    public var mediaType: MediaType? = nil
    public var body: ResponseBody
    /// Close the connection after this response, even if the client asked to keep it.
    public var closeConnection: Bool
    /// Extra header fields, in order. Empty (and allocation-free) unless a handler adds one.
    public package(set) var headers: [(name: StaticString, value: String)] = []
    /// Set by `deferToPool` or `deferToTask`: the answer comes later, from this work.
    public internal(set) var deferred: DeferredWork? = nil
    /// Header fields named at run time (`setHeader(name:value:)`), sent after `headers`.
    public internal(set) var runtimeHeaders: [(name: String, value: String)] = []

    @inlinable
    public init(status: HTTPStatus = .ok, contentType: StaticString = "text/plain; charset=utf-8",
                body: ResponseBody = .empty) {
        self.status = status
        self.contentType = contentType
        self.body = body
        closeConnection = false
    }

    /// Adds a header field. The value must not contain CR or LF; such a value is dropped
    /// rather than let a caller split the response (RFC 9110 §5.5).
    public mutating func addHeader(_ name: StaticString, _ value: String) {
        guard !value.utf8.contains(where: { $0 == .cr || $0 == .lf || $0 == 0 }) else { return }
        headers.append((name, value))
    }

    /// Adds fields whose values are known to be safe (a file's validators, formatted once):
    /// into an empty list a shared array is taken by reference, without allocating.
    package mutating func addCheckedHeaders(_ fields: [(name: StaticString, value: String)]) {
        if headers.isEmpty { headers = fields } else { headers += fields }
    }
}
