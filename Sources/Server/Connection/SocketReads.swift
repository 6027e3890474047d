// SocketReads: one read from a connection's transport (read(2) on a socket) straight into a buffer's
// free space, through the buffer's scoped access (ByteBuffer.withWritableSpace),
// so that no pointer into the buffer outlives the read. Shared by the HTTP and
// line drivers.
import HTTP1
import ServerSystem

/// What one read into a buffer brought, and how much room it was offered: a read that
/// fills less than it was offered has emptied the socket's receive queue.
struct SocketRead {
    var outcome: ReadOutcome
    var offered: Int
}

extension ByteBuffer {
    /// Reads once from `transport` into free space of at least `minimum` (at most `limit`) bytes.
    /// - Parameter keeping: false to discard what arrives (a lingering connection drains its input).
    @inline(__always)  // Once per read of the request cycle.
    func read<T: Transport & ~Copyable>(from transport: borrowing T, minimum: Int, atMost limit: Int = .max,
                                        keeping: Bool = true) throws -> SocketRead {
        var read = SocketRead(outcome: .wouldBlock, offered: 0)
        try withWritableSpace(minimum: minimum, atMost: limit) { space in
            read.offered = space.count
            read.outcome = try transport.read(into: space)
            guard keeping, case .bytes(let count) = read.outcome else { return 0 }
            return count
        }
        return read
    }
}
