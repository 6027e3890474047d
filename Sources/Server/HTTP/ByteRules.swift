// Byte-level rules of HTTP's grammar (RFC 9110 §5.6), over raw request bytes.
import Glibc

enum Bytes {
    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    // (RFC 9110 §5.6.2) as two 64-bit masks over the ASCII range, so the check is a shift and a test.
    private static let tokenMaskLow: UInt64 = 0x03FF_6CFA_0000_0000
    private static let tokenMaskHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        if byte < 64 { return tokenMaskLow & (1 << UInt64(byte)) != 0 }
        if byte < 128 { return tokenMaskHigh & (1 << UInt64(byte - 64)) != 0 }
        return false
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

