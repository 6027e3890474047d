// RequestHead: what the parser learned about one request, as offsets into the
// caller's bytes (no Strings, no copies), and the limits it parses under.

/// A run of bytes inside the request buffer, by offset and length.
@usableFromInline
package struct Span: Equatable, Sendable {
    @usableFromInline package var start: Int32
    @usableFromInline package var count: Int32

    package init(start: Int, count: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }

    package var end: Int { Int(start) + Int(count) }
}

/// One header field line: its name and its value with surrounding whitespace trimmed.
@usableFromInline
package struct HeaderField: Sendable {
    package var name: Span
    package var value: Span
}

/// The protocol versions this server speaks.
public enum HTTPVersion: Equatable, Sendable {
    case http1_0
    case http1_1
}

/// A parsed request line and header block.
@usableFromInline
package struct RequestHead: Sendable {
    package var method: Span
    /// The request-target as sent.
    @usableFromInline package var target: Span
    package var version: HTTPVersion
    /// Which of the four forms the target takes (RFC 9112 §3.2).
    package var targetForm = TargetForm.origin
    /// Where the target's path and query start (they run to its end), as `RequestTarget` finds them.
    /// With the form, it fills padding after `version`: the head, copied on every return, keeps its size.
    package var originStart: Int32 = 0
    /// How many entries of the caller's header storage (HeaderStorage) belong to this request.
    @usableFromInline package var headerCount: Int
    /// Bytes from the buffer's start to the end of the empty line after the headers.
    @usableFromInline package var headLength: Int
    /// The body's length: Content-Length, or the decoded size of a chunked body (0 when there is none).
    @usableFromInline package var bodyLength: Int
    /// The whole message's length in the buffer: head plus body as sent (chunk framing included).
    @usableFromInline package var totalLength: Int
    /// The body is sent with the chunked transfer coding (RFC 9112 §7.1).
    package var isChunked: Bool
    /// The client sent `Expect: 100-continue` and waits for 100 before sending the body (RFC 9110 §10.1.1).
    package var expectsContinue: Bool
    /// Whether the connection stays open after the response (RFC 9112 §9.3).
    package var keepAlive: Bool
    /// A HEAD request: the response carries headers only (RFC 9110 §9.3.2).
    package var isHead: Bool

    /// The target's path and query (see `RequestTarget.origin`).
    package var origin: Span { Span(start: Int(originStart), count: target.end - Int(originStart)) }
}

/// How far the parser got with a request that has not fully arrived.
@usableFromInline
package struct ParseProgress {
    /// Where the search for the end of the header block resumes.
    @usableFromInline package var headScanned = 0
    /// Of a request whose head is complete and valid but whose body is still arriving:
    /// the parsed head and its fields (see HeaderStorage), so the head is parsed once.
    @usableFromInline package var parked: ParkedHead?
    /// Of a chunked body: how far its chunks have been checked.
    @usableFromInline package var chunks = ChunkProgress()
    #if DEBUG
    /// Heads parsed for this request (1 once it is complete): tests check a late body does not parse it again.
    @usableFromInline package var headParses = 0
    #endif

    @inlinable
    package init() {}

    /// Starts over for the next request. Unlike assigning a fresh value, it touches the
    /// parked head only when there is one: the common request pays no release call for it.
    @inlinable
    package mutating func reset() {
        headScanned = 0
        if parked != nil { parked = nil }
        chunks = ChunkProgress()
        #if DEBUG
        headParses = 0
        #endif
    }

    /// The head is complete and valid; only (part of) the body is missing.
    package var awaitingBody: Bool { parked != nil }
    /// Of a request awaiting its body: where the body starts.
    package var bodyStart: Int { parked?.header.headLength ?? 0 }
    /// Of a request awaiting its body: the client waits for `100 Continue` first.
    package var expectsContinue: Bool { parked?.header.expectsContinue ?? false }
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

    // The largest value each limit may take, from the types that hold offsets into a request's bytes
    // (ServerConfiguration.validate refuses more; RequestParser traps on a header limit beyond it).

    /// Header spans (`Span`) keep offsets and lengths as Int32, and every span lies inside the head.
    public static let maximumHeaderBytes = Int(Int32.max)
    /// The request line is part of the head and its method and target are spans too: the same Int32 bound.
    public static let maximumRequestLineBytes = Int(Int32.max)
    /// 2^60 bytes. While a chunked body arrives the buffer holds the head (under 2^31), the data,
    /// framing of no more than the data or 64 KiB, and trailers no larger than a head: under 2^62,
    /// so every offset into it is an Int with room to spare and the buffer's doubling cannot overflow.
    /// (A chunk size has at most 15 significant hex digits, so it is below 2^60 too.)
    public static let maximumBodyBytes = 1 << 60

    public init(maxRequestLineBytes: Int = 8 * 1024, maxHeaderBytes: Int = 16 * 1024,
                maxHeaderCount: Int = 100, maxBodyBytes: Int = 1024 * 1024) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
