// ConnectionDriver+Pump: sending a response body that an async sequence
// produces (BodyStream(chunks:), ChunkPump). Like any stream, a piece is taken
// only once the socket has taken the previous one; unlike a producer called on
// the loop, the pump may have nothing yet: the connection then waits for its
// producer (neither read nor written) until the task's next chunk nudges it.
// The blocking models have no loop to nudge: their thread waits for the chunk.
import HTTP1
import ServerSystem

extension ConnectionDriver {
    func sendPumped<T: Transport & ~Copyable>(_ pump: ChunkPump, of body: PendingBody, through output: ByteBuffer,
                                             via transport: borrowing T, on connection: Connection<T>) -> ConnectionStatus? {
        for _ in 0..<Self.bodyStepsPerTurn {
            if let status = writeStream(output, of: body, via: transport, on: connection) { return status }
            if body.produced { return nil }
            // Counted as the other streams' are, for the access log's bytes sent (ConnectionDriver+Body).
            let before = output.readableCount
            let pulled = pull(pump, of: body, into: output, token: connection.token)
            body.producedBytes += output.readableCount - before
            switch pulled {
            case .failed: return .closed
            case .end: body.produced = true
            case .pending:
                body.waitingForProducer = true
                return .outputPending
            case .bytes: break
            }
        }
        return writeStream(output, of: body, via: transport, on: connection) ?? .yielded
    }

    /// Appends the pump's next piece to `output` (framed as a chunk when the length is unknown).
    /// `.end` once the body is complete; `.failed` when the sequence threw or ended short of its length.
    private func pull(_ pump: ChunkPump, of body: PendingBody, into output: ByteBuffer, token: UInt64) -> ChunkPump.Pull {
        let wake = { self.wakeUp(for: token) }
        if body.chunked {
            var pulled = ChunkPump.Pull.end
            let piece = ChunkedWriter.appendPiece(into: output, maximum: Self.streamPiece) { space in
                pulled = pull(pump, into: space, orWake: wake)
                if case .bytes(let count) = pulled { return count }
                return pulled == .end ? 0 : -1
            }
            if piece == nil { return pulled }  // pending or failed: nothing was appended
            return piece == true ? .end : pulled
        }
        let limit = min(body.remaining ?? Self.streamPiece, Self.streamPiece)
        var pulled = ChunkPump.Pull.end
        output.withWritableSpace(minimum: limit, atMost: limit) { space in
            pulled = pull(pump, into: space, orWake: wake)
            if case .bytes(let count) = pulled { return count }
            return 0
        }
        switch pulled {
        case .bytes(let count):
            guard let remaining = body.remaining else { return pulled }
            body.remaining = remaining - count
            return remaining == count ? .end : pulled
        case .end:
            // HTTP/1.0 without a length: the close ends it; with a length, ending short of it cannot be completed.
            return (body.remaining ?? 0) == 0 || body.remaining == nil ? .end : .failed
        case .pending, .failed:
            return pulled
        }
    }

    /// One pull. On an event loop it never waits (`.pending` leaves a nudge for the loop);
    /// a blocking model's thread is the connection's own, and waits here for the chunk.
    private func pull(_ pump: ChunkPump, into space: UnsafeMutableRawBufferPointer,
                      orWake wake: () -> @Sendable () -> Void) -> ChunkPump.Pull {
        guard deferral == nil else { return pump.pull(into: space, orWake: wake) }
        while true {
            let ready = Semaphore()
            let pulled = pump.pull(into: space, orWake: { { ready.signal() } })
            guard pulled == .pending else { return pulled }
            ready.wait()
        }
    }

    /// How the pump tells this connection its next chunk is there: a nudge through the loop's eventfd.
    private func wakeUp(for token: UInt64) -> @Sendable () -> Void {
        let completions = deferral?.completions
        return { completions?.nudge(token) }
    }
}
