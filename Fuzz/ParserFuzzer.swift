// ParserFuzzer: the libFuzzer entry point for the request parser (built by
// scripts/fuzz together with the pure HTTP sources, not by SwiftPM). Every
// input is parsed twice, under the server's default limits and under tiny ones
// (so the 413/414/431 paths are reached by short inputs): once in one piece and
// once split in two as if it arrived in two reads, carrying the same
// ParseProgress as the connection does. Any broken invariant traps, which
// libFuzzer reports as a crash with the input that caused it.

/// Parsers live as long as the process: one allocation each, as in a worker.
/// libFuzzer calls the entry point from one thread only.
nonisolated(unsafe) private let fuzzParsers = [
    RequestParser(limits: RequestLimits()),
    RequestParser(limits: RequestLimits(maxRequestLineBytes: 48, maxHeaderBytes: 160, maxHeaderCount: 6,
                                        maxBodyBytes: 300)),
]

/// The callers' header storage (see HeaderStorage), shared by both parsers as a worker's is by
/// its connections: room for the larger limit's fields. A request split across the two reads
/// parks its fields in its ParseProgress and finds them back here when its body completes.
nonisolated(unsafe) private let fuzzFields = HeaderStorage(limits: RequestLimits())

/// Statuses the parser may refuse a request with (RFC 9110 §15).
private let refusalCodes: Set<Int> = [400, 413, 414, 417, 431, 501, 505]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let split = fuzzSplitPoint(bytes)
    for parser in fuzzParsers {
        var progress = ParseProgress()
        let whole = parser.parse(bytes, progress: &progress, fields: fuzzFields.buffer)
        fuzzCheck(whole, parser: parser, bytes: bytes)
        let (pieces, refusedEarly) = fuzzParseInTwoReads(parser, bytes, split: split)
        fuzzCheckSameOutcome(whole, pieces, refusedEarly: refusedEarly, split: split)
        // The server refuses the rest of the connection after an error, so only a
        // request accepted in one piece can lead to a second request behind it.
        if case .complete(let head) = whole, head.totalLength < size {
            var next = ParseProgress()
            let rest = UnsafeRawBufferPointer(rebasing: bytes[head.totalLength...])
            fuzzCheck(parser.parse(rest, progress: &next, fields: fuzzFields.buffer), parser: parser, bytes: rest)
        }
    }
    return 0
}

/// A split point that depends on every byte (FNV-1a), so mutations move it around.
private func fuzzSplitPoint(_ bytes: UnsafeRawBufferPointer) -> Int {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return Int(hash % UInt64(bytes.count + 1))
}

/// What the server makes of the bytes when the first `split` of them arrive in
/// one read and the rest in the next: the first read's verdict if it reached
/// one, else the verdict on everything with the progress carried over; and
/// whether the first read alone was already refused.
private func fuzzParseInTwoReads(_ parser: RequestParser, _ bytes: UnsafeRawBufferPointer,
                                 split: Int) -> (ParseResult, refusedEarly: Bool) {
    var progress = ParseProgress()
    let first = parser.parse(UnsafeRawBufferPointer(rebasing: bytes[..<split]), progress: &progress, fields: fuzzFields.buffer)
    switch first {
    case .incomplete: return (parser.parse(bytes, progress: &progress, fields: fuzzFields.buffer), false)
    case .invalid: return (first, true)
    case .complete: return (first, false)
    }
}

private func fuzzCheck(_ result: ParseResult, parser: RequestParser, bytes: UnsafeRawBufferPointer) {
    switch result {
    case .incomplete:
        break
    case .invalid(let status):
        fuzzRequire(refusalCodes.contains(status.code), "refused with unexpected status \(status)")
    case .complete(let head):
        fuzzCheckHead(head, parser: parser, bytes: bytes)
        if head.isChunked { fuzzCheckDecode(head, bytes: bytes) }
        // The handler's view: building it checks totalLength again, reading it touches every span.
        let request = Request(bytes: bytes, head: head, fields: UnsafeBufferPointer(fuzzFields.buffer))
        var touched = request.method.count + request.target.count + request.path.count + request.body.count
            + (request.query?.count ?? 0) + (request.host?.count ?? 0)
        for index in 0..<request.headerCount {
            let field = request.header(at: index)
            touched += field.name.count + field.value.count
        }
        fuzzRequire(touched >= 0)
    }
}

