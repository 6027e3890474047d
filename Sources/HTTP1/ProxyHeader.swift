// ProxyHeader: the PROXY protocol header a load balancer (HAProxy's send-proxy
// and send-proxy-v2, AWS NLB) puts before the first byte of a relayed
// connection, to say whom it relays. A pure function over caller-owned bytes,
// like the request parser: no allocation, and it never looks past its bound, so
// a caller may hand it whatever has arrived so far (it answers `.incomplete`
// until the header is whole). Specification: HAProxy's proxy-protocol.txt,
// §2.1 (v1, text) and §2.2 (v2, binary).
import Glibc

/// One endpoint a PROXY header names: an IPv4 or IPv6 address and a TCP port.
public struct ProxiedEndpoint: Equatable, Sendable {
    public enum Family: Equatable, Sendable { case v4, v6 }
    public let family: Family
    /// The address in network order: the first 4 bytes for IPv4, all 16 for IPv6.
    public let address: (UInt64, UInt64)
    public let port: UInt16

    public init(family: Family, address: (UInt64, UInt64), port: UInt16) {
        self.family = family
        self.address = address
        self.port = port
    }

    public static func == (a: ProxiedEndpoint, b: ProxiedEndpoint) -> Bool {
        a.family == b.family && a.address == b.address && a.port == b.port
    }

    /// Writes the numeric address (inet_ntop's text, no port) and a NUL into `text`;
    /// returns its length. `text` needs room for 46 bytes (INET6_ADDRSTRLEN).
    public func writeText(into text: UnsafeMutableBufferPointer<CChar>) -> Int {
        var bytes = address
        let written = withUnsafeBytes(of: &bytes) { raw in
            inet_ntop(family == .v4 ? AF_INET : AF_INET6, raw.baseAddress, text.baseAddress, socklen_t(text.count))
        }
        return written == nil ? 0 : strlen(text.baseAddress!)
    }

    /// The address as text (tests and handlers; allocates).
    public var addressText: String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { text in
            let length = writeText(into: text)
            return String(decoding: UnsafeRawBufferPointer(start: text.baseAddress, count: length), as: UTF8.self)
        }
    }
}

/// A complete PROXY header.
public struct ProxyHeader: Equatable, Sendable {
    /// Bytes the header takes; what follows is the relayed connection's own (HTTP).
    public let length: Int
    /// The client the balancer relays, or nil when the header names none: a v2 LOCAL
    /// command (the balancer's own health check), an UNSPEC or AF_UNIX family, or v1's
    /// UNKNOWN. The receiver then uses the connection's real endpoints (§2.1, §2.2).
    public let source: ProxiedEndpoint?
    public let destination: ProxiedEndpoint?
}

public enum ProxyHeaderParse: Equatable, Sendable {
    /// Everything so far may still begin a valid header: wait for more bytes.
    case incomplete
    /// Not a PROXY header, or one beyond the bounds: the connection is refused.
    case invalid
    case complete(ProxyHeader)
}

