// ClientAddresses: the client each connection's PROXY header named, by
// descriptor (like PeerAddresses, so a connection grows by a flag and not by
// an address), and the entry of the request being answered when a trusted
// proxy's forwarded header names another. It exists only when some listener
// speaks the PROXY protocol or --real-ip-header is on; the driver then points
// each request at the right entry (Request.clientAddress).
import HTTP1

package final class ClientAddresses {
    private var entries: UnsafeMutableRawPointer
    private var capacity: Int
    /// The entry of the request being answered, when a forwarded header names its client.
    let forwarded = UnsafeMutableRawPointer.allocate(byteCount: ClientAddressEntry.size, alignment: 8)
    let trustedProxies: TrustedProxies
    let realIPHeader: RealIPHeader?

    init(trustedProxies: TrustedProxies, realIPHeader: RealIPHeader?) {
        self.trustedProxies = trustedProxies
        self.realIPHeader = realIPHeader
        capacity = 256
        entries = .allocate(byteCount: capacity * ClientAddressEntry.size, alignment: 8)
        forwarded.initializeMemory(as: UInt8.self, repeating: 0, count: ClientAddressEntry.size)
    }

    deinit {
        entries.deallocate()
        forwarded.deallocate()
    }

    /// The entry of the connection on `fd`, grown to fit it.
    func entry(for fd: Int32) -> UnsafeMutableRawPointer {
        let index = Int(fd)
        if index >= capacity { grow(toFit: index) }
        return entries + index * ClientAddressEntry.size
    }

    /// The client for a request on `connection`: a trusted peer's forwarded header first, then
    /// the PROXY header's client; nil when neither names one.
    func client<T: Transport & ~Copyable>(for connection: Connection<T>, request: Request) -> UnsafeRawPointer? {
        if let realIPHeader, connection.peerTrusted,
           ForwardedClient.rightmostUntrusted(in: request, header: realIPHeader, trusted: trustedProxies, into: forwarded) {
            return UnsafeRawPointer(forwarded)
        }
        return connection.clientNoted ? UnsafeRawPointer(entry(for: connection.transport.fd)) : nil
    }

    private func grow(toFit index: Int) {
        var newCapacity = capacity
        while newCapacity <= index { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity * ClientAddressEntry.size, alignment: 8)
        grown.copyMemory(from: entries, byteCount: capacity * ClientAddressEntry.size)
        entries.deallocate()
        entries = grown
        capacity = newCapacity
    }
}
