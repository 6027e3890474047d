// MediaType: a Content-Type value known only at run time (a file's type from
// /etc/mime.types). Made once, when the table is read, and shared by every
// response that carries it: setting one on a response costs a reference count,
// never an allocation, and the StaticString path of `Response.contentType` is untouched.

/// A Content-Type field value made at run time, for `Response.mediaType`.
public final class MediaType: Sendable, CustomStringConvertible {
    /// The value as sent ("text/css; charset=utf-8").
    public let value: String
    /// Its bytes, ready to append to a response head.
    let bytes: [UInt8]

    /// nil when `value` is empty or holds a byte a field value may not (RFC 9110 §5.5: no CR, LF, NUL or other controls).
    public init?(_ value: String) {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { return nil }
        self.value = value
        self.bytes = bytes
    }

    public var description: String { value }
}
