// ConnectionDriver+Body: sending a response body that follows its head as the
// socket drains: a file region with sendfile(2), resumed at its offset after
// EAGAIN, or a stream pulled a piece at a time while the socket keeps up. The
// stream's queued bytes never exceed one piece (32 KiB): the producer is asked
// for at most the room left, and pieces join the head (before the first) and
// each other, so the head goes out with the first piece and the last piece with
// the last chunk: a gzipped page is one write, as nginx's one writev (three
// sendto more were a tenth of gzip's throughput). The write timeout applies
// while the client does not read, and a connection that keeps the socket
// draining still yields the worker after a bounded amount.
import HTTP1
import ServerSystem

extension ConnectionDriver {
    /// Bytes of a stream queued at most: the most a stream adds to the connection's output.
    static let streamPiece = 32 * 1024
    /// Pulls joined into one write at most (the last is the end of the body, or a short piece).
    static let pullsPerWrite = 4
    /// The least room worth a pull, unless the last piece fell short (the end is near: it joins it).
    static let smallestPull = 8 * 1024
    /// Stream pieces per loop turn before the connection yields to the others (a file body sends one chunk per turn).
    static let bodyStepsPerTurn = 8

    /// Takes `response`'s file or stream body, if any, onto the connection: it is
    /// sent once the head is, and pipelined requests behind it wait until it is done.
    @inline(__always)
    func holdBody<T: Transport & ~Copyable>(of response: Response, for head: RequestHead, on connection: Connection<T>) {
        // Bytes in memory (every response of the hot path) went out with the head: nothing to hold.
        switch response.body {
        case .empty, .text, .bytes: return
        case .file, .stream: break
        }
        guard let body = PendingBody.holding(response, for: head) else { return }
        connection.pendingBody = body
    }

    /// Sends the pending body now that `output` (the head, and any responses before it) is sent.
    /// Returns nil once the body is complete, else the connection's status: `output` then keeps
    /// what the socket has not taken, in the connection's own buffer.
    func sendPendingBody<T: Transport & ~Copyable>(after output: ByteBuffer, on connection: Connection<T>,
                                                via transport: borrowing T) -> ConnectionStatus? {
        guard let body = connection.pendingBody else { return nil }
        let status = send(body, through: output, via: transport, on: connection)
        switch status {
        case nil:
            body.release()
            connection.pendingBody = nil
        case .closed?:
            body.release()
        default:
            // A non-nil `output` is what tells the event loop (and the write timeout) that output is pending.
            if connection.output == nil { connection.output = ByteBuffer(capacity: 0) }
        }
        return status
    }

    /// One turn of sending `body` through `transport`: generic, so each transport is specialised.
    /// Returns nil when the body is complete, else the connection's status.
    func send<T: Transport & ~Copyable>(_ body: PendingBody, through output: ByteBuffer, via transport: borrowing T,
                                         on connection: Connection<T>) -> ConnectionStatus? {
        switch body.source {
        case .file(let region): sendFile(region, of: body, via: transport, on: connection)
        case .stream(let stream): sendStream(stream, of: body, through: output, via: transport, on: connection)
        }
    }

    /// One sendfile(2) call of at most one chunk per loop turn, as nginx: a connection whose
    /// client reads fast would otherwise keep the worker for several chunks while the others wait.
    /// A body whose next bytes are not in the page cache waits for a helper to read them first.
    private func sendFile<T: Transport & ~Copyable>(_ region: FileRegion, of body: PendingBody, via transport: borrowing T,
                                                    on connection: Connection<T>) -> ConnectionStatus? {
        let remaining = body.remaining ?? 0
        var count = min(remaining, fileSending.maxChunk)
        if deferral?.diskReads != nil, region.length >= fileSending.probeMinimumBytes {
            if let status = readAheadIfCold(region, count: count, of: body, on: connection) { return status }
            // Only bytes seen cached: the turn that reaches `cachedThrough` asks again.
            count = min(count, body.cachedThrough - body.offset)
        }
        let outcome: WriteOutcome
        do {
            outcome = try transport.sendFile(from: region.fd, offset: &body.offset, count: count)
        } catch {
            logger.debug("\(error)")
            return .closed
        }
        switch outcome {
        case .wrote(0):
            // The file shrank under the response: its Content-Length can no longer be honoured.
            logger.debug("sendfile(fd \(transport.fd)): file ended \(remaining) bytes early")
            return .closed
        case .wrote(let sent):
            body.remaining = remaining - sent
            record.add(.bytesOut, UInt64(sent))
            record.add(.fileBytesOut, UInt64(sent))
            connection.madeProgress = true
            // Even a short count yields rather than waits for EPOLLOUT: only EAGAIN promises an edge.
            return remaining == sent ? nil : .yielded
        case .wouldBlock: return .outputPending
        case .closed: return .closed
        }
    }

