// FieldSummary: the header fields that decide how a request is framed, whether
// its connection persists and what it expects, gathered as the parser passes them.

struct FieldSummary {
    private(set) var contentLength: Int?
    private var transferCodings = TransferCodings()
    private var hostCount = 0
    private var asksToClose = false
    private var asksToKeepAlive = false
    private var expectation = Expectation.none

    private enum Expectation { case none, hundredContinue, unsupported }

    /// Takes note of one field; returns a status if the field alone makes the request invalid.
    mutating func note(_ field: HeaderField, _ base: UnsafePointer<UInt8>) -> HTTPStatus? {
        switch field.name.count {
        case 4 where Bytes.equalIgnoringCase(base, field.name, "host"):
            hostCount += 1
            // RFC 9110 §7.2 and RFC 3986 §3.2.2: a host, an optional port, nothing else.
            guard Bytes.all(base, field.value, satisfy: Bytes.isAuthorityChar) else { return .badRequest }
        case 6 where Bytes.equalIgnoringCase(base, field.name, "expect"):
            // RFC 9110 §10.1.1: "100-continue" is the only expectation defined; others get 417.
            expectation = Bytes.equalIgnoringCase(base, field.value, "100-continue") ? .hundredContinue : .unsupported
        case 10 where Bytes.equalIgnoringCase(base, field.name, "connection"):
            Bytes.forEachListElement(base, field.value) { option, _ in
                if Bytes.equalIgnoringCase(base, option, "close") { asksToClose = true }
                if Bytes.equalIgnoringCase(base, option, "keep-alive") { asksToKeepAlive = true }
            }
        case 14 where Bytes.equalIgnoringCase(base, field.name, "content-length"):
            // RFC 9112 §6.3: an invalid Content-Length, or several that differ, is unrecoverable framing.
            guard let length = Bytes.decimal(base, field.value) else { return .badRequest }
            if let earlier = contentLength, earlier != length { return .badRequest }
            contentLength = length
        case 17 where Bytes.equalIgnoringCase(base, field.name, "transfer-encoding"):
            transferCodings.note(base, field.value)
        default:
            break
        }
        return nil
    }

    /// The status for a request whose fields, taken together, cannot be served.
    func verdict(version: HTTPVersion, maxBodyBytes: Int) -> HTTPStatus? {
        if transferCodings.present {
            // RFC 9112 §6.1: Transfer-Encoding with Content-Length is a smuggling pattern, and
            // HTTP/1.0 has no transfer codings; this server takes the strict choice of refusing both.
            if contentLength != nil || version == .http1_0 { return .badRequest }
            if let status = transferCodings.verdict { return status }
        }
        // RFC 9112 §3.2: any request with more than one Host field, or an HTTP/1.1 request without one, gets 400.
        if hostCount > 1 || (version == .http1_1 && hostCount == 0) { return .badRequest }
        if let length = contentLength, length > maxBodyBytes { return .contentTooLarge }
        if expectation == .unsupported && version == .http1_1 { return .expectationFailed }
        return nil
    }

    var isChunked: Bool { transferCodings.present }

    /// RFC 9110 §10.1.1: a server ignores 100-continue from an HTTP/1.0 client.
    func expectsContinue(version: HTTPVersion) -> Bool { expectation == .hundredContinue && version == .http1_1 }

    /// RFC 9112 §9.3: HTTP/1.1 persists unless "close" is sent; HTTP/1.0 only with "keep-alive".
    func keepAlive(version: HTTPVersion) -> Bool {
        if asksToClose { return false }
        return version == .http1_1 || asksToKeepAlive
    }
}

/// The Transfer-Encoding list over every field line that carries one (RFC 9112 §6.1).
private struct TransferCodings {
    private(set) var present = false
    private var chunkedCount = 0
    private var lastIsChunked = false
    private var otherCoding = false

    mutating func note(_ base: UnsafePointer<UInt8>, _ value: Span) {
        present = true
        Bytes.forEachListElement(base, value) { coding, hasParameters in
            // "chunked" takes no parameters; any other coding is one this server cannot decode.
            let chunked = Bytes.equalIgnoringCase(base, coding, "chunked") && !hasParameters
            if chunked { chunkedCount += 1 } else { otherCoding = true }
            lastIsChunked = chunked
        }
    }

    /// Chunked exactly once and last is the only framing served; RFC 9112 §6.3 makes a request
    /// whose final coding is not chunked a 400, and §6.1 lets codings not understood get 501.
    var verdict: HTTPStatus? {
        if lastIsChunked && chunkedCount == 1 { return otherCoding ? .notImplemented : nil }
        return otherCoding && chunkedCount == 0 ? .notImplemented : .badRequest
    }
}
