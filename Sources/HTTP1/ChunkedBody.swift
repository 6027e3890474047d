// ChunkedBody: the chunked transfer coding of request bodies (RFC 9112 §7.1).
// `scan` checks the framing as bytes arrive, remembering the last whole chunk
// so nothing is checked twice; `decode` then moves the chunk data together in
// place, so the handler sees one contiguous body without a copy elsewhere.
//
// Strict choices, because framing read differently by a proxy in front is how
// requests are smuggled: chunk lines end in CRLF only (no bare LF), sizes are
// hex digits only with no sign or whitespace, extensions must match their
// grammar (ChunkExtensions), and chunk data must be followed by exactly CRLF.

/// How far a chunked body has been checked: the start of the next chunk line
/// and the body bytes before it.
@usableFromInline
package struct ChunkProgress {
    package var offset = 0
    package var bodyLength = 0

    @inlinable
    package init() {}

    init(offset: Int, bodyLength: Int) {
        self.offset = offset
        self.bodyLength = bodyLength
    }
}

package enum ChunkedBody {
    enum Scan {
        case incomplete
        case invalid(HTTPStatus)
        /// `end` is one past the body's final CRLF; `bodyLength` the decoded size.
        case complete(end: Int, bodyLength: Int)
    }

    /// Longest chunk-size line accepted, extensions included.
    package static let maxChunkLineBytes = 4096

    /// Bytes of framing (sizes, extensions, CRLFs, trailers) a body may carry besides its
    /// data: as much as the data limit allows, and at least 64 KiB. Without a bound, tiny
    /// chunks with long extensions would hold megabytes per decoded byte.
    package static func maxFramingBytes(_ limits: RequestLimits) -> Int { max(limits.maxBodyBytes, 64 * 1024) }

    static func scan(_ base: UnsafePointer<UInt8>, count: Int, from bodyStart: Int, limits: RequestLimits,
                     progress: inout ChunkProgress) -> Scan {
        var offset = max(progress.offset, bodyStart)
        while true {
            let line: ChunkLine
            switch chunkLine(base, count: count, at: offset) {
            case .incomplete: return .incomplete
            case .invalid(let status): return .invalid(status)
            case .line(let parsed): line = parsed
            }
            if line.size == 0 {
                return trailers(base, count: count, at: line.dataStart, limit: limits.maxHeaderBytes,
                                bodyLength: progress.bodyLength)
            }
            guard line.size <= limits.maxBodyBytes - progress.bodyLength else { return .invalid(.contentTooLarge) }
            guard line.dataStart - bodyStart - progress.bodyLength <= maxFramingBytes(limits) else {
                return .invalid(.contentTooLarge)
            }
            // No overflow: the size is below 2^60 (15 significant digits) and dataStart is an offset into bytes in memory.
            let dataEnd = line.dataStart + line.size
            guard dataEnd + 2 <= count else { return .incomplete }
            guard base[dataEnd] == .cr && base[dataEnd + 1] == .lf else { return .invalid(.badRequest) }
            offset = dataEnd + 2
            progress = ChunkProgress(offset: offset, bodyLength: progress.bodyLength + line.size)
        }
    }

    /// Moves the data of every chunk of a body that `scan` found complete to the
    /// front of the body, dropping the framing. Returns the decoded length.
    package static func decode(_ bytes: UnsafeMutableRawBufferPointer, from bodyStart: Int) -> Int {
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var read = bodyStart
        var written = bodyStart
        while case .line(let line) = chunkLine(UnsafePointer(base), count: bytes.count, at: read), line.size > 0 {
            (base + written).update(from: base + line.dataStart, count: line.size)
            written += line.size
            read = line.dataStart + line.size + 2
        }
        return written - bodyStart
    }

    // MARK: Lines

    struct ChunkLine {
        let size: Int
        /// One past the line's CRLF: where the chunk data starts.
        let dataStart: Int
    }

    enum LineScan {
        case incomplete
        case invalid(HTTPStatus)
        case line(ChunkLine)
    }

    /// chunk-size [ chunk-ext ] CRLF
    static func chunkLine(_ base: UnsafePointer<UInt8>, count: Int, at start: Int) -> LineScan {
        var index = start
        var size = 0
        var significantDigits = 0
        while index < count, let digit = base[index].hexDigitValue.map(Int.init) {
            // chunk-size = 1*HEXDIG allows leading zeros (RFC 9112 §7.1), so only the digits after
            // them count: 15 already exceed the largest body limit (2^60), and 16 could overflow.
            if size != 0 || digit != 0 { significantDigits += 1 }
            guard significantDigits <= 15 else { return .invalid(.contentTooLarge) }
            size = size << 4 | digit
            index += 1
        }
        guard index > start || index == count else { return .invalid(.badRequest) }
        // After the size only BWS then ";" may follow, so "0x5" or "1 0" can never pass for a size
        // plus an extension; the extensions themselves must match their grammar.
        switch extensions(base, count: count, at: index) {
        case .incomplete: return lineIncomplete(start, count)
        case .invalid: return .invalid(.badRequest)
        case .end(let lineEnd): index = lineEnd
        }
        guard index + 1 < count else { return lineIncomplete(start, count) }
        guard base[index + 1] == .lf else { return .invalid(.badRequest) }
        let extensions = index - start
        if extensions > maxChunkLineBytes { return .invalid(.badRequest) }
        return .line(ChunkLine(size: size, dataStart: index + 2))
    }

    private static func lineIncomplete(_ start: Int, _ count: Int) -> LineScan {
        count - start > maxChunkLineBytes ? .invalid(.badRequest) : .incomplete
    }

    /// trailer-section CRLF: field lines that are checked like headers and then dropped.
    static func trailers(_ base: UnsafePointer<UInt8>, count: Int, at start: Int, limit: Int,
                                 bodyLength: Int) -> Scan {
        var index = start
        while true {
            guard index < count else { return .incomplete }
            if base[index] == .cr {
                guard index + 1 < count else { return .incomplete }
                guard base[index + 1] == .lf else { return .invalid(.badRequest) }
                return .complete(end: index + 2, bodyLength: bodyLength)
            }
            guard let lineEnd = trailerLineEnd(base, count: count, at: index) else {
                return count - start > limit ? .invalid(.requestHeaderFieldsTooLarge) : .incomplete
            }
            guard lineEnd > 0 else { return .invalid(.badRequest) }
            index = lineEnd
            if index - start > limit { return .invalid(.requestHeaderFieldsTooLarge) }
        }
    }

    /// The end (past CRLF) of a valid trailer field line, nil if it has not fully
    /// arrived, or 0 if it is malformed.
    private static func trailerLineEnd(_ base: UnsafePointer<UInt8>, count: Int, at start: Int) -> Int? {
        var index = start
        while index < count && Bytes.isTokenChar(base[index]) { index += 1 }
        guard index < count else { return nil }
        guard index > start, base[index] == .colon else { return 0 }
        index += 1
        while index < count && base[index] != .cr {
            guard Bytes.isFieldValueChar(base[index]) else { return 0 }
            index += 1
        }
        guard index + 1 < count else { return nil }
        return base[index + 1] == .lf ? index + 2 : 0
    }

}