    /// Pulls pieces into the room the stream's queued bytes leave, then writes them with what precedes them (the head).
    private func sendStream<T: Transport & ~Copyable>(_ stream: BodyStream, of body: PendingBody, through output: ByteBuffer,
                                                      via transport: borrowing T, on connection: Connection<T>) -> ConnectionStatus? {
        if let pump = stream.pump { return sendPumped(pump, of: body, through: output, via: transport, on: connection) }
        for _ in 0..<Self.bodyStepsPerTurn {
            var pulls = 0
            var lastFilled = true
            while !body.produced && pulls < Self.pullsPerWrite {
                let room = Self.streamPiece - (body.producedBytes - body.sentBytes)
                guard room >= Self.smallestPull || (!lastFilled && room > 0) else { break }
                let before = output.readableCount
                let outcome = produce(stream, of: body, into: output, atMost: room)
                let added = output.readableCount - before
                body.producedBytes += added
                lastFilled = added >= room
                switch outcome {
                case nil:
                    // What came before the failure (the head, whole pieces) still goes, so the client
                    // sees a body cut short (RFC 9112 §8), not a connection closed without an answer.
                    _ = writeStream(output, of: body, via: transport, on: connection)
                    return .closed
                case true?: body.produced = true
                case false?: break
                }
                pulls += 1
            }
            // What the socket did not take waits in `output` (moved to the connection's own buffer).
            if let status = writeStream(output, of: body, via: transport, on: connection) { return status }
            if body.produced { return nil }
        }
        return .yielded
    }

    /// Writes `output` and notes the body bytes sent: the body's bytes are the tail of what was queued.
    func writeStream<T: Transport & ~Copyable>(_ output: ByteBuffer, of body: PendingBody, via transport: borrowing T,
                                                       on connection: Connection<T>) -> ConnectionStatus? {
        let status = write(output, via: transport, on: connection)
        body.sentBytes = max(body.sentBytes, body.producedBytes - output.readableCount)
        return status
    }

    /// Appends the stream's next piece (at most `maximum` bytes of it) to `output`. Returns true when the body is complete,
    /// nil when the producer failed or a stream of known length ended short of it (the response cannot be finished).
    private func produce(_ stream: BodyStream, of body: PendingBody, into output: ByteBuffer, atMost maximum: Int) -> Bool? {
        if body.chunked {
            return ChunkedWriter.appendPiece(into: output, maximum: maximum) { stream.produce(into: $0) }
        }
        let limit = min(body.remaining ?? maximum, maximum)
        var failed = false
        let count = output.withWritableSpace(minimum: limit, atMost: limit) { space in
            let count = stream.produce(into: space)
            precondition(count <= space.count, "a producer wrote outside the buffer it was given")
            failed = count < 0
            return max(count, 0)
        }
        if failed { return nil }
        guard let remaining = body.remaining else { return count == 0 }  // HTTP/1.0: the close ends it
        body.remaining = remaining - count
        if remaining == count { return true }
        return count == 0 ? nil : false
    }

    /// Writes `output` until it is sent (nil) or the socket is full (the rest moves to the connection).
    /// Inlined: it is the response path of every request.
    @inline(__always)
    func write<T: Transport & ~Copyable>(_ output: ByteBuffer, via transport: borrowing T, on connection: Connection<T>,
                                         moreFollows: Bool = false) -> ConnectionStatus? {
        while !output.isEmpty {
            let outcome: WriteOutcome
            do {
                outcome = try output.withReadableBytes { try transport.write($0, moreFollows: moreFollows) }
            } catch {
                logger.debug("\(error)")
                return .closed
            }
            switch outcome {
            case .wrote(let count):
                output.consume(count)
                record.add(.bytesOut, UInt64(count))
                connection.madeProgress = true
            case .closed: return .closed
            case .wouldBlock:
                if output === scratchOutput { connection.output = output.withReadableBytes { ByteBuffer(copying: $0) } }
                return .outputPending
            }
        }
        return nil
    }
}
