// RuntimeHeaders: header fields and content types known only at run time, for
// handlers that answer from data (a database row, a computed ETag, a file's
// type). Every name and value is checked against RFC 9110's grammar before it
// is kept, so no caller can split a response or break its framing; the
// StaticString fields of `Response` stay the allocation-free path.

/// Why a header field was refused.
public struct HeaderFieldError: Error, Equatable, Sendable, CustomStringConvertible {
    public let name: String
    public let reason: String

    public var description: String { "header field \"\(name)\": \(reason)" }
}

extension Response {
    /// Header fields the server writes itself: framing (RFC 9112 §6, §9.6), the date and
    /// the server's name. A handler cannot set them: the connection's framing is the server's.
    static let serverOwnedFields: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "date", "server",
    ]

    /// Sets the field `name` to `value`, replacing fields of that name set before (names
    /// compare ignoring case, RFC 9110 §5.1). "Content-Type" sets `mediaType`.
    /// - Throws: `HeaderFieldError` when the name is not a token (RFC 9110 §5.1), the value
    ///   holds a control character (CR, LF, NUL: §5.5), or the field is one the server writes.
    public mutating func setHeader(name: String, value: String) throws(HeaderFieldError) {
        let (name, value) = try Self.checkedField(name: name, value: value)
        if name.lowercased() == "content-type" {
            try setContentType(value)
            return
        }
        runtimeHeaders.removeAll { $0.name.lowercased() == name.lowercased() }
        runtimeHeaders.append((name, value))
    }

    /// Adds a field `name: value` after those already set, as for a repeated field (Set-Cookie).
    /// - Throws: as `setHeader(name:value:)`; a second Content-Type is refused.
    public mutating func addHeader(name: String, value: String) throws(HeaderFieldError) {
        let (name, value) = try Self.checkedField(name: name, value: value)
        if name.lowercased() == "content-type" {
            throw HeaderFieldError(name: name, reason: "Content-Type is set, not added")
        }
        runtimeHeaders.append((name, value))
    }

    /// Sets a Content-Type made at run time ("application/json", "text/csv; charset=utf-8").
    /// - Throws: `HeaderFieldError` when `value` is empty or holds a control character.
    public mutating func setContentType(_ value: String) throws(HeaderFieldError) {
        guard let type = MediaType(value) else {
            throw HeaderFieldError(name: "Content-Type", reason: "not a field value")
        }
        mediaType = type
    }

    /// The value of the run-time field `name` (ignoring case), or nil.
    public func runtimeHeader(_ name: String) -> String? {
        let lowercased = name.lowercased()
        return runtimeHeaders.first { $0.name.lowercased() == lowercased }?.value
    }

    /// The name and value as they will be sent: the value without the optional whitespace
    /// around it (RFC 9110 §5.5), both checked.
    static func checkedField(name: String, value: String) throws(HeaderFieldError) -> (String, String) {
        // field-name = token (RFC 9110 §5.1, §5.6.2)
        guard !name.isEmpty, name.utf8.allSatisfy(Bytes.isTokenChar) else {
            throw HeaderFieldError(name: name, reason: "the name is not a token")
        }
        guard !serverOwnedFields.contains(name.lowercased()) else {
            throw HeaderFieldError(name: name, reason: "the server writes this field itself")
        }
        // field-value = *field-content; field-vchar = VCHAR / obs-text, with SP and HTAB between (§5.5).
        let bytes = value.utf8
        guard bytes.allSatisfy({ $0 == .tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw HeaderFieldError(name: name, reason: "the value holds a control character")
        }
        let trimmed = value.utf8.drop { $0 == .space || $0 == .tab }.reversed().drop { $0 == .space || $0 == .tab }
        return (name, String(decoding: trimmed.reversed(), as: UTF8.self))
    }
}

extension ResponseWriter {
    /// Appends `name: value` and CRLF; both were checked when the handler set them.
    func appendField(_ field: (name: String, value: String), to out: ByteBuffer) {
        var name = field.name
        var value = field.value
        name.withUTF8 { out.append(UnsafeRawBufferPointer($0)) }
        out.append(": ")
        value.withUTF8 { out.append(UnsafeRawBufferPointer($0)) }
        out.append("\r\n")
    }
}

extension HTTPStatus {
    /// RFC 9110 §15.3.2: the request created a resource.
    public static let created = HTTPStatus(code: 201, reason: "Created")
}
