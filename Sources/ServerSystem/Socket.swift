// Socket: a connected stream socket, owner of its descriptor: non-blocking
// reads and writes, with the states a reactor expects (would block, peer gone)
// returned as values.
import Glibc

/// The outcome of one `read` on a non-blocking socket.
@usableFromInline
package enum ReadOutcome: Equatable {
    /// This many bytes arrived (never zero).
    case bytes(Int)
    /// Nothing to read now: EAGAIN.
    case wouldBlock
    /// The peer finished sending (EOF) or reset the connection.
    case closed
}

/// The outcome of one `write` on a non-blocking socket.
@usableFromInline
package enum WriteOutcome: Equatable {
    /// This many bytes were accepted by the kernel (may be fewer than offered).
    case wrote(Int)
    /// The send buffer is full: EAGAIN.
    case wouldBlock
    /// The peer is gone: EPIPE or ECONNRESET.
    case closed
}

/// A connected socket: it owns its descriptor (a connection holds it inline, and
/// a worker's connection table holds the connections), and closes it once.
@usableFromInline
package struct Socket: ~Copyable {
    @usableFromInline let descriptor: FileDescriptor

    /// Takes ownership of the connected socket `fd`.
    package init(fd: Int32) {
        descriptor = FileDescriptor(fd)
    }

    /// The descriptor's number, for epoll registration and the access log's peer table.
    @inlinable package var fd: Int32 { descriptor.raw }

    @inlinable
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome {
        try Self.read(fd, into: buffer)
    }

    /// read(2) of a connected socket's descriptor: EAGAIN is "would block", and a reset or
    /// a timed-out peer is the end of the stream, like an orderly close.
    @inlinable
    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome {
        do {
            guard let count = try systemCall("read(fd \(fd))", { Glibc.read(fd, buffer.baseAddress, buffer.count) }) else {
                return .wouldBlock
            }
            return count == 0 ? .closed : .bytes(count)
        } catch where error.errno == ECONNRESET || error.errno == ETIMEDOUT {
            return .closed
        }
    }

    @inlinable
    package func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> WriteOutcome {
        do {
            // send with MSG_NOSIGNAL rather than write: a vanished peer must give EPIPE, never
            // SIGPIPE, whatever signal disposition the embedding process has chosen.
            guard let count = try systemCall("send(fd \(fd))", {
                Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            }) else {
                return .wouldBlock
            }
            return .wrote(count)
        } catch where error.errno == EPIPE || error.errno == ECONNRESET {
            return .closed
        }
    }

    /// Half-closes the connection: the peer reads EOF after the bytes already sent.
    @usableFromInline
    package func shutdownWrite() {
        // ENOTCONN only means the peer is already gone, which is the goal anyway.
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Makes the coming close(2) reset the connection: SO_LINGER on with a zero timeout
    /// (socket(7)) discards unsent data and sends RST, instead of a FIN queued behind
    /// it that the kernel keeps retrying to a client that does not read. nginx does the
    /// same for timed-out connections (`reset_timedout_connection`).
    @usableFromInline
    package func resetOnClose() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        // It fails only for a descriptor that is not a socket; the close that follows still frees it.
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Closes the descriptor (once: later calls do nothing).
    @usableFromInline
    package func close() {
        descriptor.close()
    }
}
