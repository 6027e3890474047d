// Socket+Peek: reading a connection's first bytes without taking them
// (recv(2) with MSG_PEEK), and then taking exactly as many as were used, so
// what follows them stays in the kernel for the next reader (the PROXY header
// before a request). Those bytes precede whatever the connection's transport
// speaks (plain HTTP, or a TLS handshake), so they are read from the socket
// beneath it, whatever the transport.
import Glibc

extension Transport where Self: ~Copyable {
    /// Copies what the socket beneath the transport holds, up to the buffer's size, leaving it queued.
    package func peekBeneath(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome {
        do {
            guard let count = try systemCall("recv(fd \(fd), MSG_PEEK)", { recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_PEEK)) }) else {
                return .wouldBlock
            }
            return count == 0 ? .closed : .bytes(count)
        } catch where error.errno == ECONNRESET || error.errno == ETIMEDOUT {
            return .closed
        }
    }

    /// Takes bytes from the socket beneath the transport (read(2) on its descriptor).
    package func readBeneath(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome {
        try Socket.read(fd, into: buffer)
    }
}
