// ConnectionDriver+AccessLog: a request's access log line. Most are written
// as the response is rendered; a file body's waits for the body to be done, so
// $body_bytes_sent is what actually left (a client gone halfway, a write
// timeout, a file truncated under it), as nginx logs it at the request's end.
import HTTP1

extension ConnectionDriver {
    /// Logs `request` now, or holds its line when its body is a file still to be sent.
    func log(_ request: Request, _ head: RequestHead, _ response: Response, on connection: Connection, to accessLog: AccessLog) {
        let bodyBytes = ResponseWriter.bodyLength(of: response, for: head)
        if case .file = response.body, bodyBytes > 0 {
            heldLogLine = (accessLog, accessLog.hold(request, on: connection.socket.fd, status: response.status.code))
            return
        }
        accessLog.record(request, on: connection.socket.fd, status: response.status.code, bodyBytes: bodyBytes)
    }

    /// Gives the held line to the connection's pending body, which writes it when it is done with.
    func handOverLogLine(to connection: Connection) {
        guard let held = heldLogLine else { return }
        heldLogLine = nil
        if let body = connection.pendingBody {
            body.logLine = held
        } else {
            held.log.complete(held.line, bodyBytes: 0)
        }
    }
}
