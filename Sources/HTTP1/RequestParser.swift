// RequestParser: an HTTP/1.1 request head parser over caller-owned bytes
// (RFC 9112 §2-§6). It copies nothing and allocates nothing per request: fields
// are offsets into the caller's buffer, stored in a fixed array the parser owns.
// Like picohttpparser, it first looks for the end of the header block and
// remembers how far it looked, so bytes arriving one at a time are scanned once.
import Glibc

/// What the parser made of the bytes it was given.
package enum ParseResult {
    /// Not a whole request yet: read more bytes and call again.
    case incomplete
    /// A whole request (head and body) starts at the buffer's first byte.
    case complete(RequestHead)
    /// The bytes can never become a valid request; answer with this status and close.
    case invalid(HTTPStatus)
}

package final class RequestParser {
    package let limits: RequestLimits
    /// Header fields of the last complete request, in arrival order.
    package let headers: UnsafeMutableBufferPointer<HeaderField>

    package init(limits: RequestLimits) {
        // Spans are Int32: a larger head would truncate offsets that the Request view then reads at.
        precondition(limits.maxHeaderBytes <= RequestLimits.maximumHeaderBytes, "header spans are 32-bit")
        self.limits = limits
        headers = .allocate(capacity: limits.maxHeaderCount)
    }

    deinit {
        headers.deallocate()
    }

    /// Parses the request at the start of `bytes`.
    ///
    /// - Parameter progress: how far earlier calls got with the same request;
    ///   start with a fresh value for each request and pass the same variable back
    ///   with more bytes, so nothing already scanned is scanned again.
    @inline(never)  // So profilers and callgrind (scripts/bench) can attribute the parser's cost.
    package func parse(_ bytes: UnsafeRawBufferPointer, progress: inout ParseProgress) -> ParseResult {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .incomplete }
        let count = bytes.count
        if progress.awaitingBody, let early = bodyStillIncomplete(base, count, &progress) { return early }
        let start = Self.leadingEmptyLines(base, count)
        switch Self.findHeadEnd(base, count, from: max(progress.headScanned, start)) {
        case .notYet(let resumeAt):
            progress.headScanned = resumeAt
            return limitExceeded(base, start: start, count: count) ?? .incomplete
        case .found(let headEnd, let lastLineStart):
            // The same limits, in the same order, as while the head was still arriving, so the
            // status does not depend on how the bytes were split across reads.
            if let refusal = limitExceeded(base, start: start, count: headEnd) { return refusal }
            progress.headScanned = lastLineStart  // while the body arrives, this head is found again at once
            let result = parseHead(base, start: start, headEnd: headEnd)
            guard case .complete(var head) = result else { return result }
            return frameBody(of: &head, base, count, &progress)
        }
    }

    /// While a body arrives, only the body is looked at: the head was parsed (and
    /// validated) when it completed, and is parsed once more when the body is whole,
    /// to refill the header fields that other connections' requests have overwritten.
    private func bodyStillIncomplete(_ base: UnsafePointer<UInt8>, _ count: Int,
                                     _ progress: inout ParseProgress) -> ParseResult? {
        if let end = progress.messageEnd { return count < end ? .incomplete : nil }
        switch ChunkedBody.scan(base, count: count, from: progress.bodyStart, limits: limits, progress: &progress.chunks) {
        case .incomplete: return .incomplete
        case .invalid(let status): return .invalid(status)
        case .complete: return nil
        }
    }

    /// Finds where the body ends: Content-Length bytes, or the end of the last chunk.
    private func frameBody(of head: inout RequestHead, _ base: UnsafePointer<UInt8>, _ count: Int,
                           _ progress: inout ParseProgress) -> ParseResult {
        progress.expectsContinue = head.expectsContinue
        progress.bodyStart = head.headLength
        progress.messageEnd = head.isChunked ? nil : head.totalLength
        guard head.isChunked else {
            progress.awaitingBody = head.totalLength > count
            return progress.awaitingBody ? .incomplete : .complete(head)
        }
        switch ChunkedBody.scan(base, count: count, from: head.headLength, limits: limits, progress: &progress.chunks) {
        case .incomplete:
            progress.awaitingBody = true
            return .incomplete
        case .invalid(let status):
            return .invalid(status)
        case .complete(let end, let bodyLength):
            head.totalLength = end
            head.bodyLength = bodyLength
            return .complete(head)
        }
    }

    // MARK: Finding the end of the header block

    private enum HeadEnd {
        case notYet(resumeAt: Int)
        /// `headEnd` is one past the empty line's LF; `lastLineStart` is the LF before the empty line.
        case found(headEnd: Int, lastLineStart: Int)
    }

    /// RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request line.
    /// Only whole empty lines (CRLF or LF) are skipped: a bare CR is no line end, and stays to be refused.
    private static func leadingEmptyLines(_ base: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var index = 0
        while index < count {
            if base[index] == .lf {
                index += 1
            } else if base[index] == .cr && index + 1 < count && base[index + 1] == .lf {
                index += 2
            } else {
                break
            }
        }
        return index
    }

    /// Looks for a line feed followed by an empty line (CRLF or a bare LF, which
    /// RFC 9112 §2.2 lets a recipient accept as a line terminator).
    private static func findHeadEnd(_ base: UnsafePointer<UInt8>, _ count: Int, from: Int) -> HeadEnd {
        var index = from
        while index < count, let found = memchr(base + index, Int32(UInt8.lf), count - index) {
            let lf = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
            guard lf + 1 < count else { return .notYet(resumeAt: lf) }
            if base[lf + 1] == .lf { return .found(headEnd: lf + 2, lastLineStart: lf) }
            if base[lf + 1] == .cr {
                guard lf + 2 < count else { return .notYet(resumeAt: lf) }
                if base[lf + 2] == .lf { return .found(headEnd: lf + 3, lastLineStart: lf) }
            }
            index = lf + 1
        }
        return .notYet(resumeAt: count)
    }

    /// A head (finished or not) that outgrows its limits: 414 for a request line that
    /// is too long, 431 for a header block that is. Leading empty lines count towards
    /// the block, or a stream of them would grow the buffer forever.
    private func limitExceeded(_ base: UnsafePointer<UInt8>, start: Int, count: Int) -> ParseResult? {
        if count - start > limits.maxRequestLineBytes {
            let lineLimit = min(count - start, limits.maxRequestLineBytes + 1)
            if memchr(base + start, Int32(UInt8.lf), lineLimit) == nil { return .invalid(.uriTooLong) }
        }
        if count > limits.maxHeaderBytes { return .invalid(.requestHeaderFieldsTooLarge) }
        return nil
    }

    // MARK: Parsing a complete head

    private func parseHead(_ base: UnsafePointer<UInt8>, start: Int, headEnd: Int) -> ParseResult {
        var cursor = HeadCursor(base: base, index: start, end: headEnd)
        let line: RequestLine
        switch cursor.requestLine(maxLength: limits.maxRequestLineBytes) {
        case .parsed(let parsed): line = parsed
        case .rejected(let status): return .invalid(status)
        }
        var fields = FieldSummary()
        var headerCount = 0
        while !cursor.atEmptyLine {
            guard headerCount < limits.maxHeaderCount else { return .invalid(.requestHeaderFieldsTooLarge) }
            guard let field = cursor.headerField() else { return .invalid(.badRequest) }
            headers[headerCount] = field
            headerCount += 1
            if let status = fields.note(field, base) { return .invalid(status) }
        }
        if let status = fields.verdict(version: line.version, maxBodyBytes: limits.maxBodyBytes) {
            return .invalid(status)
        }
        // RFC 9112 §3.2: a target in none of the four forms, or in one its method may not use, gets 400.
        // (Classified after the fields, so that nothing more stays live across their loop.)
        guard let target = RequestTarget(classifying: line.target, method: line.method, base) else {
            return .invalid(.badRequest)
        }
        let isHead = line.method.count == 4 && Bytes.equal(base, line.method, "HEAD")
        let bodyLength = fields.contentLength ?? 0
        // Content-Length is the client's number, bounded so far only by maxBodyBytes: the sum is
        // checked, so that no limit, however large, lets a declared length overflow the message's end.
        let (totalLength, overflow) = headEnd.addingReportingOverflow(bodyLength)
        if overflow { return .invalid(.contentTooLarge) }
        return .complete(RequestHead(
            method: line.method, target: line.target, version: line.version,
            targetForm: target.form, originStart: target.origin.start,
            headerCount: headerCount, headLength: headEnd, bodyLength: bodyLength, totalLength: totalLength,
            isChunked: fields.isChunked, expectsContinue: fields.expectsContinue(version: line.version),
            keepAlive: fields.keepAlive(version: line.version), isHead: isHead))
    }
}

extension UInt8 {
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    package static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
}
