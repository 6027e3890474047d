// ChunkExtensions: the grammar of chunk extensions (RFC 9112 §7.1.1), checked
// and then ignored, as no extension is understood here:
//
//   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-name = token
//   chunk-ext-val  = token / quoted-string
//
// Checked rather than skipped to the CR, because a quoted string is where
// readers disagree: one that stops at the first CR and one that reads an
// unclosed quote across lines find different ends for the same chunk line.

extension ChunkedBody {
    enum ExtensionScan {
        case incomplete
        case invalid
        /// Where the checked bytes end: for the whole extension list, at the CR that ends the line.
        case end(Int)
    }

    /// Checks the extensions that follow a chunk size ending before `start`, up to the CR that ends the line.
    static func extensions(_ base: UnsafePointer<UInt8>, count: Int, at start: Int) -> ExtensionScan {
        var index = start
        while true {
            let afterSpace = skipWhitespace(base, count, from: index)
            guard afterSpace < count else { return .incomplete }
            // BWS comes only before ";" or "=": "5 \r\n" or "5;a \r\n" is no chunk line.
            if base[afterSpace] == .cr { return afterSpace == index ? .end(index) : .invalid }
            guard base[afterSpace] == UInt8(ascii: ";") else { return .invalid }
            index = skipWhitespace(base, count, from: afterSpace + 1)
            let afterName = skipToken(base, count, from: index)
            guard afterName < count else { return .incomplete }
            guard afterName > index else { return .invalid }
            index = skipWhitespace(base, count, from: afterName)
            guard index < count else { return .incomplete }
            if base[index] == UInt8(ascii: "=") {
                switch value(base, count, at: skipWhitespace(base, count, from: index + 1)) {
                case .end(let end): index = end
                case .incomplete: return .incomplete
                case .invalid: return .invalid
                }
            } else {
                index = afterName  // whitespace not before "=" must be before ";", which the loop checks
            }
        }
    }

    /// chunk-ext-val = token / quoted-string; `.end` is just past the value.
    private static func value(_ base: UnsafePointer<UInt8>, _ count: Int, at start: Int) -> ExtensionScan {
        guard start < count else { return .incomplete }
        if base[start] == UInt8(ascii: "\"") { return quotedString(base, count, at: start) }
        let end = skipToken(base, count, from: start)
        guard end < count else { return .incomplete }
        return end > start ? .end(end) : .invalid
    }

    /// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4). qdtext and the
    /// escaped byte of a quoted-pair are both HTAB, SP, visible ASCII or obs-text, which is what a
    /// field value may hold; so a CR, LF or other control byte inside the quotes makes it invalid.
    private static func quotedString(_ base: UnsafePointer<UInt8>, _ count: Int, at start: Int) -> ExtensionScan {
        var index = start + 1
        while index < count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") { return .end(index + 1) }
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < count else { return .incomplete }
                guard Bytes.isFieldValueChar(base[index + 1]) else { return .invalid }
                index += 2
            } else {
                guard Bytes.isFieldValueChar(byte) else { return .invalid }
                index += 1
            }
        }
        return .incomplete
    }

    private static func skipWhitespace(_ base: UnsafePointer<UInt8>, _ count: Int, from start: Int) -> Int {
        var index = start
        while index < count && (base[index] == .space || base[index] == .tab) { index += 1 }
        return index
    }

    private static func skipToken(_ base: UnsafePointer<UInt8>, _ count: Int, from start: Int) -> Int {
        var index = start
        while index < count && Bytes.isTokenChar(base[index]) { index += 1 }
        return index
    }
}
