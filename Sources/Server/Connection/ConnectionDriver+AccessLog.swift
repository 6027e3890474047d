// ConnectionDriver+AccessLog: a request's access log line. Most are written
// as the response is rendered; a file or stream body's (gzipped, multipart)
// waits for the body to be done, so $body_bytes_sent is what actually left (a
// client gone halfway, a write timeout, a file truncated under it; a chunked
// body's framing included), as nginx logs it at the request's end.
import HTTP1

extension ConnectionDriver {
    /// Logs `request` now, or holds its line when its body is a file or stream still to be sent.
    /// - Parameter bodyWritten: the file body went into the output with the head (ConnectionDriver+SmallFiles).
    func log<T: Transport & ~Copyable>(_ request: Request, _ head: RequestHead, _ response: Response, bodyWritten: Bool,
                                       on connection: Connection<T>, to accessLog: AccessLog) {
        let bodyBytes = ResponseWriter.bodyLength(of: response, for: head)
        if !bodyWritten, Self.isSentLater(response.body), !head.isHead && response.status.allowsContent {
            heldLogLine = (accessLog, accessLog.hold(request, on: connection.transport.fd, status: response.status.code,
                                                     requestID: accessLog.requestID(of: response)))
            return
        }
        accessLog.record(request, on: connection.transport.fd, status: response.status.code, bodyBytes: bodyBytes,
                         requestID: accessLog.requestID(of: response))
    }

    private static func isSentLater(_ body: ResponseBody) -> Bool {
        switch body {
        case .file, .stream: return true
        case .empty, .text, .bytes: return false
        }
    }

    /// Gives the held line to the connection's pending body, which writes it when it is done with.
    func handOverLogLine<T: Transport & ~Copyable>(to connection: Connection<T>) {
        guard let held = heldLogLine else { return }
        heldLogLine = nil
        if let body = connection.pendingBody {
            body.logLine = held
        } else {
            held.log.complete(held.line, bodyBytes: 0)
        }
    }
}
