// ConnectionDriver+Flush: sending what the request cycle answered. Responses
// wait in the worker's shared output buffer, or in the connection's own when
// the socket did not take them all; a file or stream body follows its head
// (ConnectionDriver+Body); and a connection whose last response said close
// ends here, at once or lingering (ConnectionDriver+Closing).
import HTTP1
import ServerSystem

extension ConnectionDriver {
    /// Writes pending responses until they are sent or the socket is full; what
    /// the socket did not take moves into the connection's own output buffer.
    func flush<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        defer {
            resetScratchOutput()
            connection.settlePhase()
        }
        // As in `readable`: the shared buffer is passed as it is, without a retain.
        if let own = connection.output { return flush(own, on: connection, via: transport) }
        return flush(scratchOutput, on: connection, via: transport)
    }

    /// Empties the shared output buffer for the next connection, and gives back what
    /// a large response made it grow by (it is the worker's, and lives as long).
    private func resetScratchOutput() {
        scratchOutput.clear(shrinkingTo: Self.readSize)
    }

    private func flush<T: Transport & ~Copyable>(_ output: ByteBuffer, on connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        // A file body follows the head: MSG_MORE lets a small file share its packet. A stream's
        // head waits to go out with its first piece, in one write (ConnectionDriver+Body).
        let isFile = connection.pendingBody?.isFile
        if connection.closeAfterFlush { transport.closeFollowsOutput() }
        if isFile != false, let status = write(output, via: transport, on: connection, moreFollows: isFile == true) {
            return status
        }
        if connection.pendingBody != nil, let status = sendPendingBody(after: output, on: connection, via: transport) { return status }
        connection.output = nil
        guard connection.closeAfterFlush else { return .idle }
        guard connection.lingerAfterFlush else { return .closed }  // close(2) sends the FIN after the response
        startLingering(connection, via: transport)
        return drain(connection, via: transport)
    }
}
