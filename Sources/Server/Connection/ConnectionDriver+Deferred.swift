// ConnectionDriver+Deferred: the request cycle around a handler that answers
// later (DeferredWork). The request is copied out and consumed, the connection
// waits (parsing nothing further, so responses keep their order), and the answer,
// when the event loop brings it back, is written as an inline one would have
// been; then the pipelined requests that waited in the input are answered.
import HTTP1
import ServerSystem

extension ConnectionDriver {
    /// Starts `work` for `request` and parks the connection until it answers.
    /// Never inlined: inlined into the request cycle, starting a Task would make every
    /// request instantiate `TaskPriority?`'s metadata and size a stack slot by it.
    @inline(never)
    func handOff<T: Transport & ~Copyable>(_ work: DeferredWork, _ request: Request, _ head: RequestHead, to deferral: DeferredDispatch,
                 _ input: ByteBuffer, _ connection: Connection<T>) {
        connection.awaitingHandler = deferral.start(work, request: OwnedRequest(request), head: head,
                                                    token: connection.token)
        connection.phase = .handling
        input.consume(head.totalLength)
        connection.progress = ParseProgress()
        connection.sentContinue = false
        // The handling timeout starts now, not when the connection last moved bytes.
        connection.madeProgress = true
    }

    /// The connection waits for its handler: nothing is read meanwhile (the socket
    /// is not drained into memory), except that a client gone away ends it at once.
    func waitForHandler<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus {
        connection.peerHungUp ? .closed : .idle
    }

    /// The answer to the connection's deferred request has come back: it is written
    /// and sent, then the pipelined requests behind it are answered. Returns nil when
    /// the answer is stale (the connection timed out waiting for it): it is dropped.
    /// The response is moved out of `completion`, which is left with an empty one.
    package func complete<T: Transport & ~Copyable>(_ connection: Connection<T>, with completion: inout Completion) -> ConnectionStatus? {
        complete(connection, with: &completion, via: connection.transport)
    }

    func complete<T: Transport & ~Copyable>(_ connection: Connection<T>, with completion: inout Completion,
                                         via transport: borrowing T) -> ConnectionStatus? {
        if let loaded = completion.readAhead { return readAheadDone(connection, with: completion, loaded: loaded, via: transport) }
        guard let ticket = connection.awaitingHandler, ticket.serial == completion.serial else { return nil }
        connection.awaitingHandler = nil
        // A handler that answers before its streamed body's end: the rest is never read, so the
        // connection closes after the answer (lingering, so the unread bytes cause no reset).
        let bodyUnread = connection.reception != nil
        if bodyUnread { abandonReception(connection) }
        connection.endHandling()
        var response = completion.takeResponse()
        let head = ticket.head
        if let compression { ticket.request.withRequest { compression.apply(to: &response, for: $0, head: head) } }
        let keepAlive = head.keepAlive && !response.closeConnection && !draining && !bodyUnread
        // Responses sent before it may still wait for the client: this one goes after them.
        writer.write(response, for: head, keepAlive: keepAlive, into: connection.output ?? scratchOutput)
        record.add(.requests)
        record.countResponse(status: response.status.code)
        if let accessLog { ticket.request.withRequest { log($0, head, response, bodyWritten: false, on: connection, to: accessLog) } }
        connection.requestsServed &+= 1
        connection.madeProgress = true
        if !keepAlive, let input = connection.input {
            refuseFurtherInput(input, connection, linger: !input.isEmpty || bodyUnread)
            connection.input = nil
        } else if !keepAlive {
            refuseFurtherInput(scratchInput, connection, linger: bodyUnread)
        }
        // A file or stream body (a gzipped one too) follows its head, as for an inline answer.
        holdBody(of: response, for: head, on: connection)
        if heldLogLine != nil { handOverLogLine(to: connection) }
        // The requests read behind it raised no new edge: answer them before reading again.
        connection.requestsDeferred = connection.input != nil
        let status = flush(connection, via: transport)
        guard status == .idle else { return status }
        // The request's read left the socket empty and no event came since: a read now would
        // only meet EAGAIN (half the time under keep-alive, the client still waiting for this
        // answer). What arrives next is reported: level mode asks for EPOLLIN again (or never
        // stopped), edge mode sees a new edge.
        if connection.socketDrained && !connection.requestsDeferred && !connection.lingering && !connection.peerHungUp {
            return .idle
        }
        return readable(connection, via: transport)
    }

    /// The handler took longer than the connection may wait: 503 (RFC 9110 §15.6.4),
    /// `Connection: close`, and its answer, if it ever comes, is dropped.
    func handlerTimedOut<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        connection.awaitingHandler?.cancel()
        connection.awaitingHandler = nil
        connection.endHandling()
        connection.input = nil
        writer.writeError(.serviceUnavailable, into: scratchOutput)
        record.countResponse(status: HTTPStatus.serviceUnavailable.code)
        accessLog?.recordRefused(on: transport.fd, status: HTTPStatus.serviceUnavailable.code,
                                 bodyBytes: HTTPStatus.serviceUnavailable.errorBodyLength)
        connection.closeAfterFlush = true
        connection.lingerAfterFlush = true
        return flush(connection, via: transport)
    }
}
