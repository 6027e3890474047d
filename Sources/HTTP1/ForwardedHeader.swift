// ForwardedHeader: the hops a `X-Forwarded-For` (de facto: "client, proxy1,
// proxy2") or `Forwarded` (RFC 7239 §4: "for=client;proto=https, for=proxy1")
// value lists, left (the original client) to right (the last proxy), as nodes
// a caller can check against its trusted networks. A pure function over one
// field value's bytes, without allocation; whatever is not an address (RFC
// 7239 §6.2 "unknown", §6.3 obfuscated identifiers, a malformed element) is an
// opaque node, which a caller must not skip as if it were a trusted proxy.
import Glibc

/// One hop of a forwarded header.
public enum ForwardedNode: Equatable {
    /// An IPv4 or IPv6 address (numeric, network order), its text's place in the value
    /// (without brackets or port), and the port if the hop gave a numeric one.
    case address(ProxiedEndpoint.Family, (UInt64, UInt64), text: Range<Int>, port: Int?)
    /// "unknown", an obfuscated identifier, a missing `for`, or a malformed element.
    case opaque

    public static func == (a: ForwardedNode, b: ForwardedNode) -> Bool {
        switch (a, b) {
        case let (.address(f1, a1, t1, p1), .address(f2, a2, t2, p2)): return f1 == f2 && a1 == a2 && t1 == t2 && p1 == p2
        case (.opaque, .opaque): return true
        default: return false
        }
    }
}

public enum ForwardedHeader {
    public enum Syntax: Sendable { case xForwardedFor, forwarded }

    /// Calls `body` with each hop of `value`, left to right.
    public static func forEachNode(in value: UnsafeRawBufferPointer, syntax: Syntax, _ body: (ForwardedNode) -> Void) {
        var start = 0
        var quoted = false
        var index = 0
        while index <= value.count {
            let byte: UInt8 = index < value.count ? value[index] : UInt8(ascii: ",")
            if quoted && byte == UInt8(ascii: "\\") {
                index = min(index + 2, value.count)  // RFC 9110 §5.6.4 quoted-pair: the next byte is literal
                continue
            }
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if byte == UInt8(ascii: ",") && (!quoted || index == value.count) {
                let element = trimmed(value, start..<min(index, value.count))
                // Empty list elements are allowed and skipped (RFC 9110 §5.6.1).
                if !element.isEmpty {
                    body(syntax == .forwarded ? forwardedElement(value, element) : node(value, element, quotedAllowed: false))
                }
                start = index + 1
            }
            index += 1
        }
    }

    /// RFC 7239 §4: `pair *( ";" pair )`; the hop is the `for` pair's node (a missing one is opaque).
    private static func forwardedElement(_ value: UnsafeRawBufferPointer, _ element: Range<Int>) -> ForwardedNode {
        var found: ForwardedNode = .opaque
        var pairStart = element.lowerBound
        var quoted = false
        for index in element.lowerBound...element.upperBound {
            let byte: UInt8 = index < element.upperBound ? value[index] : UInt8(ascii: ";")
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            guard byte == UInt8(ascii: ";") && (!quoted || index == element.upperBound) else { continue }
            let pair = trimmed(value, pairStart..<index)
            pairStart = index + 1
            guard let equals = (pair.lowerBound..<pair.upperBound).first(where: { value[$0] == UInt8(ascii: "=") }) else {
                if !pair.isEmpty { return .opaque }
                continue
            }
            if isFor(value, pair.lowerBound..<equals) { found = node(value, equals + 1..<pair.upperBound, quotedAllowed: true) }
        }
        return found
    }

    private static func isFor(_ value: UnsafeRawBufferPointer, _ name: Range<Int>) -> Bool {
        name.count == 3 && value[name.lowerBound] | 0x20 == UInt8(ascii: "f")
            && value[name.lowerBound + 1] | 0x20 == UInt8(ascii: "o") && value[name.lowerBound + 2] | 0x20 == UInt8(ascii: "r")
    }

    /// A node: `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]`, `[2001:db8::1]:80`, or (X-Forwarded-For
    /// only) a bare `2001:db8::1`; in Forwarded, possibly a quoted-string (RFC 7239 §6).
    private static func node(_ value: UnsafeRawBufferPointer, _ range: Range<Int>, quotedAllowed: Bool) -> ForwardedNode {
        var range = range
        if quotedAllowed, range.count >= 2, value[range.lowerBound] == UInt8(ascii: "\""),
           value[range.upperBound - 1] == UInt8(ascii: "\"") {
            range = range.lowerBound + 1..<range.upperBound - 1
            // A quoted-pair in an address would be strange and is not worth unescaping.
            if range.contains(where: { value[$0] == UInt8(ascii: "\\") }) { return .opaque }
        }
        guard !range.isEmpty else { return .opaque }
        if value[range.lowerBound] == UInt8(ascii: "[") {
            guard let close = range.first(where: { value[$0] == UInt8(ascii: "]") }) else { return .opaque }
            let port = close + 1 == range.upperBound ? nil : portAfterColon(value, close + 1..<range.upperBound)
            if close + 1 != range.upperBound && port == nil { return .opaque }
            return address(value, range.lowerBound + 1..<close, .v6, port: port)
        }
        var colons = 0
        var firstColon = range.upperBound
        for index in range where value[index] == UInt8(ascii: ":") {
            if colons == 0 { firstColon = index }
            colons += 1
        }
        if colons == 1 {
            guard let port = portAfterColon(value, firstColon..<range.upperBound) else { return .opaque }
            return address(value, range.lowerBound..<firstColon, .v4, port: port)
        }
        // Forwarded requires brackets around IPv6 (RFC 7239 §6); X-Forwarded-For commonly omits them.
        if colons > 1 && quotedAllowed { return .opaque }
        return address(value, range, colons == 0 ? .v4 : .v6, port: nil)
    }

    /// ":1234" -> 1234 (1 to 5 digits, at most 65535); nil otherwise (an obfuscated port too).
    private static func portAfterColon(_ value: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        guard range.count >= 2, range.count <= 6, value[range.lowerBound] == UInt8(ascii: ":") else { return nil }
        var port = 0
        for index in range.lowerBound + 1..<range.upperBound {
            let digit = Int(value[index]) - 48
            guard (0...9).contains(digit) else { return nil }
            port = port * 10 + digit
        }
        return port <= 65535 ? port : nil
    }

    /// inet_pton over a NUL-terminated copy on the stack; "unknown" and "_obfuscated" are not addresses.
    private static func address(_ value: UnsafeRawBufferPointer, _ text: Range<Int>, _ family: ProxiedEndpoint.Family,
                                port: Int?) -> ForwardedNode {
        guard !text.isEmpty, text.count <= 45 else { return .opaque }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { buffer -> ForwardedNode in
            UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: value.baseAddress! + text.lowerBound, byteCount: text.count)
            buffer[text.count] = 0
            var bytes: (UInt64, UInt64) = (0, 0)
            let converted = withUnsafeMutableBytes(of: &bytes) { inet_pton(family == .v4 ? AF_INET : AF_INET6, buffer.baseAddress, $0.baseAddress) }
            return converted == 1 ? .address(family, bytes, text: text, port: port) : .opaque
        }
    }

    /// Without optional whitespace (RFC 9110 §5.6.3) at either end.
    private static func trimmed(_ value: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var (low, high) = (range.lowerBound, range.upperBound)
        while low < high && (value[low] == 0x20 || value[low] == 0x09) { low += 1 }
        while high > low && (value[high - 1] == 0x20 || value[high - 1] == 0x09) { high -= 1 }
        return low..<high
    }
}
