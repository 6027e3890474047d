// HeadCursor: walks a complete header block line by line (RFC 9112 §3 and §5).
// The caller guarantees the block ends with an empty line, so every scan below
// stops at a line feed before running off the end.

/// The three parts of a request line (RFC 9112 §3).
struct RequestLine {
    var method: Span
    var target: Span
    var version: HTTPVersion
}

/// The outcome of one step of parsing: a value, or the status to refuse the request with.
enum Step<Value> {
    case parsed(Value)
    case rejected(HTTPStatus)
}

struct HeadCursor {
    let base: UnsafePointer<UInt8>
    var index: Int
    /// One past the empty line that ends the block.
    let end: Int

    /// At the empty line (CRLF or LF) that ends the header block.
    var atEmptyLine: Bool {
        base[index] == .lf || (base[index] == .cr && base[index + 1] == .lf)
    }

    /// request-line = method SP request-target SP HTTP-version CRLF
    mutating func requestLine(maxLength: Int) -> Step<RequestLine> {
        let lineStart = index
        let method = scan(while: Bytes.isTokenChar)
        guard method.count > 0, base[index] == .space else { return .rejected(.badRequest) }
        index += 1
        // The target may hold no whitespace or control bytes (RFC 9112 §3.2).
        let targetStart = index
        skipWords(whereNoByteIsBelow: 0x21)
        _ = scan { $0 > 0x20 && $0 != 0x7F }
        let target = Span(start: targetStart, count: index - targetStart)
        guard target.count > 0, base[index] == .space else { return .rejected(.badRequest) }
        index += 1
        let version: HTTPVersion
        switch self.version() {
        case .parsed(let parsed): version = parsed
        case .rejected(let status): return .rejected(status)
        }
        guard lineEnd() else { return .rejected(.badRequest) }
        if index - lineStart > maxLength { return .rejected(.uriTooLong) }
        return .parsed(RequestLine(method: method, target: target, version: version))
    }

    /// HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3). A well-formed
    /// version other than 1.0 and 1.1 gets 505; anything else is malformed.
    private mutating func version() -> Step<HTTPVersion> {
        guard end - index >= 9,
              base[index] == UInt8(ascii: "H"), base[index + 1] == UInt8(ascii: "T"),
              base[index + 2] == UInt8(ascii: "T"), base[index + 3] == UInt8(ascii: "P"),
              base[index + 4] == UInt8(ascii: "/"), base[index + 6] == UInt8(ascii: "."),
              isDigit(base[index + 5]), isDigit(base[index + 7])
        else { return .rejected(.badRequest) }
        let major = base[index + 5], minor = base[index + 7]
        index += 8
        guard major == UInt8(ascii: "1") else { return .rejected(.httpVersionNotSupported) }
        switch minor {
        case UInt8(ascii: "0"): return .parsed(.http1_0)
        case UInt8(ascii: "1"): return .parsed(.http1_1)
        default: return .rejected(.httpVersionNotSupported)
        }
    }

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). Returns nil
    /// for a malformed line, including whitespace before the colon (§5.1) and
    /// obsolete line folding (§5.2), both of which a server must reject or it
    /// reads the header differently from a proxy in front of it.
    mutating func headerField() -> HeaderField? {
        let nameStart = index
        skipNameWords()
        _ = scan(while: Bytes.isTokenChar)
        let name = Span(start: nameStart, count: index - nameStart)
        guard name.count > 0, base[index] == .colon else { return nil }
        index += 1
        _ = scan { $0 == .space || $0 == .tab }
        let valueStart = index
        skipWords(whereNoByteIsBelow: 0x20)
        while base[index] != .lf && base[index] != .cr {
            guard Bytes.isFieldValueChar(base[index]) else { return nil }
            index += 1
        }
        var valueEnd = index
        while valueEnd > valueStart && (base[valueEnd - 1] == .space || base[valueEnd - 1] == .tab) { valueEnd -= 1 }
        guard lineEnd() else { return nil }
        return HeaderField(name: name, value: Span(start: valueStart, count: valueEnd - valueStart))
    }

    /// Skips whole 8-byte words of letters, digits and "-", which field names are made of,
    /// leaving the byte-by-byte token scan only the word that holds the colon (or any other
    /// tchar, which it checks exactly): so only token bytes are ever skipped. Per byte, all
    /// below 0x80 so that no sum carries into its neighbour, the high bit of
    /// `byte + (0x80 - bound)` is set exactly when the byte is at least `bound`.
    @inline(__always)
    private mutating func skipNameWords() {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let lowBits: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        while end - index >= 8 {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            if word & highBits != 0 { return }
            // Setting 0x20 folds A-Z onto a-z (and nothing else onto them).
            let folded = word | (ones &* 0x20)
            let letters = (folded &+ ones &* (0x80 - 0x61)) & ~(folded &+ ones &* (0x80 - 0x7B))
            let digits = (word &+ ones &* (0x80 - 0x30)) & ~(word &+ ones &* (0x80 - 0x3A))
            // A byte of `word ^ "--------"` is zero exactly where `word` has "-".
            let others = word ^ (ones &* 0x2D)
            let dashes = ~(((others & lowBits) &+ lowBits) | others)
            if (letters | digits | dashes) & highBits != highBits { return }
            index += 8
        }
    }

    /// Skips whole 8-byte words in which every byte is at least `limit` and none is
    /// DEL, leaving the byte-by-byte loop only the word that holds the line's end.
    /// Header values are most of a request's bytes, so this is where parsing spends
    /// its time (picohttpparser uses SSE4.2 for the same scan).
    @inline(__always)
    private mutating func skipWords(whereNoByteIsBelow limit: UInt8) {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let below = ones &* UInt64(limit)
        let delete = ones &* 0x7F
        while end - index >= 8 {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            // A byte below `limit` borrows in `word - below`; a DEL byte becomes zero after XOR.
            // Bytes of 0x80 and above never trigger (their high bit is cleared by `~word`).
            let hasLow = (word &- below) & ~word & highBits
            let deleted = word ^ delete
            let hasDelete = (deleted &- ones) & ~deleted & highBits
            if hasLow | hasDelete != 0 { return }
            index += 8
        }
    }

    /// Consumes CRLF or a bare LF; a CR not followed by LF is malformed (RFC 9112 §2.2).
    @inline(__always)
    private mutating func lineEnd() -> Bool {
        if base[index] == .lf {
            index += 1
            return true
        }
        if base[index] == .cr && base[index + 1] == .lf {
            index += 2
            return true
        }
        return false
    }

    private mutating func scan(while accepts: (UInt8) -> Bool) -> Span {
        let start = index
        while accepts(base[index]) { index += 1 }
        return Span(start: start, count: index - start)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
}
