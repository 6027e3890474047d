// TLSSession+Files: a file body over TLS. Without kernel TLS the bytes must be
// encrypted in user space, so sendfile(2) cannot carry them: four records' worth
// (64 KiB; a record holds 16 KiB, RFC 8446 §5.1) is read with one pread(2) into a
// buffer that lives only for the call and written with SSL_write, record after
// record (one write(2) each) until the caller's chunk is sent or the socket is
// full. A pread per record was 65 preads per MiB against nginx's 32 (it reads
// 32 KiB, output_buffers), about 25 µs of system time per MiB more. After a want,
// the retry reads again from the offset of the first unsent byte, so it passes
// the pending record's bytes again, which is what OpenSSL requires of a repeated
// write (SSL_write(3)). A response head held back by `write(_:moreFollows:)` goes
// first in the same buffer, so a small file's head and body share one record and
// one write(2), as MSG_MORE gives a plain socket.
//
// With kernel TLS on this connection's sending side (SSL_OP_ENABLE_KTLS took, see
// TLSContext), the kernel makes the records, so the file goes by SSL_sendfile(3)
// (sendfile(2) from the page cache, as for a plain socket) after the held head,
// which then leaves alone by SSL_write.
import CTLS
import Glibc
import ServerSystem

extension TLSSession {
    /// The most one read takes from the file (with the held head before it): four full TLS
    /// records. Below glibc's mmap threshold (128 KiB, mallopt(3)), so the buffer comes from
    /// the heap, not from an mmap and a munmap per call.
    static let fileChunkBytes = 64 * 1024

    /// Up to `count` bytes of the file from `offset`, a read (four records) at a time, until the
    /// socket is full: a turn of the loop sends as much as a sendfile(2) call would (the caller's
    /// chunk), not one read per turn and an epoll_wait between reads.
    package func sendFile(from file: Int32, offset: inout Int, count: Int) throws(SystemError) -> WriteOutcome {
        if ctls_ktls_send(ssl) == 1 { return sendFileByKernel(from: file, offset: &offset, count: count) }
        var scratch: UnsafeMutableRawBufferPointer?
        defer { scratch?.deallocate() }
        var total = 0
        while total < count {
            // A held head's buffer is the session's (dropHeld releases it once the head is out);
            // the records after it share one buffer that lives only for this call.
            let buffer: UnsafeMutableRawBufferPointer
            if let held = heldHead {
                buffer = held
            } else {
                if scratch == nil { scratch = .allocate(byteCount: Self.fileChunkBytes, alignment: 16) }
                buffer = scratch!
            }
            // The head and the chunk fill at most one buffer; SSL_write cuts it into records.
            let chunk = min(count - total, Self.fileChunkBytes - heldCount)
            let outcome = try sendFileChunk(from: file, at: offset, chunk: chunk, in: buffer)
            guard case .wrote(let sent) = outcome, sent > 0 else {
                // Bytes already sent count; the end or the want shows again on the next call.
                if case .closed = outcome { return .closed }
                return total > 0 ? .wrote(total) : outcome
            }
            offset += sent
            total += sent
            // The socket took part of the chunk, or the file is shorter: the next call tells which.
            if sent < chunk { break }
        }
        return .wrote(total)
    }

    /// One read: the held head, if any, and the file's next `chunk` bytes after it in `buffer`, written as
    /// records until they are out or the socket is full. Returns the file bytes sent; `.wrote(0)` when the
    /// file ended early, `.wouldBlock` when not even the head went.
    private func sendFileChunk(from file: Int32, at offset: Int, chunk: Int,
                                in buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> WriteOutcome {
        let head = heldCount
        let length = try Files.read(file, into: UnsafeMutableRawBufferPointer(rebasing: buffer[head..<(head + chunk)]),
                                    at: offset)
        guard length > 0 else { return .wrote(0) }  // the file ended early
        let outcome = try writeRecords(UnsafeRawBufferPointer(rebasing: buffer[0..<(head + length)]))
        guard case .wrote(let sent) = outcome else { return outcome }
        dropHeld(sent)
        // Part of the head only: the socket is full, and the retry passes the rest of it again.
        guard sent > head else { return .wouldBlock }
        return .wrote(sent - head)
    }

    /// Up to `count` bytes (the caller's send chunk) by SSL_sendfile, once the held head is out.
    /// `.wrote(0)` means the file ended early, as sendfile(2)'s 0 does.
    private func sendFileByKernel(from file: Int32, offset: inout Int, count: Int) -> WriteOutcome {
        awaitedReadiness = nil
        if heldCount > 0, let outcome = sendHeldHead() { return outcome }
        let sent = SSL_sendfile(ssl, file, off_t(offset), count, 0)
        if sent >= 0 {
            offset += sent
            return .wrote(sent)
        }
        // EAGAIN (and EINTR, EBUSY) set the BIO's retry flag: SSL_ERROR_WANT_WRITE.
        switch failure(Int32(truncatingIfNeeded: sent)) {
        case .wantWrite: return .wouldBlock
        case .wantRead:
            awaitedReadiness = .readable
            return .wouldBlock
        case .closed: return .closed
        }
    }
}
