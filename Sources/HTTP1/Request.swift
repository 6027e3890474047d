// Request: the handler's read-only view of one parsed request. It points into
// the connection's buffer instead of copying, so it is valid only for the
// duration of the handler call.
import Glibc

/// A run of request bytes (a method, a path, a header value, the body).
///
/// Compare it with a string literal without allocating (`request.path == "/"`);
/// `string` makes a copy for when a `String` is really wanted. Like the
/// `Request` it came from, it must not be kept after the handler returns.
public struct ByteSlice: CustomStringConvertible {
    /// The bytes themselves.
    public let bytes: UnsafeRawBufferPointer

    @usableFromInline
    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var count: Int { bytes.count }
    public var isEmpty: Bool { bytes.isEmpty }

    /// A copy of the bytes as a String (invalid UTF-8 is repaired).
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public var description: String { string }

    @inlinable
    public static func == (slice: ByteSlice, text: StaticString) -> Bool {
        guard slice.count == text.utf8CodeUnitCount else { return false }
        guard let base = slice.bytes.baseAddress else { return true }
        return memcmp(base, text.utf8Start, slice.count) == 0
    }

    @inlinable
    public static func != (slice: ByteSlice, text: StaticString) -> Bool { !(slice == text) }
}

extension ByteSlice {
    /// The bytes of a string literal, which live as long as the program.
    init(_ text: StaticString) {
        self.init(bytes: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

/// One request as the handler sees it.
public struct Request {
    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let head: RequestHead
    @usableFromInline let fields: UnsafeBufferPointer<HeaderField>
    /// The entry of the client a trusted proxy named, if any (ClientAddress.swift).
    package var clientEntry: UnsafeRawPointer? = nil

    @inlinable
    package init(bytes: UnsafeRawBufferPointer, head: RequestHead, fields: UnsafeBufferPointer<HeaderField>) {
        precondition(bytes.count >= head.totalLength, "a request view needs the whole request")
        base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        self.head = head
        self.fields = UnsafeBufferPointer(rebasing: fields[0..<head.headerCount])
    }

    /// The method token, case-sensitive as sent ("GET").
    public var method: ByteSlice { slice(head.method) }

    /// The request-target exactly as sent ("/search?q=1", "http://example.com/search?q=1").
    public var target: ByteSlice { slice(head.target) }

    /// Which of the four forms of RFC 9112 §3.2 the target takes. Only origin-form and
    /// absolute-form requests reach a handler behind the operations layer.
    public var targetForm: TargetForm { head.targetForm }

    /// The path routes match, up to the query ("/search"), whatever the target's form: of an
    /// absolute-form target the path after its authority, and "/" when it has none (RFC 9110
    /// §4.2.3); "*" for asterisk-form; empty for authority-form.
    public var path: ByteSlice {
        let origin = head.origin
        let start = base + Int(origin.start)
        let length = queryMark(in: origin).map { $0 - start } ?? Int(origin.count)
        if length == 0 && head.targetForm == .absolute { return ByteSlice(Self.rootPath) }
        return ByteSlice(bytes: UnsafeRawBufferPointer(start: start, count: length))
    }

    /// The query after "?" ("q=1"), nil when the target has none.
    public var query: ByteSlice? {
        let origin = head.origin
        guard let mark = queryMark(in: origin) else { return nil }
        let end = base + origin.end
        return ByteSlice(bytes: UnsafeRawBufferPointer(start: mark + 1, count: end - mark - 1))
    }

    /// The host (and port) the request is for. RFC 9112 §3.2.2: an absolute-form target's
    /// authority, in place of the Host field; the target itself in authority-form; else the
    /// Host field (which HTTP/1.0 may leave out).
    public var host: ByteSlice? {
        switch head.targetForm {
        case .absolute:
            // scheme "://" authority path: "http" or "https", told apart by the byte after "http".
            let target = head.target
            let authorityStart = Int(target.start) + (base[Int(target.start) + 4] == .colon ? 7 : 8)
            return slice(Span(start: authorityStart, count: Int(head.origin.start) - authorityStart))
        case .authority:
            return target
        case .origin, .asterisk:
            return header("host")
        }
    }

    public var version: HTTPVersion { head.version }

    /// Whether the connection stays open after this request's response.
    public var keepAlive: Bool { head.keepAlive }

    /// The body: Content-Length bytes or the decoded chunks (empty when there is none).
    public var body: ByteSlice {
        ByteSlice(bytes: UnsafeRawBufferPointer(start: base + head.headLength, count: head.bodyLength))
    }

    /// How many header fields the request carried.
    public var headerCount: Int { fields.count }

    /// The name and value of the header field at `index`, in arrival order.
    public func header(at index: Int) -> (name: ByteSlice, value: ByteSlice) {
        (slice(fields[index].name), slice(fields[index].value))
    }

    /// The value of the first field named `name` (give it in lowercase; matching ignores case).
    public func header(_ name: StaticString) -> ByteSlice? {
        for field in fields where Bytes.equalIgnoringCase(base, field.name, name) {
            return slice(field.value)
        }
        return nil
    }

    /// The "?" that starts the query inside `origin`, if there is one.
    private func queryMark(in origin: Span) -> UnsafePointer<UInt8>? {
        memchr(base + Int(origin.start), Int32(UInt8(ascii: "?")), Int(origin.count))
            .map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) }
    }

    private static let rootPath: StaticString = "/"

    private func slice(_ span: Span) -> ByteSlice {
        ByteSlice(bytes: UnsafeRawBufferPointer(start: base + Int(span.start), count: Int(span.count)))
    }
}
