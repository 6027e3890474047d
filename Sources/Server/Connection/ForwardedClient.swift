// ForwardedClient: which client a trusted proxy's X-Forwarded-For or Forwarded
// header names: the rightmost hop that is not itself a trusted proxy (nginx's
// `real_ip_recursive on`), since every hop to its right was appended by a
// proxy we trust and everything to its left was written by a client who may
// lie. An opaque hop there ("unknown", obfuscated, malformed) names nobody, and
// the connection's own client stands. All hops trusted: the leftmost.
import HTTP1

enum ForwardedClient {
    /// Writes the client into `entry` and returns true, or returns false when the header names none.
    static func rightmostUntrusted(in request: Request, header: RealIPHeader, trusted: TrustedProxies,
                                   into entry: UnsafeMutableRawPointer) -> Bool {
        var last: ForwardedNode?
        var lastValue: UnsafeRawBufferPointer?
        var leftmost: (ForwardedNode, UnsafeRawBufferPointer)?
        let syntax: ForwardedHeader.Syntax = header == .forwarded ? .forwarded : .xForwardedFor
        for index in 0..<request.headerCount {
            let (name, value) = request.header(at: index)
            guard matches(name, header) else { continue }
            ForwardedHeader.forEachNode(in: value.bytes, syntax: syntax) { node in
                if leftmost == nil { leftmost = (node, value.bytes) }
                if case .address(let family, let address, _, _) = node, trusted.contains(family, address) { return }
                last = node
                lastValue = value.bytes
            }
        }
        guard let (node, value) = last.map({ ($0, lastValue!) }) ?? leftmost,
              case .address(_, _, let text, let port) = node else { return false }
        ClientAddressEntry.write(text: UnsafeRawBufferPointer(rebasing: value[text]), port: port, into: entry)
        return true
    }

    private static func matches(_ name: ByteSlice, _ header: RealIPHeader) -> Bool {
        let wanted: StaticString = header == .forwarded ? "forwarded" : "x-forwarded-for"
        guard name.count == wanted.utf8CodeUnitCount else { return false }
        for index in 0..<name.count where name.bytes[index] | 0x20 != wanted.utf8Start[index] { return false }
        return true
    }
}
