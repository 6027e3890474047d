// RequestHead: what the parser learned about one request, as offsets into the
// caller's bytes (no Strings, no copies), and the limits it parses under.

/// A run of bytes inside the request buffer, by offset and length.
struct Span: Equatable {
    var start: Int32
    var count: Int32

    init(start: Int, count: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }

    var end: Int { Int(start) + Int(count) }
}

/// One header field line: its name and its value with surrounding whitespace trimmed.
struct HeaderField {
    var name: Span
    var value: Span
}

/// The protocol versions this server speaks.
public enum HTTPVersion: Equatable, Sendable {
    case http1_0
    case http1_1
}

/// A parsed request line and header block.
package struct RequestHead {
    var method: Span
    var target: Span
    var version: HTTPVersion
    /// How many entries of the parser's header storage belong to this request.
    var headerCount: Int
    /// Bytes from the buffer's start to the end of the empty line after the headers.
    var headLength: Int
    /// The body's length from Content-Length (0 when absent).
    var contentLength: Int
    /// Whether the connection stays open after the response (RFC 9112 §9.3).
    var keepAlive: Bool
    /// A HEAD request: the response carries headers only (RFC 9110 §9.3.2).
    var isHead: Bool

    /// The whole request's length: head plus body.
    package var totalLength: Int { headLength + contentLength }
}

/// Bounds on what one request may hold; requests beyond them are refused, not buffered.
public struct RequestLimits: Sendable, Equatable {
    /// Longest request line (method, target, version); longer gets 414.
    public var maxRequestLineBytes: Int
    /// Largest header block, request line included; larger gets 431.
    public var maxHeaderBytes: Int
    /// Most header fields in one request; more gets 431.
    public var maxHeaderCount: Int
    /// Largest Content-Length accepted; larger gets 413.
    public var maxBodyBytes: Int

    public init(maxRequestLineBytes: Int = 8 * 1024, maxHeaderBytes: Int = 16 * 1024,
                maxHeaderCount: Int = 100, maxBodyBytes: Int = 1024 * 1024) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
