// TLSSession+Files: a file body over TLS. Without kernel TLS the bytes must be
// encrypted in user space, so sendfile(2) cannot carry them: four records' worth
// (just under 64 KiB; a record holds 16 KiB, RFC 8446 §5.1) is read with one pread(2) into a
// buffer that lives only for the call, made into records by SSL_write in a buffer
// of ours (the record collector, CTLS) and sent with one write(2), until the
// caller's chunk is sent or the socket is full. OpenSSL alone writes each record
// as it makes it: a write(2) and, on a socket that keeps up, a TCP segment per
// 16 KiB, 65 of each per MiB (as nginx); the kernel's work per call and per
// segment, not the copies, was most of the system time a MiB cost over TLS.
// A pread per record was 65 preads per MiB more.
//
// Records the socket did not take stay in `cipher` (TLSSession+Records) and
// leave first on the next call; the file bytes they carry count as sent only
// then, so the caller never takes a body for complete (and waits for the
// client's next request) while its last records are still here. A new
// connection's session tickets wait there for the first body's records, which
// join them. A response head held back by `write(_:moreFollows:)` goes first in
// the read buffer, so a small file's head and body share one record and one
// write(2), as MSG_MORE gives a plain socket.
//
// With kernel TLS on this connection's sending side (SSL_OP_ENABLE_KTLS took, see
// TLSContext), the kernel makes the records, so the file goes by SSL_sendfile(3)
// (sendfile(2) from the page cache, as for a plain socket) after the held head,
// which then leaves alone by SSL_write.
import CTLS
import Glibc
import ServerSystem

extension TLSSession {
    /// The most one read takes from the file (with the held head before it): four TLS records
    /// whose 65,396 bytes at most (with four records' overhead, TLS 1.2's 29 bytes each) fit
    /// one TCP packet of the largest size the kernel builds (64 KiB with its headers: the MSS
    /// of loopback, and a GSO packet elsewhere): 64 KiB of plaintext made 65,624 bytes, and
    /// each write then left as a full packet and a runt. Below glibc's mmap threshold (128 KiB,
    /// mallopt(3)), so the buffers come from the heap, not from an mmap and a munmap per call.
    static let fileChunkBytes = 64 * 1024 - 256
    /// The buffer a held head waits in: one record, which a small file's body shares with it
    /// (a larger body's first read is that record, and the next ones are four).
    static let heldBufferBytes = recordPlaintextBytes
    /// Room beyond a read's bytes for its records: each adds a header, a content type and a
    /// tag (at most 29 bytes in TLS 1.2 or 1.3, RFC 8446 §5.2), and the rest is for anything
    /// OpenSSL sends before them (a KeyUpdate answer, RFC 8446 §4.6.3).
    static let recordsSlack = 4096

    /// Up to `count` bytes of the file from `offset`, a read (four records) at a time, until the
    /// socket is full: a turn of the loop sends as much as a sendfile(2) call would (the caller's
    /// chunk), not one read per turn and an epoll_wait between reads.
    package func sendFile(from file: Int32, offset: inout Int, count: Int) throws(SystemError) -> WriteOutcome {
        if kernelSends { return sendFileByKernel(from: file, offset: &offset, count: count) }
        awaitedReadiness = nil
        var total = 0
        // Records of this body go first; a handshake's (tickets) stay ahead of the first read's records.
        if hasPendingRecords && !pendingRecordsAreTheHandshakes {
            if let outcome = sendCipher() { return outcome }
            total = takeOwed(&offset)
        }
        var scratch: UnsafeMutableRawBufferPointer?
        defer {
            scratch?.deallocate()
            releaseCipherIfSent()
        }
        while total < count {
            // A held head's buffer is the session's (dropHeld releases it once the head is out);
            // the reads after it share one buffer that lives only for this call.
            let buffer: UnsafeMutableRawBufferPointer
            if let held = heldHead {
                buffer = held
            } else {
                if scratch == nil { scratch = .allocate(byteCount: min(Self.fileChunkBytes, count), alignment: 16) }
                buffer = scratch!
            }
            let head = heldCount
            let chunk = min(count - total, buffer.count - head)
            let length = try Files.read(file, into: UnsafeMutableRawBufferPointer(rebasing: buffer[head..<(head + chunk)]),
                                        at: offset)
            // The file ended early: `.wrote(0)` says so when nothing else was sent.
            guard length > 0 else { return .wrote(total) }
            guard appendRecords(UnsafeRawBufferPointer(rebasing: buffer[0..<(head + length)]), owing: length) else {
                return .closed
            }
            recordsCarryWrite = false
            dropHeld(head)
            if let outcome = sendCipher() {
                // Bytes already sent count; the want shows again on the next call.
                if case .closed = outcome { return .closed }
                return total > 0 ? .wrote(total) : outcome
            }
            total += takeOwed(&offset)
            // The file is shorter than it was: the next call tells.
            if length < chunk { break }
        }
        return .wrote(total)
    }

    /// The file bytes the records just sent carried: `offset` moves past them.
    private func takeOwed(_ offset: inout Int) -> Int {
        let owed = takeOwed()
        offset += owed
        return owed
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
