// FieldSummary: the header fields that decide how a request is framed and
// whether its connection persists, gathered as the parser passes them.

struct FieldSummary {
    private(set) var contentLength: Int?
    private var hasTransferEncoding = false
    private var hostCount = 0
    private var asksToClose = false
    private var asksToKeepAlive = false

    /// Takes note of one field; returns a status if the field alone makes the request invalid.
    mutating func note(_ field: HeaderField, _ base: UnsafePointer<UInt8>) -> HTTPStatus? {
        switch field.name.count {
        case 4 where Bytes.equalIgnoringCase(base, field.name, "host"):
            hostCount += 1
        case 10 where Bytes.equalIgnoringCase(base, field.name, "connection"):
            noteConnectionOptions(base, field.value)
        case 14 where Bytes.equalIgnoringCase(base, field.name, "content-length"):
            // RFC 9112 §6.3: an invalid Content-Length, or several that differ, is unrecoverable framing.
            guard let length = Bytes.decimal(base, field.value) else { return .badRequest }
            if let earlier = contentLength, earlier != length { return .badRequest }
            contentLength = length
        case 17 where Bytes.equalIgnoringCase(base, field.name, "transfer-encoding"):
            hasTransferEncoding = true
        default:
            break
        }
        return nil
    }

    /// The status for a request whose fields, taken together, cannot be served.
    func verdict(version: HTTPVersion, maxBodyBytes: Int) -> HTTPStatus? {
        if hasTransferEncoding {
            // RFC 9112 §6.1: both framings at once is a smuggling attempt, and must close the
            // connection. Chunked request bodies are not decoded yet, so any coding is refused.
            return contentLength != nil ? .badRequest : .notImplemented
        }
        // RFC 9112 §3.2: any request with more than one Host field, or an HTTP/1.1 request without one, gets 400.
        if hostCount > 1 || (version == .http1_1 && hostCount == 0) { return .badRequest }
        if let length = contentLength, length > maxBodyBytes { return .contentTooLarge }
        return nil
    }

    /// RFC 9112 §9.3: HTTP/1.1 persists unless "close" is sent; HTTP/1.0 only with "keep-alive".
    func keepAlive(version: HTTPVersion) -> Bool {
        if asksToClose { return false }
        return version == .http1_1 || asksToKeepAlive
    }

    /// Connection = #connection-option: a comma-separated list of case-insensitive tokens.
    private mutating func noteConnectionOptions(_ base: UnsafePointer<UInt8>, _ value: Span) {
        var index = Int(value.start)
        while index < value.end {
            while index < value.end && (base[index] == .space || base[index] == .tab || base[index] == UInt8(ascii: ",")) {
                index += 1
            }
            let start = index
            while index < value.end && Bytes.isTokenChar(base[index]) { index += 1 }
            let option = Span(start: start, count: index - start)
            if Bytes.equalIgnoringCase(base, option, "close") { asksToClose = true }
            if Bytes.equalIgnoringCase(base, option, "keep-alive") { asksToKeepAlive = true }
            // Skip anything that is not a token (parameters, stray bytes) up to the next comma.
            while index < value.end && base[index] != UInt8(ascii: ",") { index += 1 }
        }
    }
}
