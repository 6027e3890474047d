// ResponseWriter: serialises responses into an output buffer, adding the
// framing headers every response carries (RFC 9112 §4-§6).

package struct ResponseWriter {
    let dateCache: DateCache
    let serverName: StaticString

    /// Writes `response` as the answer to a request with `head`'s method and version.
    package init(dateCache: DateCache, serverName: StaticString) {
        self.dateCache = dateCache
        self.serverName = serverName
    }

    package func write(_ response: Response, for head: RequestHead, keepAlive: Bool, into out: ByteBuffer) {
        let bodyLength = response.status.allowsContent ? response.body.count : 0
        // A stream of unknown length has no Content-Length: chunked (or, to HTTP/1.0, the close) frames it.
        let framedLength: Int? = response.body.hasUnknownLength ? nil : bodyLength
        writeHead(status: response.status, contentType: response.contentType, mediaType: response.mediaType,
                  contentLength: framedLength,
                  keepAlive: keepAlive, version: head.version, into: out)
        for field in response.headers {
            out.append(field.name)
            out.append(": ")
            var value = field.value
            value.withUTF8 { out.append(UnsafeRawBufferPointer($0)) }
            out.append("\r\n")
        }
        for field in response.runtimeHeaders { appendField(field, to: out) }
        out.append("\r\n")
        guard !head.isHead && bodyLength > 0 else { return }
        switch response.body {
        case .empty: break
        case .text(let text): out.append(text)
        case .bytes(let bytes): out.append(bytes)
        case .file, .stream: break  // sent by the connection after the head, as the socket drains
        }
    }

    /// The body bytes `write` sends for `response` (none for HEAD, 1xx, 204 and 304): the access log's $body_bytes_sent.
    package static func bodyLength(of response: Response, for head: RequestHead) -> Int {
        head.isHead || !response.status.allowsContent ? 0 : response.body.count
    }

    /// Writes a complete error response that closes the connection: the status
    /// line, the framing headers and the reason phrase as a short text body.
    package func writeError(_ status: HTTPStatus, into out: ByteBuffer) {
        writeHead(status: status, contentType: "text/plain; charset=utf-8", mediaType: nil,
                  contentLength: status.errorBodyLength,
                  keepAlive: false, version: .http1_1, into: out)
        out.append("\r\n")
        out.append(status.reason)
        out.append("\n")
    }

    /// - Parameter contentLength: nil for a body of unknown length: chunked to an HTTP/1.1 client.
    /// - Parameter mediaType: when set, the Content-Type instead of `contentType`.
    private func writeHead(status: HTTPStatus, contentType: StaticString, mediaType: MediaType?, contentLength: Int?,
                           keepAlive: Bool, version: HTTPVersion, into out: ByteBuffer) {
        out.append("HTTP/1.1 ")
        out.appendDecimal(status.code)
        out.append(" ")
        out.append(status.reason)
        out.append("\r\nServer: ")
        out.append(serverName)
        out.append("\r\nDate: ")
        out.append(dateCache.value)
        if let mediaType {
            out.append("\r\nContent-Type: ")
            out.append(mediaType.bytes)
        } else if contentType.utf8CodeUnitCount > 0 {
            out.append("\r\nContent-Type: ")
            out.append(contentType)
        }
        // RFC 9110 §8.6: no Content-Length on 1xx and 204; on 304 it is optional, and left out.
        if status.allowsContent {
            if let contentLength {
                out.append("\r\nContent-Length: ")
                out.appendDecimal(contentLength)
            } else if version == .http1_1 {
                out.append("\r\nTransfer-Encoding: chunked")  // RFC 9112 §7.1
            }
        }
        if !keepAlive {
            out.append("\r\nConnection: close")
        } else if version == .http1_0 {
            out.append("\r\nConnection: keep-alive")  // HTTP/1.0 persists only when told so.
        }
        out.append("\r\n")
    }
}
