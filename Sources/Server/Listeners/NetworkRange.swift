// NetworkRange: one `--trusted-proxy CIDR` (RFC 4632 §3.1 notation; IPv6 as in
// RFC 4291 §2.3), and the membership test run on a peer's address. IPv4 peers
// reaching an IPv6 socket appear as IPv4-mapped addresses (::ffff:a.b.c.d,
// RFC 4291 §2.5.5.2) and are compared as the IPv4 addresses they are.
import Glibc
import HTTP1

/// A network of addresses: a prefix of an IPv4 or IPv6 address.
public struct NetworkRange: Equatable, Sendable, CustomStringConvertible {
    public let family: ProxiedEndpoint.Family
    /// The network's address in network order (first 4 bytes for IPv4).
    let address: (UInt64, UInt64)
    public let prefixLength: Int
    public let description: String

    public static func == (a: NetworkRange, b: NetworkRange) -> Bool { a.description == b.description }

    /// Parses "10.0.0.0/8", "2001:db8::/32" or a single address (a full-length prefix).
    public static func parse(_ text: String) throws(ConfigurationError) -> NetworkRange {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        var family = ProxiedEndpoint.Family.v4
        guard parts.count <= 2, let address = numeric(String(parts[0]), family: &family) else {
            throw ConfigurationError("--trusted-proxy '\(text)': expected an IPv4 or IPv6 address or CIDR (10.0.0.0/8, 2001:db8::/32)")
        }
        let maximum = family == .v4 ? 32 : 128
        let length = parts.count == 2 ? Int(parts[1]) : maximum
        guard let length, (0...maximum).contains(length) else {
            throw ConfigurationError("--trusted-proxy '\(text)': the prefix length must be between 0 and \(maximum)")
        }
        return NetworkRange(family: family, address: address, prefixLength: length, description: text)
    }

    /// Whether `endpoint`'s address lies in this network.
    func contains(_ family: ProxiedEndpoint.Family, _ other: (UInt64, UInt64)) -> Bool {
        var (family, other) = (family, other)
        if family == .v6, let mapped = Self.unmappedV4(other) { (family, other) = (.v4, mapped) }
        guard family == self.family else { return false }
        return Self.prefix(of: other, length: prefixLength) == Self.prefix(of: address, length: prefixLength)
    }

    /// The first `length` bits of an address in network order, the rest zeroed.
    private static func prefix(of address: (UInt64, UInt64), length: Int) -> (UInt64, UInt64) {
        // The bytes are in memory order: converting to big-endian numbers makes "the first bits" the high ones.
        let high = UInt64(bigEndian: address.0), low = UInt64(bigEndian: address.1)
        let highMask: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : ~(UInt64.max >> UInt64(length)))
        let lowMask: UInt64 = length <= 64 ? 0 : (length >= 128 ? .max : ~(UInt64.max >> UInt64(length - 64)))
        return (high & highMask, low & lowMask)
    }

    /// ::ffff:a.b.c.d as the IPv4 address a.b.c.d (in the first 4 bytes), or nil.
    static func unmappedV4(_ address: (UInt64, UInt64)) -> (UInt64, UInt64)? {
        guard address.0 == 0, UInt64(bigEndian: address.1) >> 32 == 0xFFFF else { return nil }
        return (UInt64(UInt32(truncatingIfNeeded: UInt64(bigEndian: address.1)).bigEndian), 0)
    }

    static func numeric(_ text: String, family: inout ProxiedEndpoint.Family) -> (UInt64, UInt64)? {
        var bytes: (UInt64, UInt64) = (0, 0)
        if withUnsafeMutableBytes(of: &bytes, { inet_pton(AF_INET, text, $0.baseAddress) }) == 1 {
            family = .v4
            return bytes
        }
        if withUnsafeMutableBytes(of: &bytes, { inet_pton(AF_INET6, text, $0.baseAddress) }) == 1 {
            family = .v6
            return bytes
        }
        return nil
    }

    /// Two numeric addresses that are the same address, however written ("::1", "0::1").
    static func sameAddress(_ a: String, _ b: String) -> Bool {
        var familyA = ProxiedEndpoint.Family.v4, familyB = ProxiedEndpoint.Family.v4
        guard let x = numeric(a, family: &familyA), let y = numeric(b, family: &familyB) else { return a == b }
        return familyA == familyB && x == y
    }
}

/// The `--trusted-proxy` networks: peers whose PROXY headers and forwarded headers are believed.
public struct TrustedProxies: Sendable {
    public var ranges: [NetworkRange] = []
    public init(_ ranges: [NetworkRange] = []) { self.ranges = ranges }

    public var isEmpty: Bool { ranges.isEmpty }

    func contains(_ family: ProxiedEndpoint.Family, _ address: (UInt64, UInt64)) -> Bool {
        for range in ranges where range.contains(family, address) { return true }
        return false
    }
}
