// ConnectionDriver+Closing: how a connection ends. A timed-out request is
// answered (408) before the close; an idle connection in a graceful drain and
// a connection after its final response close lingering, as nginx does: the
// write side is shut and what the client still sends is read and discarded,
// so the kernel sends no reset that could destroy the response unread.
import HTTP1
import ServerSystem

extension ConnectionDriver {
    /// The client took too long: answer `status` (408) if a request had started, then close.
    package func timedOut<T: Transport & ~Copyable>(_ connection: Connection<T>, answering status: HTTPStatus) -> ConnectionStatus {
        timedOut(connection, answering: status, via: connection.transport)
    }

    func timedOut<T: Transport & ~Copyable>(_ connection: Connection<T>, answering status: HTTPStatus, via transport: borrowing T) -> ConnectionStatus {
        if connection.reception != nil { return receptionTimedOut(connection, answering: status, via: transport) }
        if connection.phase == .handling { return handlerTimedOut(connection, via: transport) }
        guard connection.input != nil, connection.output == nil, !connection.lingering else { return .closed }
        connection.input = nil
        writer.writeError(status, into: scratchOutput)
        record.countResponse(status: status.code)
        accessLog?.recordRefused(on: transport.fd, status: status.code, bodyBytes: status.errorBodyLength)
        connection.closeAfterFlush = true
        connection.lingerAfterFlush = true
        return flush(connection, via: transport)
    }

    /// Ends a connection that waits between requests without a reset: the write side
    /// is shut (the client reads end of file) and what it may have sent meanwhile is drained.
    package func closeIdle<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus {
        closeIdle(connection, via: connection.transport)
    }

    func closeIdle<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        connection.closeAfterFlush = true
        startLingering(connection, via: transport)
        return drain(connection, via: transport)
    }

    /// Like nginx's lingering close: shut the write side (the client reads the
    /// response, then EOF) and keep reading, to discard what the client still
    /// sends, until it closes too or the linger timeout ends it. Closing with
    /// unread bytes would make the kernel send a reset that can destroy the
    /// response before the client has read it.
    func startLingering<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) {
        connection.phase = .lingering
        connection.input = nil
        transport.shutdownWrite()
    }

    func drain<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        for _ in 0..<Self.readsPerTurn {
            let read = (try? scratchInput.read(from: transport, minimum: Self.readSize, keeping: false)) ?? SocketRead(outcome: .closed, offered: 0)
            guard case .bytes(let count) = read.outcome else { return read.outcome == .wouldBlock ? .idle : .closed }
            if count < read.offered && !connection.peerHungUp && !transport.hasBufferedInput { return .idle }
        }
        return .yielded
    }
}
