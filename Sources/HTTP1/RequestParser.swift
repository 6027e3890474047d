// RequestParser: an HTTP/1.1 request head parser over caller-owned bytes
// (RFC 9112 §2-§6). It copies nothing and allocates nothing for a request that
// arrives whole: fields are offsets into the caller's buffer, written into
// storage the caller passes in (picohttpparser's shape; see HeaderStorage).
// Like picohttpparser, it first looks for the end of the header block and
// remembers how far it looked, so bytes arriving one at a time are scanned once.
// A head is parsed once: while its body arrives, the head waits parked in the
// caller's ParseProgress and only the body is framed.
import Glibc

/// What the parser made of the bytes it was given.
package enum ParseResult {
    /// Not a whole request yet: read more bytes and call again.
    case incomplete
    /// A whole request (head and body) starts at the buffer's first byte.
    case complete(RequestHead)
    /// Only from `parseHead`: the head is whole and valid, and its body (Content-Length
    /// bytes or chunks, not yet checked against any limit) may still be arriving.
    case head(RequestHead)
    /// The bytes can never become a valid request; answer with this status and close.
    case invalid(HTTPStatus)
}

// A class, though it holds only its limits: the harness (scripts/harness/instructions.py) finds
// `parse` by its mangled name as a class method.
package final class RequestParser {
    package let limits: RequestLimits

    package init(limits: RequestLimits) {
        // Spans are Int32: a larger head would truncate offsets that the Request view then reads at.
        precondition(limits.maxHeaderBytes <= RequestLimits.maximumHeaderBytes, "header spans are 32-bit")
        self.limits = limits
    }

    /// Parses the request at the start of `bytes`.
    ///
    /// - Parameter progress: how far earlier calls got with the same request;
    ///   start with a fresh value for each request and pass the same variable back
    ///   with more bytes, so nothing already scanned is scanned again.
    /// - Parameter fields: room for `limits.maxHeaderCount` fields (`HeaderStorage`); when the
    ///   result is `.complete(head)`, its first `head.headerCount` entries are the request's fields.
    @inline(never)  // So profilers and callgrind (scripts/bench) can attribute the parser's cost.
    package func parse(_ bytes: UnsafeRawBufferPointer, progress: inout ParseProgress,
                       fields: UnsafeMutableBufferPointer<HeaderField>) -> ParseResult {
        precondition(fields.count >= limits.maxHeaderCount, "header storage smaller than maxHeaderCount")
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .incomplete }
        let count = bytes.count
        if let parked = progress.parked { return bodyArrived(for: parked, base, count, &progress, fields) }
        let result = scanHead(base, count, &progress, maxBodyBytes: limits.maxBodyBytes, fields)
        guard case .complete(var head) = result else { return result }
        return frameBody(of: &head, base, count, &progress, fields)
    }

    /// Like `parse`, but stops at the head: `.head(head)` as soon as it is whole and valid,
    /// before the body is framed or its declared length checked, so that the caller can
    /// choose the body's fate (stream it under a limit of its own, or `frameBody(after:)`).
    /// A request whose head was handed back and then parked by `frameBody` continues as in `parse`.
    package func parseHead(_ bytes: UnsafeRawBufferPointer, progress: inout ParseProgress,
                           fields: UnsafeMutableBufferPointer<HeaderField>) -> ParseResult {
        precondition(fields.count >= limits.maxHeaderCount, "header storage smaller than maxHeaderCount")
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .incomplete }
        let count = bytes.count
        if let parked = progress.parked { return bodyArrived(for: parked, base, count, &progress, fields) }
        let result = scanHead(base, count, &progress, maxBodyBytes: .max, fields)
        guard case .complete(let head) = result else { return result }
        return .head(head)
    }

    /// Finds the end of the head (resuming where the last call stopped) and parses it:
    /// `.complete(head)` with its body not yet framed, `.incomplete`, or a refusal.
    @inline(__always)
    private func scanHead(_ base: UnsafePointer<UInt8>, _ count: Int, _ progress: inout ParseProgress, maxBodyBytes: Int,
                          _ fields: UnsafeMutableBufferPointer<HeaderField>) -> ParseResult {
        let start = Self.leadingEmptyLines(base, count)
        switch Self.findHeadEnd(base, count, from: max(progress.headScanned, start)) {
        case .notYet(let resumeAt):
            progress.headScanned = resumeAt
            return limitExceeded(base, start: start, count: count) ?? .incomplete
        case .found(let headEnd):
            // The same limits, in the same order, as while the head was still arriving, so the
            // status does not depend on how the bytes were split across reads.
            if let refusal = limitExceeded(base, start: start, count: headEnd) { return refusal }
            #if DEBUG
            progress.headParses += 1
            #endif
            return parseHead(base, start: start, headEnd: headEnd, maxBodyBytes: maxBodyBytes, fields)
        }
    }

    /// After `parseHead`, for a body that is not streamed: what `parse` would have answered
    /// (the body limit checked, the body framed, the head parked while the body arrives).
    package func frameBody(after head: RequestHead, _ bytes: UnsafeRawBufferPointer, progress: inout ParseProgress,
                           fields: UnsafeMutableBufferPointer<HeaderField>) -> ParseResult {
        guard head.isChunked || head.bodyLength <= limits.maxBodyBytes else { return .invalid(.contentTooLarge) }
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .incomplete }
        var head = head
        return frameBody(of: &head, base, bytes.count, &progress, fields)
    }

    /// While a body arrives, only the body is looked at: the head was parsed (and validated)
    /// when it completed, and waits parked. Once the body is whole, the parked fields go back
    /// into the caller's storage, which other connections' requests have used meanwhile.
    private func bodyArrived(for parked: ParkedHead, _ base: UnsafePointer<UInt8>, _ count: Int,
                             _ progress: inout ParseProgress,
                             _ fields: UnsafeMutableBufferPointer<HeaderField>) -> ParseResult {
        var head = parked.header
        if head.isChunked {
            switch ChunkedBody.scan(base, count: count, from: head.headLength, limits: limits, progress: &progress.chunks) {
            case .incomplete: return .incomplete
            case .invalid(let status): return .invalid(status)
            case .complete(let end, let bodyLength):
                head.totalLength = end
                head.bodyLength = bodyLength
            }
        } else if count < head.totalLength {
            return .incomplete
        }
        parked.restoreFields(into: fields)
        return .complete(head)
    }

    /// Finds where the body ends: Content-Length bytes, or the end of the last chunk.
    /// A body still to come parks the head (see HeaderStorage).
    private func frameBody(of head: inout RequestHead, _ base: UnsafePointer<UInt8>, _ count: Int,
                           _ progress: inout ParseProgress,
                           _ fields: UnsafeMutableBufferPointer<HeaderField>) -> ParseResult {
        guard head.isChunked else {
            guard head.totalLength > count else { return .complete(head) }
            progress.parked = ParkedHead.park(head, fields: fields)
            return .incomplete
        }
        switch ChunkedBody.scan(base, count: count, from: head.headLength, limits: limits, progress: &progress.chunks) {
        case .incomplete:
            progress.parked = ParkedHead.park(head, fields: fields)
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
        /// `headEnd` is one past the empty line's LF.
        case found(headEnd: Int)
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
            if base[lf + 1] == .lf { return .found(headEnd: lf + 2) }
            if base[lf + 1] == .cr {
                guard lf + 2 < count else { return .notYet(resumeAt: lf) }
                if base[lf + 2] == .lf { return .found(headEnd: lf + 3) }
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

    private func parseHead(_ base: UnsafePointer<UInt8>, start: Int, headEnd: Int, maxBodyBytes: Int,
                           _ headers: UnsafeMutableBufferPointer<HeaderField>) -> ParseResult {
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
        if let status = fields.verdict(version: line.version, maxBodyBytes: maxBodyBytes) {
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
