// TLSSession+Records: the records a session has made but the socket has not taken
// yet, in `cipher`. Three kinds wait there, and they leave before any other byte:
//   - what a handshake read made OpenSSL send (its flight, session tickets), collected
//     in the context's staging buffer (TLSSession.read) and kept when the socket was
//     full, or on purpose: the tickets that complete a handshake are kept for the
//     first answer, whose records join them, so a new connection's tickets and answer
//     cost one write(2) and one TCP segment, not three (OpenSSL flushes each ticket);
//   - an answer's records made after such tickets, or of more than one record (`write`),
//     which carry bytes of the caller's: the write reports them once they are out, as
//     SSL_write does a record;
//   - a file body's records (TLSSession+Files), which carry file bytes likewise.
// `cipherOwed` counts the caller's bytes the pending records carry: 0 for a handshake's.
import CTLS
import ServerSystem

extension TLSSession {
    /// Whether records wait for the socket.
    var hasPendingRecords: Bool { cipherStart < cipherEnd }

    /// Whether the records that wait carry none of the caller's bytes (a handshake's).
    var pendingRecordsAreTheHandshakes: Bool { hasPendingRecords && cipherOwed == 0 }

    /// Room for `extra` more bytes after the pending records, which move to the buffer's start.
    /// The buffer is as large as the records need (a small answer's take a few KiB).
    private func reserveRecords(_ extra: Int) -> UnsafeMutableRawBufferPointer {
        if cipherStart == cipherEnd {
            cipherStart = 0
            cipherEnd = 0
        }
        let pending = cipherEnd - cipherStart
        if let records = cipher, records.count - cipherEnd >= extra { return records }
        if let records = cipher, records.count >= pending + extra {
            records.baseAddress!.copyMemory(from: records.baseAddress! + cipherStart, byteCount: pending)
        } else {
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: pending + extra, alignment: 16)
            if let records = cipher {
                larger.baseAddress!.copyMemory(from: records.baseAddress! + cipherStart, byteCount: pending)
                records.deallocate()
            }
            cipher = larger
        }
        cipherStart = 0
        cipherEnd = pending
        return cipher!
    }

    /// Keeps `bytes` (records a handshake read collected) to be sent before anything else.
    func keepRecords(_ bytes: UnsafeRawBufferPointer) {
        let records = reserveRecords(bytes.count)
        (records.baseAddress! + cipherEnd).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        cipherEnd += bytes.count
    }

    /// Makes `bytes` into records after the pending ones; they carry `owing` of the caller's
    /// bytes, which count as sent once the records are out.
    func appendRecords(_ bytes: UnsafeRawBufferPointer, owing: Int) -> Bool {
        let records = reserveRecords(bytes.count + Self.recordsSlack)
        var filled = 0
        guard ctls_write_collected(ssl, context.collector, bytes.baseAddress, bytes.count,
                                   records.baseAddress! + cipherEnd, records.count - cipherEnd, &filled) == 1 else {
            _ = failure()
            return false
        }
        cipherEnd += filled
        cipherOwed += owing
        return true
    }

    /// Sends the pending records; nil once they are all out, else the outcome to report.
    func sendCipher() -> WriteOutcome? {
        guard let records = cipher else { return nil }
        while cipherStart < cipherEnd {
            switch try? socket.write(UnsafeRawBufferPointer(rebasing: records[cipherStart..<cipherEnd]), moreFollows: closeFollows) {
            case .wrote(let sent)?: cipherStart += sent
            case .wouldBlock?: return .wouldBlock
            default: return .closed
            }
        }
        return nil
    }

    /// Gives the records' buffer back once nothing in it is pending: an idle connection keeps nothing.
    func releaseCipherIfSent() {
        guard let records = cipher, !hasPendingRecords else { return }
        records.deallocate()
        cipher = nil
        cipherStart = 0
        cipherEnd = 0
    }

    /// The caller's bytes the records just sent carried, now owed no more.
    func takeOwed() -> Int {
        let owed = cipherOwed
        cipherOwed = 0
        return owed
    }

    /// Makes an answer's bytes into records in our buffer, after any pending ones (a new
    /// connection's tickets), and sends them together in one write(2): at most a file read's
    /// worth (four records) per call; the bytes count as written once all are out.
    func writeCollected(_ bytes: UnsafeRawBufferPointer) -> WriteOutcome {
        recordsCarryWrite = true
        let chunk = min(bytes.count, Self.fileChunkBytes)
        guard appendRecords(UnsafeRawBufferPointer(rebasing: bytes[0..<chunk]), owing: chunk) else { return .closed }
        if let outcome = sendCipher() { return outcome }
        releaseCipherIfSent()
        return .wrote(takeOwed())
    }

    /// Sends the handshake's pending records, if any, before an alert or a close.
    func sendHandshakeRecords() {
        guard pendingRecordsAreTheHandshakes else { return }
        if sendCipher() == nil { releaseCipherIfSent() }
    }

    /// What a handshake read collected in the staging buffer (`count` bytes): kept for the
    /// answer when the read returned the request (`answerFollows`), else sent now; what the
    /// socket does not take waits for it to be writable. False when the socket was full.
    func settleStaged(_ count: Int, answerFollows: Bool) -> Bool {
        guard let staging = context.staging else { return true }
        let collected = UnsafeRawBufferPointer(rebasing: staging[0..<count])
        if answerFollows && isEstablished {
            keepRecords(collected)
            return true
        }
        var sent = 0
        while sent < count {
            guard case .wrote(let written)? = try? socket.write(UnsafeRawBufferPointer(rebasing: collected[sent...])) else { break }
            sent += written
        }
        guard sent < count else { return true }
        keepRecords(UnsafeRawBufferPointer(rebasing: collected[sent...]))
        awaitedReadiness = .writable
        return false
    }
}
