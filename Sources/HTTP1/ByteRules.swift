// Byte-level rules of HTTP's grammar (RFC 9110 §5.6), over raw request bytes.
import Glibc

enum Bytes {
    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    // (RFC 9110 §5.6.2) as two 64-bit masks over the ASCII range, so the check is a shift and a test.
    private static let tokenMaskLow: UInt64 = 0x03FF_6CFA_0000_0000
    private static let tokenMaskHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        inMask(byte, low: tokenMaskLow, high: tokenMaskHigh)
    }

    // uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): unreserved, pct-encoded, sub-delims,
    // ":" and the brackets of an IPv6 literal. No "@": a Host field carries no userinfo.
    private static let authorityMaskLow: UInt64 = 0x2FFF_7FF2_0000_0000
    private static let authorityMaskHigh: UInt64 = 0x47FF_FFFE_AFFF_FFFE

    static func isAuthorityChar(_ byte: UInt8) -> Bool {
        inMask(byte, low: authorityMaskLow, high: authorityMaskHigh)
    }

    @inline(__always)
    private static func inMask(_ byte: UInt8, low: UInt64, high: UInt64) -> Bool {
        if byte < 64 { return low & (1 << UInt64(byte)) != 0 }
        if byte < 128 { return high & (1 << UInt64(byte - 64)) != 0 }
        return false
    }

    /// Whether every byte of `span` satisfies `rule`.
    static func all(_ base: UnsafePointer<UInt8>, _ span: Span, satisfy rule: (UInt8) -> Bool) -> Bool {
        for index in Int(span.start)..<span.end where !rule(base[index]) { return false }
        return true
    }

    /// Calls `body` with each element of a comma-separated list (RFC 9110 §5.6.1): the
    /// leading token, and whether anything (parameters, stray bytes) follows it. Empty
    /// elements are skipped, as the list syntax allows.
    static func forEachListElement(_ base: UnsafePointer<UInt8>, _ value: Span, _ body: (Span, Bool) -> Void) {
        var index = Int(value.start)
        while index < value.end {
            while index < value.end && (base[index] == .space || base[index] == .tab) { index += 1 }
            let start = index
            while index < value.end && isTokenChar(base[index]) { index += 1 }
            let token = Span(start: start, count: index - start)
            while index < value.end && (base[index] == .space || base[index] == .tab) { index += 1 }
            var hasMore = false
            while index < value.end && base[index] != UInt8(ascii: ",") {
                hasMore = true
                index += 1
            }
            if token.count > 0 || hasMore { body(token, hasMore) }
            index += 1  // past the comma
        }
    }

    /// Field-value bytes (RFC 9110 §5.5): visible ASCII, space, tab and obs-text; no other control bytes.
    @inline(__always)
    static func isFieldValueChar(_ byte: UInt8) -> Bool {
        byte >= 0x20 ? byte != 0x7F : byte == .tab
    }

    /// Whether the bytes at `span` are exactly `text`.
    static func equal(_ base: UnsafePointer<UInt8>, _ span: Span, _ text: StaticString) -> Bool {
        guard Int(span.count) == text.utf8CodeUnitCount else { return false }
        return memcmp(base + Int(span.start), text.utf8Start, text.utf8CodeUnitCount) == 0
    }

    /// Whether the bytes at `span` equal `lowercase` ignoring ASCII case. `lowercase`
    /// must hold only lowercase letters, digits and '-': setting bit 0x20 folds
    /// letters to lowercase and leaves those other bytes as they are.
    static func equalIgnoringCase(_ base: UnsafePointer<UInt8>, _ span: Span, _ lowercase: StaticString) -> Bool {
        guard Int(span.count) == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for offset in 0..<Int(span.count) where base[Int(span.start) + offset] | 0x20 != expected[offset] {
            return false
        }
        return true
    }

    /// A plain non-negative decimal (1*DIGIT, RFC 9110 §8.6), or nil for anything
    /// else: signs, spaces, commas, an empty value, or a number too large for an Int.
    static func decimal(_ base: UnsafePointer<UInt8>, _ span: Span) -> Int? {
        guard span.count > 0 else { return nil }
        var value = 0
        for index in Int(span.start)..<span.end {
            let digit = Int(base[index]) &- 48
            guard digit >= 0 && digit <= 9 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit)
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }
}

extension UInt8 {
    /// The value of a hexadecimal digit (HEXDIG, RFC 5234 §B.1, either case): a chunk size,
    /// a percent-encoded octet (RFC 3986 §2.1); nil for any other byte.
    @inlinable
    package var hexDigitValue: UInt8? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return self - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return self - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return self - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
