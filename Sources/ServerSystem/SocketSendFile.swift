// SocketSendFile: the socket calls a response body needs beyond `write`: a
// file region copied by the kernel (sendfile(2)), and a head sent with MSG_MORE
// so that it leaves in the same packet as the body that follows it.
import Glibc

extension Socket {
    /// Sends up to `count` bytes of `file` from `offset` (advanced by what was sent)
    /// with sendfile(2): page cache to socket, the bytes never enter user space.
    /// A short count is normal on a non-blocking socket; EAGAIN is `.wouldBlock`.
    /// `.wrote(0)` means the file ended before `offset + count` (it was truncated).
    @usableFromInline
    package func sendFile(from file: Int32, offset: inout Int, count: Int) throws(SystemError) -> WriteOutcome {
        var position = off_t(offset)
        do {
            guard let sent = try systemCall("sendfile(fd \(fd), file \(file), offset \(offset), count \(count))", {
                Glibc.sendfile(fd, file, &position, count)
            }) else {
                return .wouldBlock
            }
            offset = Int(position)
            return .wrote(sent)
        } catch where error.errno == EPIPE || error.errno == ECONNRESET {
            return .closed
        }
    }

    /// `write`, telling the kernel more data follows at once (MSG_MORE, send(2)): a
    /// response head followed by a file body leaves as one packet instead of a small
    /// one ahead of the file's first. Cheaper than TCP_CORK, which costs two
    /// setsockopt calls per response; the next send or sendfile without it pushes.
    @inlinable
    package func write(_ bytes: UnsafeRawBufferPointer, moreFollows: Bool) throws(SystemError) -> WriteOutcome {
        do {
            guard let count = try systemCall("send(fd \(fd), MSG_MORE)", {
                Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | (moreFollows ? Int32(MSG_MORE) : 0))
            }) else {
                return .wouldBlock
            }
            return .wrote(count)
        } catch where error.errno == EPIPE || error.errno == ECONNRESET {
            return .closed
        }
    }
}
