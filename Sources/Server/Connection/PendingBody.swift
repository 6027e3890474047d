// PendingBody: a response body that is sent after its head, as the socket
// drains: a file region (sendfile) or a stream (pulled a piece at a time). It
// lives on the connection until it is sent, and while it does the connection
// answers no further pipelined request.
import HTTP1

final class PendingBody {
    enum Source {
        case file(FileRegion)
        case stream(BodyStream)
    }

    let source: Source
    /// The file offset of the next byte to send (file bodies).
    var offset: Int
    /// Bytes still to send, nil for a stream of unknown length (sent chunked).
    var remaining: Int?
    /// Whether the pieces are framed as chunks (RFC 9112 §7.1): a stream of unknown length to an HTTP/1.1 client.
    let chunked: Bool
    /// The stream's producer has given its last piece (the last chunk is queued): it is not asked again.
    var produced = false
    /// Bytes of a stream queued for the socket so far (with its chunk framing), and how many of them it took.
    var producedBytes = 0
    var sentBytes = 0
    /// A stream from an async sequence had nothing ready: the connection waits for its producer's nudge.
    var waitingForProducer = false
    /// A body's access log line, written with the bytes actually sent once the body is
    /// done with, however it ends (sent, failed, timed out, the connection closed).
    var logLine: (log: AccessLog, line: AccessLogLine.Held)?
    /// File bodies with read-ahead (ConnectionDriver+Disk): the file offset up to which the
    /// page cache was last seen to hold the bytes, and the serial of the read in flight.
    var cachedThrough = 0
    var readAheadSerial: UInt64?

    /// The body of `response` to be sent after its head, or nil when it has none to send
    /// later (then a file's descriptor is closed here, as for HEAD, 204 and 304).
    static func holding(_ response: Response, for head: RequestHead) -> PendingBody? {
        let sendsBody = !head.isHead && response.status.allowsContent
        switch response.body {
        case .file(let region):
            guard sendsBody && region.length > 0 else {
                region.close()
                return nil
            }
            return PendingBody(.file(region), offset: region.offset, remaining: region.length, chunked: false)
        case .stream(let stream):
            guard sendsBody && stream.length != 0 else { return nil }
            return PendingBody(.stream(stream), offset: 0, remaining: stream.length,
                               chunked: stream.length == nil && head.version == .http1_1)
        case .empty, .text, .bytes:
            return nil
        }
    }

    private init(_ source: Source, offset: Int, remaining: Int?, chunked: Bool) {
        self.source = source
        self.offset = offset
        self.remaining = remaining
        self.chunked = chunked
    }

    /// Whether the next write is followed at once by a sendfile: the head goes out with MSG_MORE.
    var isFile: Bool {
        if case .file = source { return true }
        return false
    }

    /// Done with the body (sent, failed, or its connection ended): a file is closed now, once;
    /// an async sequence's task is cancelled (it has ended already when the body was sent).
    func release() {
        switch source {
        case .file(let region): region.close()
        case .stream(let stream): stream.pump?.cancel()
        }
    }

    /// The connection ends before the body is sent: the producer's task, if any, is cancelled.
    func abandon() {
        if case .stream(let stream) = source { stream.pump?.cancel() }
    }

    deinit {
        guard let logLine else { return }
        switch source {
        case .file(let region): logLine.log.complete(logLine.line, bodyBytes: region.length - (remaining ?? 0))
        case .stream: logLine.log.complete(logLine.line, bodyBytes: sentBytes)
        }
    }
}
