// TLSSession: one server-side TLS connection over a non-blocking socket, as a
// connection's Transport. The handshake is driven by the first reads (the
// session is in accept state), so it runs under the header timeout like any
// slow first request. OpenSSL's "want read" and "want write" are the socket's
// EAGAIN seen through the record layer: a call blocked on its own direction is
// `.wouldBlock`; one blocked on the other (a read that must send a ticket or an
// alert, a write that must first read) is published as `awaitedReadiness`, which
// the event loop folds into the connection's epoll interest.
//
// Both trigger modes rely on one rule: a read or write that returns less than it
// was offered has met EAGAIN on the socket. SSL_read returns one record at a
// time and SSL_write (with partial writes) one record's worth, so each loops
// until the space is full or OpenSSL reports a want; a short count then really
// means the socket is empty (or full), as for a plain socket. A read also stops
// when the socket reader (CTLS) saw the socket's read(2) come back short and
// OpenSSL holds no more bytes: the socket was empty then, without a second
// read(2) to meet EAGAIN (nginx makes that second read).
import CTLS
import ServerSystem

/// A TLS connection: the socket it owns and the OpenSSL session over it.
package final class TLSSession: Transport {
    let socket: Socket
    let ssl: OpaquePointer
    let context: TLSContext
    /// Set by the last read or write that stopped on the other direction's readiness.
    package internal(set) var awaitedReadiness: Readiness?
    /// Whether the handshake failure of this connection was reported (once).
    private var failureReported = false
    /// The stream ended (close_notify or an error) during a read that still returned bytes:
    /// the next read reports the end. OpenSSL took it off the socket, so epoll will not
    /// report it again (edge-triggered), and the reader must be told to read once more.
    private var endPending = false
    /// A response head written with `moreFollows` (a file body comes next), held back to
    /// share its TLS record and write(2) with the body's first chunk (TLSSession+Files).
    /// It is the start of the buffer that chunk is read into, so holding allocates no more
    /// than the file sending did, and the buffer goes once the head is out: an idle
    /// connection keeps nothing.
    var heldHead: UnsafeMutableRawBufferPointer?
    /// How many bytes of `heldHead` are still owed to the peer.
    var heldCount = 0
    /// The largest head that is held back; a larger one goes out on its own (at most a
    /// quarter of the record it shares with the body).
    static let heldHeadCapacity = 4096
    /// The most plaintext one record carries (RFC 8446 §5.1).
    static let recordPlaintextBytes = 16 * 1024
    /// Records the socket has not taken yet (TLSSession+Records): a handshake's, an answer's
    /// or a file body's. They leave before any other byte, and the `cipherOwed` bytes of the
    /// caller's they carry count as sent once they have: a write's when `recordsCarryWrite`,
    /// else a file's. Nil while nothing is pending: an idle connection keeps nothing.
    var cipher: UnsafeMutableRawBufferPointer?
    var cipherStart = 0
    var cipherEnd = 0
    var cipherOwed = 0
    var recordsCarryWrite = false
    /// The connection ends once its pending output is out (`closeFollowsOutput`): records go
    /// with MSG_MORE, so the last of them, the close_notify alert and the FIN share a packet.
    var closeFollows = false

    init(socket: consuming Socket, ssl: OpaquePointer, context: TLSContext) {
        self.socket = socket
        self.ssl = ssl
        self.context = context
    }

    deinit {
        SSL_free(ssl)
        heldHead?.deallocate()
        cipher?.deallocate()
    }

    package var fd: Int32 { socket.fd }

    /// Bytes OpenSSL holds beyond what the last read took, decrypted or still read ahead
    /// from the socket (SSL_has_pending(3): SSL_pending alone misses the read-ahead ones).
    package var hasBufferedInput: Bool { endPending || SSL_has_pending(ssl) == 1 }

    /// Whether the handshake has completed.
    package var isEstablished: Bool { SSL_is_init_finished(ssl) == 1 }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome {
        awaitedReadiness = nil
        if endPending { return .closed }
        // What an earlier handshake read made and the socket did not take goes first.
        if pendingRecordsAreTheHandshakes {
            switch sendCipher() {
            case nil: releaseCipherIfSent()
            case .wouldBlock?:
                awaitedReadiness = .writable
                return .wouldBlock
            default: return .closed
            }
        }
        var total = 0
        var stop = ReadStop.waiting
        ctls_reader_forget(ssl)
        while true {
            var staged = 0
            stop = readRecords(into: buffer, total: &total, staged: &staged)
            guard staged > 0 else {
                if stop == .stagingFull { awaitedReadiness = .writable }
                break
            }
            let settled = settleStaged(staged, answerFollows: total > 0 && stop != .stagingFull)
            // A flight larger than the staging buffer (a long certificate chain) goes on at once while
            // the socket takes it: waiting for EPOLLOUT on a socket that never filled would never end
            // in edge-triggered mode.
            guard stop == .stagingFull && settled else { break }
        }
        if stop == .ended && total == 0 { return .closed }
        return total > 0 ? .bytes(total) : .wouldBlock
    }

    /// Why `readRecords` stopped.
    private enum ReadStop {
        /// The buffer is full, the socket empty, or OpenSSL waits for the socket.
        case waiting
        /// OpenSSL must send more of a handshake flight than the staging buffer holds.
        case stagingFull
        /// The stream ended (close_notify or an error).
        case ended
    }

    /// SSL_read_ex into `buffer` from `total` on until it is full or OpenSSL stops.
    private func readRecords(into buffer: UnsafeMutableRawBufferPointer, total: inout Int, staged: inout Int) -> ReadStop {
        while total < buffer.count {
            var count = 0
            var staging = false
            let code = readRecord(into: buffer.baseAddress! + total, count: buffer.count - total, read: &count,
                                  staged: &staged, staging: &staging)
            if code == SSL_ERROR_NONE {
                total += count
                // The socket's last read(2) in this call came back short and OpenSSL holds nothing
                // more: the socket was empty, which the read(2) meeting EAGAIN would only confirm.
                if ctls_reader_drained(ssl) == 1 && SSL_has_pending(ssl) == 0 { return .waiting }
                continue
            }
            switch failure(code: code) {
            case .wantRead: return .waiting
            // While staging, OpenSSL writes only to the staging buffer: it is full, not the socket.
            case .wantWrite where staging: return .stagingFull
            case .wantWrite:
                awaitedReadiness = .writable
                return .waiting
            case .closed:
                // The bytes before the end are delivered; the next read reports the end.
                endPending = total > 0
                return .ended
            }
        }
        return .waiting
    }

    /// One SSL_read_ex; SSL_get_error's code for it. During the handshake what OpenSSL sends
    /// meanwhile is collected in the context's staging buffer from `staged` on (unless kernel
    /// TLS, which OpenSSL turns on through the socket's own write BIO), to leave in one write(2).
    private func readRecord(into bytes: UnsafeMutableRawPointer, count: Int, read: inout Int,
                            staged: inout Int, staging isStaging: inout Bool) -> Int32 {
        if let staging = context.staging, !isEstablished {
            isStaging = true
            return ctls_read_staging_writes(ssl, context.collector, bytes, count, &read,
                                            staging.baseAddress, staging.count, &staged)
        }
        return SSL_read_ex(ssl, bytes, count, &read) == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, 0)
    }

    package func write(_ bytes: UnsafeRawBufferPointer, moreFollows: Bool) throws(SystemError) -> WriteOutcome {
        awaitedReadiness = nil
        if hasPendingRecords {
            // A new connection's tickets wait for its first answer: a head to be held stays held
            // (the body's records join them, TLSSession+Files), anything else joins them now.
            if pendingRecordsAreTheHandshakes && heldCount == 0 {
                if moreFollows && bytes.count <= Self.heldHeadCapacity { return hold(bytes) }
                return writeCollected(bytes)
            }
            // Records carrying earlier bytes go first (a file body's are complete only once they
            // are out, so for those this is a safeguard); a write's report its bytes once out.
            if let outcome = sendCipher() { return outcome }
            releaseCipherIfSent()
            if recordsCarryWrite && cipherOwed > 0 { return .wrote(takeOwed()) }
        }
        if heldCount > 0, let outcome = sendHeldHead() { return outcome }
        if moreFollows, bytes.count <= Self.heldHeadCapacity { return hold(bytes) }
        // More than a record (answers to pipelined requests, a large body in memory): OpenSSL
        // alone would write(2) each record as it makes it; collected, they leave in one.
        // Not with kernel TLS, where the kernel makes the records from what SSL_write gives it.
        if bytes.count > Self.recordPlaintextBytes && !kernelSends { return writeCollected(bytes) }
        return try writeRecords(bytes)
    }

    /// Copies a head to be sent with the next write, as MSG_MORE does for a plain socket.
    private func hold(_ bytes: UnsafeRawBufferPointer) -> WriteOutcome {
        let held = heldHead ?? UnsafeMutableRawBufferPointer.allocate(byteCount: Self.heldBufferBytes, alignment: 16)
        heldHead = held
        held.copyMemory(from: bytes)
        heldCount = bytes.count
        return .wrote(bytes.count)
    }

    /// Sends the held head alone; nil once it is all out, else the outcome to report.
    func sendHeldHead() -> WriteOutcome? {
        guard let held = heldHead else { return nil }
        let outcome = try? writeRecords(UnsafeRawBufferPointer(rebasing: held[0..<heldCount]))
        switch outcome {
        case .wrote(let sent)?:
            dropHeld(sent)
            return heldCount == 0 ? nil : .wouldBlock
        case .wouldBlock?: return .wouldBlock
        default: return .closed
        }
    }

    /// Forgets the first `sent` held bytes: the peer has them.
    func dropHeld(_ sent: Int) {
        guard let held = heldHead, sent > 0 else { return }
        let left = heldCount - min(sent, heldCount)
        if left > 0 { held.baseAddress!.copyMemory(from: held.baseAddress! + sent, byteCount: left) }
        heldCount = left
        if left == 0 {
            held.deallocate()
            heldHead = nil
        }
    }

    /// SSL_write_ex until the bytes are out or OpenSSL reports a want (one record per call).
    func writeRecords(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> WriteOutcome {
        awaitedReadiness = nil
        var total = 0
        while total < bytes.count {
            var count = 0
            if SSL_write_ex(ssl, bytes.baseAddress! + total, bytes.count - total, &count) == 1 {
                total += count
                continue
            }
            switch failure() {
            case .wantWrite: break
            case .wantRead: awaitedReadiness = .readable
            case .closed: return .closed
            }
            break
        }
        return total > 0 || bytes.isEmpty ? .wrote(total) : .wouldBlock
    }

    /// Sends a close_notify alert when the handshake is done (RFC 8446 §6.1), then half-closes.
    package func shutdownWrite() {
        sendHandshakeRecords()
        if heldCount > 0 { _ = sendHeldHead() }
        sendCloseNotify()
        socket.shutdownWrite()
    }

    package func closeFollowsOutput() {
        closeFollows = true
    }

    /// Without kernel TLS a file body is read and encrypted here (TLSSession+Files); with it, SSL_sendfile.
    package var copiesFileBodies: Bool { !kernelSends }

    /// Kernel TLS took this connection's sending side (SSL_OP_ENABLE_KTLS, see TLSContext).
    var kernelSends: Bool { ctls_ktls_send(ssl) == 1 }

    package func resetOnClose() {
        // A reset discards whatever is queued: no alert is owed to a connection being cut.
        SSL_set_quiet_shutdown(ssl, 1)
        socket.resetOnClose()
    }

    package func close() {
        // Closed by the server before the handshake completed (the header timeout cut a
        // slow or stalled one, or a graceful stop): a handshake failure like any other.
        reportHandshakeFailureOnce()
        sendHandshakeRecords()
        if heldCount > 0 { _ = sendHeldHead() }
        sendCloseNotify()
        socket.close()
    }

    /// Counts this connection in the handshake failures once, if its handshake never completed.
    private func reportHandshakeFailureOnce() {
        guard !isEstablished && !failureReported else { return }
        failureReported = true
        context.onHandshakeFailure?()
    }

    private func sendCloseNotify() {
        // After records cut short (a body abandoned with records pending) an alert would be garbage.
        guard isEstablished, !hasPendingRecords, SSL_get_quiet_shutdown(ssl) == 0,
              SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN == 0 else { return }
        // Non-blocking: the alert leaves if the socket takes it; the reply is not awaited.
        guard let staging = context.staging else {
            if SSL_shutdown(ssl) < 0 { OpenSSLErrors.discard() }
            return
        }
        // Made into the staging buffer and sent with MSG_MORE: the close(2) or shutdown(2) that
        // follows puts its FIN in the alert's packet (and the answer's, when it was held too).
        var filled = 0
        if ctls_shutdown_collected(ssl, context.collector, staging.baseAddress, staging.count, &filled) < 0 {
            OpenSSLErrors.discard()
        }
        guard filled > 0 else { return }
        _ = try? socket.write(UnsafeRawBufferPointer(rebasing: staging[0..<filled]), moreFollows: true)
    }

    enum Failure {
        case wantRead, wantWrite, closed
    }

    /// What an SSL_read_ex or SSL_write_ex that returned 0 (or an SSL_sendfile that
    /// returned `result` < 0) means (SSL_get_error(3)).
    func failure(_ result: Int32 = 0) -> Failure {
        failure(code: SSL_get_error(ssl, result))
    }

    /// What SSL_get_error's `code` means for the connection.
    func failure(code: Int32) -> Failure {
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        default:
            // A protocol error, a reset or an EOF without close_notify: the connection is over.
            // Nothing is logged (a scanner's garbage must not fill the log): the
            // handshake-failure counter is the only trace of one that never began.
            OpenSSLErrors.discard()
            reportHandshakeFailureOnce()
            return .closed
        }
    }
}
