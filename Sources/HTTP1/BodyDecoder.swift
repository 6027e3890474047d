// BodyDecoder: the framing of a request body that is streamed rather than held
// whole (RFC 9112 §6.2-§7.1). Fed whatever bytes have arrived, it hands out the
// body's data as it goes and says how many input bytes it is done with, so the
// caller can drop them: a body of any size passes through a bounded buffer.
// Chunk lines and trailers are checked by the same functions as a whole chunked
// body (ChunkedBody), so a streamed body is framed exactly as a held one; a limit
// of the caller's (a route's) bounds the decoded bytes.

/// Decodes one streamed body, Content-Length bytes or chunks, piece by piece.
package struct BodyDecoder {
    private enum State {
        /// Content-Length bytes still to come.
        case length(remaining: Int)
        /// At a chunk line (or the last chunk's trailers, once `sawLastChunk`).
        case chunkLine
        /// Inside a chunk's data: bytes still to come before its CRLF.
        case chunkData(remaining: Int)
        /// After a chunk's data: its CRLF.
        case chunkEnd
        case done
    }

    /// What one call made of the bytes it was given.
    package enum Step: Equatable {
        /// `consumed` bytes are done with; more are needed (none of them may be body data yet).
        case needMore(consumed: Int)
        /// The body is complete: `consumed` bytes were its last; what follows is the next request.
        case finished(consumed: Int)
        /// The framing is broken or the body outgrew its limit: answer this status and close.
        case invalid(HTTPStatus)
    }

    private var state: State
    /// Body bytes handed out so far, and the most allowed.
    package private(set) var decoded = 0
    private let limit: Int
    private let maxTrailerBytes: Int

    /// - Parameters:
    ///   - head: the request whose body follows (its Content-Length, or chunked).
    ///   - limit: the most body bytes accepted; more gets 413 (RFC 9110 §15.5.14).
    package init(for head: RequestHead, limit: Int, limits: RequestLimits) {
        state = head.isChunked ? .chunkLine : (head.bodyLength == 0 ? .done : .length(remaining: head.bodyLength))
        self.limit = limit
        maxTrailerBytes = limits.maxHeaderBytes
    }

    /// The body has been read to its end.
    package var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// Decodes what it can of `bytes` (the unread input, from its start), handing each run of
    /// body data to `data` as it is found.
    package mutating func decode(_ bytes: UnsafeRawBufferPointer, data: (UnsafeRawBufferPointer) -> Void) -> Step {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return isFinished ? .finished(consumed: 0) : .needMore(consumed: 0)
        }
        var offset = 0
        while true {
            switch state {
            case .done:
                return .finished(consumed: offset)
            case .length(let remaining), .chunkData(let remaining):
                let take = min(remaining, bytes.count - offset)
                guard take > 0 else { return .needMore(consumed: offset) }
                data(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
                decoded += take
                offset += take
                if case .length = state {
                    state = remaining == take ? .done : .length(remaining: remaining - take)
                } else {
                    state = remaining == take ? .chunkEnd : .chunkData(remaining: remaining - take)
                }
            case .chunkEnd:
                guard bytes.count - offset >= 2 else { return .needMore(consumed: offset) }
                guard base[offset] == .cr && base[offset + 1] == .lf else { return .invalid(.badRequest) }
                offset += 2
                state = .chunkLine
            case .chunkLine:
                let line: ChunkedBody.ChunkLine
                switch ChunkedBody.chunkLine(base + offset, count: bytes.count - offset, at: 0) {
                case .incomplete: return .needMore(consumed: offset)
                case .invalid(let status): return .invalid(status)
                case .line(let parsed): line = parsed
                }
                guard line.size > 0 else { return lastChunk(base + offset, bytes.count - offset, line, consumedBefore: offset) }
                guard line.size <= limit - decoded else { return .invalid(.contentTooLarge) }
                offset += line.dataStart
                state = .chunkData(remaining: line.size)
            }
        }
    }

    /// The last chunk and its trailers (checked, then dropped, as for a held body).
    private mutating func lastChunk(_ base: UnsafePointer<UInt8>, _ count: Int, _ line: ChunkedBody.ChunkLine,
                                    consumedBefore offset: Int) -> Step {
        switch ChunkedBody.trailers(base, count: count, at: line.dataStart, limit: maxTrailerBytes, bodyLength: decoded) {
        case .incomplete: return .needMore(consumed: offset)
        case .invalid(let status): return .invalid(status)
        case .complete(let end, _):
            state = .done
            return .finished(consumed: offset + end)
        }
    }
}