private func fuzzCheckHead(_ head: RequestHead, parser: RequestParser, bytes: UnsafeRawBufferPointer) {
    let limits = parser.limits
    fuzzRequire(head.totalLength <= bytes.count, "totalLength \(head.totalLength) past the \(bytes.count) bytes")
    fuzzRequire(head.headLength > 0 && head.headLength <= head.totalLength, "headLength \(head.headLength)")
    fuzzRequire(head.bodyLength >= 0 && head.bodyLength <= head.totalLength - head.headLength, "body past the message")
    fuzzRequire(head.bodyLength <= limits.maxBodyBytes, "body of \(head.bodyLength) over the limit")
    fuzzRequire(head.headLength <= limits.maxHeaderBytes, "head of \(head.headLength) over the limit")
    if !head.isChunked {
        fuzzRequire(head.totalLength == head.headLength + head.bodyLength, "Content-Length framing")
    }
    fuzzRequire(head.headerCount >= 0 && head.headerCount <= limits.maxHeaderCount, "header count")
    fuzzCheckSpan(head.method, inside: head.headLength, nonEmpty: true)
    fuzzCheckSpan(head.target, inside: head.headLength, nonEmpty: true)
    fuzzRequire(head.origin.start >= head.target.start && head.origin.end <= head.target.end, "path outside the target")
    for field in fuzzFields.buffer[0..<head.headerCount] {
        fuzzCheckSpan(field.name, inside: head.headLength, nonEmpty: true)
        fuzzCheckSpan(field.value, inside: head.headLength, nonEmpty: false)
    }
}

private func fuzzCheckSpan(_ span: Span, inside end: Int, nonEmpty: Bool) {
    fuzzRequire(span.start >= 0 && span.count >= (nonEmpty ? 1 : 0) && span.end <= end,
                 "span \(span.start)+\(span.count) outside the head's \(end) bytes")
}

/// Decoding in place (on a copy, as the connection does on its own buffer) yields
/// the length the scan counted, and stays inside the message.
private func fuzzCheckDecode(_ head: RequestHead, bytes: UnsafeRawBufferPointer) {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: head.totalLength, alignment: 1)
    defer { copy.deallocate() }
    copy.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<head.totalLength]))
    let decoded = ChunkedBody.decode(copy, from: head.headLength)
    fuzzRequire(decoded == head.bodyLength, "decoded \(decoded) bytes, scan counted \(head.bodyLength)")
}

/// One read or two, the request is accepted or refused alike. The one allowed
/// difference: an unfinished head or chunk line that has already outgrown a limit
/// is refused at once (414, 431, or 400 for a chunk line), and the status can differ
/// from what the complete bytes would have earned (414 for a request line that,
/// complete, also makes the header block too large and gets 431; or 414 for one
/// whose method would have got 400). Both are refusals that close the connection.
private func fuzzCheckSameOutcome(_ whole: ParseResult, _ pieces: ParseResult, refusedEarly: Bool, split: Int) {
    switch (whole, pieces) {
    case (.incomplete, .incomplete):
        break
    case (.invalid(let one), .invalid(let two)):
        fuzzRequire(one == two || refusedEarly, "split at \(split): \(two) in two reads, \(one) in one")
    case (.complete(let one), .complete(let two)):
        fuzzRequire(one.totalLength == two.totalLength && one.headLength == two.headLength
                     && one.bodyLength == two.bodyLength && one.headerCount == two.headerCount
                     && one.keepAlive == two.keepAlive && one.isChunked == two.isChunked,
                     "split at \(split): \(two) in two reads, \(one) in one")
    default:
        fuzzRequire(false, "split at \(split): \(pieces) in two reads, \(whole) in one")
    }
}

/// Like `precondition`, but its message survives `-O`, so a crash report says which invariant broke.
private func fuzzRequire(_ condition: Bool, _ message: @autoclosure () -> String = "invariant") {
    if !condition { fatalError(message()) }
}
