// ConnectionDriver+Disk: a file body whose next bytes are not in the page
// cache. sendfile(2) would wait for the disk, and with it every connection of
// the worker; instead the loop asks the page cache first (preadv2 with
// RWF_NOWAIT, one byte at each end of the chunk), and on a miss hands a
// read-ahead to the worker's helper threads (DiskReads, nginx's `aio threads`)
// and parks the connection in the readingDisk phase until the read is done;
// from then on the helpers read a window ahead of what is sent.
import HTTP1
import ServerSystem

extension ConnectionDriver {
    /// Checks that the next `count` bytes of `body` are cached; if not, starts a read-ahead and
    /// returns the connection's status (parked), else nil: send them now (at most up to
    /// `cachedThrough`, which the caller bounds its send by). A probe answers for its page only,
    /// so the chunk's first and last pages are asked; a cold file misses at the first, and the
    /// read-ahead brings in a run of pages from there. Bytes short of `cachedThrough` are not
    /// asked about again: a transport that sends a chunk in several turns (TLS without kernel
    /// TLS, a slow client) asks once per chunk, not once per turn.
    func readAheadIfCold<T: Transport & ~Copyable>(_ region: FileRegion, count: Int, of body: PendingBody,
                                                   on connection: Connection<T>) -> ConnectionStatus? {
        let end = body.offset + count
        if body.offset < body.cachedThrough { return nil }
        let first = PageCache.residency(of: region.fd, at: body.offset)
        let last = first == .cached && count > 1 ? PageCache.residency(of: region.fd, at: end - 1) : first
        if first == .unknown || last == .unknown {
            // The file system cannot tell: send as without read-ahead, and stop asking for this body.
            body.cachedThrough = .max
            return nil
        }
        if last == .cached {
            body.cachedThrough = end
            if body.readAheadThrough > 0 { keepReadingAhead(region, of: body, past: end) }
            return nil
        }
        let length = min(body.remaining ?? count, max(count, fileSending.readAheadBytes))
        guard let serial = deferral?.startReadAhead(of: region, at: body.offset, count: length, token: connection.token) else {
            return nil
        }
        body.readAheadSerial = serial
        body.readAheadThrough = max(body.readAheadThrough, body.offset + length)
        record.add(.fileReadsOffloaded)
        keepReadingAhead(region, of: body, past: body.offset + length)
        connection.phase = .readingDisk
        return .idle
    }

    /// A body that has missed the cache once is cold: the helpers keep reading a window
    /// ahead of what is sent, without the connection waiting for them, so the disk works
    /// while the socket drains instead of in turns with it. A warm body never missed and
    /// costs no read at all.
    private func keepReadingAhead(_ region: FileRegion, of body: PendingBody, past position: Int) {
        let window = fileSending.readAheadBytes
        let bodyEnd = body.offset + (body.remaining ?? 0)
        let start = max(body.readAheadThrough, position)
        guard start < min(bodyEnd, position + window) else { return }
        let length = min(window, bodyEnd - start)
        deferral?.prefetch(region, at: start, count: length)
        body.readAheadThrough = start + length
        record.add(.fileReadsOffloaded)
    }

    /// The connection waits for its read-ahead: nothing is sent meanwhile, but a client gone away ends it at once.
    func waitForDisk<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus {
        connection.peerHungUp ? .closed : .idle
    }

    /// The read-ahead of the connection's file body is done: sending resumes. Returns nil
    /// when the completion is stale (the body is no longer waiting for it).
    func readAheadDone<T: Transport & ~Copyable>(_ connection: Connection<T>, with completion: Completion, loaded: Int,
                                                 via transport: borrowing T) -> ConnectionStatus? {
        guard connection.phase == .readingDisk, let body = connection.pendingBody,
              body.readAheadSerial == completion.serial else { return nil }
        body.readAheadSerial = nil
        // A failed read (0 bytes) still covers the next chunk, or the loop would ask forever:
        // sendfile then meets the failure itself.
        body.cachedThrough = body.offset + max(loaded, min(body.remaining ?? 0, fileSending.maxChunk))
        connection.endDiskRead()
        connection.madeProgress = true
        return writable(connection, via: transport)
    }
}
