// PeerAddresses: the client address of each open connection, as text, for the
// access log's first field. It is a side table indexed by descriptor, filled
// from accept4's own result, so a connection object grows by nothing and the
// server makes no getpeername call; it exists only while the access log is on.
import Glibc
import ServerSystem

final class PeerAddresses {
    /// Room for the longest numeric IPv6 address and its NUL (INET6_ADDRSTRLEN is 46).
    static let textCapacity = 47
    /// Bytes per descriptor: a length byte, then the text.
    private static let stride = 48

    /// Where accept4 writes the next connection's address before its descriptor is known.
    let scratch = UnsafeMutablePointer<CChar>.allocate(capacity: PeerAddresses.textCapacity)
    private var entries: UnsafeMutablePointer<UInt8>
    private var capacity: Int

    init() {
        capacity = 256
        entries = .allocate(capacity: capacity * Self.stride)
        entries.initialize(repeating: 0, count: capacity * Self.stride)
        scratch.initialize(repeating: 0, count: Self.textCapacity)
    }

    deinit {
        entries.deallocate()
        scratch.deallocate()
    }

    /// Files the address in `scratch` under the descriptor accept4 returned.
    func keepScratch(for fd: Int32) {
        let index = Int(fd)
        if index >= capacity { grow(toFit: index) }
        let length = min(strlen(scratch), Self.textCapacity)
        let entry = entries + index * Self.stride
        entry[0] = UInt8(length)
        UnsafeMutableRawPointer(entry + 1).copyMemory(from: scratch, byteCount: length)
    }

    /// The address of the connection on `fd` ("-" when none was noted).
    func address(of fd: Int32) -> UnsafeRawBufferPointer {
        let index = Int(fd)
        guard index < capacity, entries[index * Self.stride] > 0 else {
            return UnsafeRawBufferPointer(start: Self.unknown.utf8Start, count: 1)
        }
        let entry = entries + index * Self.stride
        return UnsafeRawBufferPointer(start: entry + 1, count: Int(entry[0]))
    }

    private static let unknown: StaticString = "-"

    private func grow(toFit index: Int) {
        var newCapacity = capacity
        while newCapacity <= index { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity * Self.stride)
        grown.initialize(repeating: 0, count: newCapacity * Self.stride)
        grown.update(from: entries, count: capacity * Self.stride)
        entries.deallocate()
        entries = grown
        capacity = newCapacity
    }
}

extension Listener {
    /// Accepts one pending connection (see `accept(peerText:)`), noting its peer's
    /// address in `peers` when the access log wants it.
    func accept(notingPeerIn peers: PeerAddresses?) throws(SystemError) -> Socket? {
        guard let peers else { return try accept() }
        let text = UnsafeMutableBufferPointer(start: peers.scratch, count: PeerAddresses.textCapacity)
        guard let socket = try accept(peerText: text) else { return nil }
        peers.keepScratch(for: socket.fd)
        return socket
    }
}
