// ClientAddress: the client a trusted proxy names (in a PROXY header, or in
// X-Forwarded-For / Forwarded), as the handler's Request shows it. The server
// keeps it in a fixed-size entry it owns (a length byte, the numeric address
// as text, the port, or none); the Request holds only a pointer to the entry,
// so a request from a client that came directly costs one nil pointer.
import Glibc

/// The layout of one client address entry.
package enum ClientAddressEntry {
    /// Length byte, up to 46 bytes of text and a NUL (INET6_ADDRSTRLEN), a port flag and the port.
    package static let size = 52
    static let textCapacity = 47
    static let portOffset = 49

    /// Writes `endpoint`'s address and port into the entry at `entry`.
    package static func write(_ endpoint: ProxiedEndpoint, into entry: UnsafeMutableRawPointer) {
        let text = UnsafeMutableBufferPointer(start: (entry + 1).assumingMemoryBound(to: CChar.self), count: textCapacity)
        entry.storeBytes(of: UInt8(endpoint.writeText(into: text)), as: UInt8.self)
        setPort(Int(endpoint.port), in: entry)
    }

    /// Writes address text (a forwarded header's) and an optional port into the entry.
    package static func write(text: UnsafeRawBufferPointer, port: Int?, into entry: UnsafeMutableRawPointer) {
        let length = min(text.count, textCapacity - 1)
        entry.storeBytes(of: UInt8(length), as: UInt8.self)
        (entry + 1).copyMemory(from: text.baseAddress!, byteCount: length)
        setPort(port, in: entry)
    }

    private static func setPort(_ port: Int?, in entry: UnsafeMutableRawPointer) {
        entry.storeBytes(of: port == nil ? 0 : 1, toByteOffset: portOffset - 1, as: UInt8.self)
        entry.storeBytes(of: UInt8(truncatingIfNeeded: (port ?? 0) >> 8), toByteOffset: portOffset, as: UInt8.self)
        entry.storeBytes(of: UInt8(truncatingIfNeeded: port ?? 0), toByteOffset: portOffset + 1, as: UInt8.self)
    }

    /// The address text of the entry.
    package static func address(_ entry: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: entry + 1, count: Int(entry.load(as: UInt8.self)))
    }

    package static func port(_ entry: UnsafeRawPointer) -> Int? {
        guard entry.load(fromByteOffset: portOffset - 1, as: UInt8.self) != 0 else { return nil }
        return Int(entry.load(fromByteOffset: portOffset, as: UInt8.self)) << 8 | Int(entry.load(fromByteOffset: portOffset + 1, as: UInt8.self))
    }
}

extension Request {
    /// The client's numeric address as a trusted proxy named it: from the connection's PROXY
    /// header, or from `X-Forwarded-For`/`Forwarded` under `--real-ip-header`. Nil when no
    /// proxy named one (the connection's peer is then the client, as far as the server knows).
    /// Like every slice of the request, valid only during the handler call.
    public var clientAddress: ByteSlice? {
        clientEntry.map { ByteSlice(bytes: ClientAddressEntry.address($0)) }
    }

    /// The client's port, when the proxy named one (a PROXY header does; forwarded headers rarely).
    public var clientPort: Int? {
        clientEntry.flatMap(ClientAddressEntry.port)
    }
}