public enum ProxyHeaderParser {
    /// §2.1: "a 108-byte buffer is always enough to store all the line and a trailing zero".
    public static let maximumV1Length = 107
    /// §2.2 allows 16 + 65535 bytes. The addresses need at most 216 (AF_UNIX); the rest are
    /// TLVs, of which HAProxy sends a few dozen bytes (ALPN, authority, unique id up to 128,
    /// SSL details) and AWS NLB one VPC endpoint id. 1024 bytes after the fixed part leave
    /// room for all of that with margin, and bound what a connection can make a worker
    /// peek at before it is known to come from a balancer at all.
    public static let maximumV2PayloadLength = 1024
    /// The longest header accepted, and so the most bytes a caller need offer.
    public static let maximumLength = 16 + maximumV2PayloadLength

    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// Parses the header at the start of `bytes` (which may hold more: the request that follows).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> ProxyHeaderParse {
        guard let first = bytes.first else { return .incomplete }
        switch first {
        case UInt8(ascii: "P"): return parseV1(bytes)
        case 0x0D: return parseV2(bytes)
        default: return .invalid
        }
    }

    // MARK: Version 2 (§2.2)

    private static func parseV2(_ bytes: UnsafeRawBufferPointer) -> ProxyHeaderParse {
        let signatureBytes = min(bytes.count, 12)
        for index in 0..<signatureBytes where bytes[index] != v2Signature[index] { return .invalid }
        if bytes.count >= 13 {
            // The version (high nibble) must be 2; the command LOCAL (0) or PROXY (1).
            guard bytes[12] == 0x20 || bytes[12] == 0x21 else { return .invalid }
        }
        if bytes.count >= 14 {
            // Family UNSPEC, INET, INET6 or UNIX; transport UNSPEC, STREAM or DGRAM.
            guard bytes[13] >> 4 <= 3 && bytes[13] & 0x0F <= 2 else { return .invalid }
        }
        guard bytes.count >= 16 else { return .incomplete }
        let payload = Int(bytes[14]) << 8 | Int(bytes[15])
        guard payload <= maximumV2PayloadLength else { return .invalid }
        let length = 16 + payload
        let needed = addressLength(family: bytes[13] >> 4)
        // A LOCAL header may carry any address block (the receiver ignores it), but never
        // one shorter than its family needs when that family is named.
        guard payload >= needed else { return .invalid }
        guard bytes.count >= length else { return .incomplete }
        guard tlvsFit(bytes, from: 16 + needed, to: length) else { return .invalid }
        let isProxy = bytes[12] == 0x21
        let (source, destination) = isProxy ? v2Endpoints(bytes, family: bytes[13] >> 4) : (nil, nil)
        return .complete(ProxyHeader(length: length, source: source, destination: destination))
    }

    /// The address block's size for a family nibble (§2.2: 12, 36, 216 bytes; UNSPEC none).
    private static func addressLength(family: UInt8) -> Int {
        switch family {
        case 1: return 12
        case 2: return 36
        case 3: return 216
        default: return 0
        }
    }

    /// §2.2.7: the TLVs after the addresses, each type, 16-bit length and value, must
    /// end exactly where the header does: a TLV running past it means a corrupt header.
    private static func tlvsFit(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Bool {
        var offset = start
        while offset < end {
            guard end - offset >= 3 else { return false }
            let valueLength = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            offset += 3 + valueLength
        }
        return offset == end
    }

    /// The source and destination of an INET or INET6 block; nil for UNSPEC and UNIX,
    /// which name no TCP client.
    private static func v2Endpoints(_ bytes: UnsafeRawBufferPointer, family: UInt8) -> (ProxiedEndpoint?, ProxiedEndpoint?) {
        switch family {
        case 1:
            return (ProxiedEndpoint(family: .v4, address: (word(bytes, 16, count: 4), 0), port: port(bytes, 24)),
                    ProxiedEndpoint(family: .v4, address: (word(bytes, 20, count: 4), 0), port: port(bytes, 26)))
        case 2:
            return (ProxiedEndpoint(family: .v6, address: (word(bytes, 16, count: 8), word(bytes, 24, count: 8)), port: port(bytes, 48)),
                    ProxiedEndpoint(family: .v6, address: (word(bytes, 32, count: 8), word(bytes, 40, count: 8)), port: port(bytes, 50)))
        default:
            return (nil, nil)
        }
    }

    /// `count` bytes from `offset`, kept in memory order (network order) in a UInt64.
    private static func word(_ bytes: UnsafeRawBufferPointer, _ offset: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { target in
            target.baseAddress!.copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
        }
        return value
    }

    private static func port(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    // MARK: Version 1 (§2.1)

    private static let v1Prefix: StaticString = "PROXY "

    private static func parseV1(_ bytes: UnsafeRawBufferPointer) -> ProxyHeaderParse {
        let prefix = UnsafeRawBufferPointer(start: v1Prefix.utf8Start, count: v1Prefix.utf8CodeUnitCount)
        for index in 0..<min(bytes.count, prefix.count) where bytes[index] != prefix[index] { return .invalid }
        // The line ends at the first CR, which must be followed by LF, within 107 bytes.
        let searched = min(bytes.count, maximumV1Length)
        var lineEnd = -1
        for index in prefix.count..<max(prefix.count, searched) where bytes[index] == 0x0D || bytes[index] == 0x0A {
            // A bare LF ends no v1 line (§2.1: "CRLF"): refused, not waited on.
            guard bytes[index] == 0x0D else { return .invalid }
            lineEnd = index
            break
        }
        if lineEnd < 0 { return searched >= maximumV1Length ? .invalid : .incomplete }
        guard lineEnd + 2 <= maximumV1Length else { return .invalid }
        guard lineEnd + 1 < bytes.count else { return .incomplete }
        guard bytes[lineEnd + 1] == 0x0A else { return .invalid }
        var cursor = V1Cursor(bytes: bytes, position: prefix.count, end: lineEnd)
        return cursor.fields().map { .complete(ProxyHeader(length: lineEnd + 2, source: $0.0, destination: $0.1)) } ?? .invalid
    }
}

/// Reads v1's space-separated fields: "TCP4 SRC DST SPORT DPORT", "TCP6 ...", or "UNKNOWN ...".
private struct V1Cursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    /// nil: malformed. (nil, nil) endpoints: UNKNOWN, whose rest the receiver ignores (§2.1).
    mutating func fields() -> (ProxiedEndpoint?, ProxiedEndpoint?)? {
        guard let protocolField = field() else { return nil }
        if matches(protocolField, "UNKNOWN") {
            position = end
            return (nil, nil)
        }
        let family: ProxiedEndpoint.Family
        if matches(protocolField, "TCP4") { family = .v4 } else if matches(protocolField, "TCP6") { family = .v6 } else { return nil }
        guard let sourceField = field(), let destinationField = field(), let sourcePortField = field(),
              let destinationPortField = field(), position == end,
              let source = address(sourceField, family), let destination = address(destinationField, family),
              let sourcePort = port(sourcePortField), let destinationPort = port(destinationPortField) else { return nil }
        return (ProxiedEndpoint(family: family, address: source, port: sourcePort),
                ProxiedEndpoint(family: family, address: destination, port: destinationPort))
    }

    /// The next field, up to a single space or the line's end; nil if empty.
    private mutating func field() -> Range<Int>? {
        guard position < end else { return nil }
        let start = position
        while position < end && bytes[position] != UInt8(ascii: " ") { position += 1 }
        let range = start..<position
        if position < end { position += 1 }
        // A trailing space would leave an empty last field: malformed.
        if position == end && bytes[end - 1] == UInt8(ascii: " ") { return nil }
        return range.isEmpty ? nil : range
    }

    private func matches(_ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        return memcmp(bytes.baseAddress! + range.lowerBound, text.utf8Start, range.count) == 0
    }

    /// A decimal port without sign or leading zero (§2.1), at most 65535.
    private func port(_ range: Range<Int>) -> UInt16? {
        guard range.count <= 5, range.count == 1 || bytes[range.lowerBound] != UInt8(ascii: "0") else { return nil }
        var value = 0
        for index in range {
            let digit = Int(bytes[index]) - 48
            guard (0...9).contains(digit) else { return nil }
            value = value * 10 + digit
        }
        return value <= 65535 ? UInt16(value) : nil
    }

    /// inet_pton over a NUL-terminated copy on the stack (at most 45 characters for IPv6).
    private func address(_ range: Range<Int>, _ family: ProxiedEndpoint.Family) -> (UInt64, UInt64)? {
        guard range.count <= 45 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { text -> (UInt64, UInt64)? in
            UnsafeMutableRawPointer(text.baseAddress!).copyMemory(from: bytes.baseAddress! + range.lowerBound, byteCount: range.count)
            text[range.count] = 0
            var result: (UInt64, UInt64) = (0, 0)
            let converted = withUnsafeMutableBytes(of: &result) { raw in
                inet_pton(family == .v4 ? AF_INET : AF_INET6, text.baseAddress, raw.baseAddress)
            }
            return converted == 1 ? result : nil
        }
    }
}
