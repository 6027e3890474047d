// SocketEndpoint: a TCP socket's own address or its peer's, from getsockname(2)
// or getpeername(2), as numbers (for matching against networks) and as text.
import Glibc

/// An IPv4 or IPv6 address and port, the address in network order (IPv4 in the first 4 bytes).
package struct SocketEndpoint: Equatable {
    package let isIPv6: Bool
    package let address: (UInt64, UInt64)
    package let port: Int

    package static func == (a: SocketEndpoint, b: SocketEndpoint) -> Bool {
        a.isIPv6 == b.isIPv6 && a.address == b.address && a.port == b.port
    }

    /// The socket's own address (getsockname).
    package static func local(of fd: Int32) throws(SystemError) -> SocketEndpoint {
        try endpoint(of: fd, "getsockname") { getsockname($0, $1, $2) }
    }

    /// The connected peer's address (getpeername); ENOTCONN when it has already gone.
    package static func peer(of fd: Int32) throws(SystemError) -> SocketEndpoint {
        try endpoint(of: fd, "getpeername") { getpeername($0, $1, $2) }
    }

    /// The numeric address, without the port.
    package var host: String {
        var bytes = address
        var text = [UInt8](repeating: 0, count: 48)
        _ = withUnsafeBytes(of: &bytes) { raw in
            text.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { inet_ntop(isIPv6 ? AF_INET6 : AF_INET, raw.baseAddress, $0.baseAddress, 48) }
            }
        }
        return String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func endpoint(of fd: Int32, _ name: String,
                                 _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32)
        throws(SystemError) -> SocketEndpoint {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try blockingSystemCall("\(name)(fd \(fd))", {
            withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) }
            }
        })
        let family = Int32(storage.ss_family)
        return try withUnsafeBytes(of: &storage) { raw throws(SystemError) -> SocketEndpoint in
            var address: (UInt64, UInt64) = (0, 0)
            switch family {
            case AF_INET:
                let v4 = raw.load(as: sockaddr_in.self)
                withUnsafeMutableBytes(of: &address) { $0.storeBytes(of: v4.sin_addr, as: in_addr.self) }
                return SocketEndpoint(isIPv6: false, address: address, port: Int(UInt16(bigEndian: v4.sin_port)))
            case AF_INET6:
                let v6 = raw.load(as: sockaddr_in6.self)
                withUnsafeMutableBytes(of: &address) { $0.storeBytes(of: v6.sin6_addr, as: in6_addr.self) }
                return SocketEndpoint(isIPv6: true, address: address, port: Int(UInt16(bigEndian: v6.sin6_port)))
            default:
                throw SystemError(call: "\(name)(fd \(fd)): not an IPv4 or IPv6 socket", errno: EAFNOSUPPORT)
            }
        }
    }
}
