// ConnectionDriver+Streaming: request bodies streamed to a handler that is
// already running. For a handler that streams (HTTPHandler.streamedBodyLimit),
// heads are parsed before their bodies are framed; a route with a limit of its
// own gets its handler started with the head alone, and the body follows as it
// arrives (BodyDecoder frames it, StreamedRequestBody carries it): read while
// the handler keeps up, not read (EPOLLIN dropped, the client's window closes)
// while it is `pauseAt` behind, read again when it has caught up. A body over
// the route's limit, declared (Content-Length) or grown (chunked), gets 413.
// The requests pipelined behind it wait in the input until the handler answers.
import HTTP1
import ServerSystem

/// A request body being received for its handler.
final class BodyReception {
    var decoder: BodyDecoder
    let body: StreamedRequestBody
    /// Body bytes read from the socket so far, for the minimum body rate (MinimumBodyRate).
    var bytesIn = 0
    /// When reading paused because the handler was behind (monotonic ms): the client is not
    /// slow meanwhile, so the time paused moves the rate's clock on when reading resumes.
    var pausedAt: Int?

    init(decoder: BodyDecoder, body: StreamedRequestBody) {
        self.decoder = decoder
        self.body = body
    }
}

extension ConnectionDriver {
    /// Parses the request at the front of `input` for a handler that may stream bodies.
    /// Returns nil when the request was taken here (its body streams, or it was refused).
    @inline(never)
    func parseStreaming<T: Transport & ~Copyable>(_ input: ByteBuffer, on connection: Connection<T>) -> ParseResult? {
        let parsed = input.withReadableBytes { parser.parseHead($0, progress: &connection.progress, fields: fields.buffer) }
        guard case .head(let head) = parsed else { return parsed }
        var headOnly = head
        headOnly.bodyLength = 0
        headOnly.totalLength = head.headLength
        var request = input.withReadableBytes { Request(bytes: $0, head: headOnly, fields: UnsafeBufferPointer(fields.buffer)) }
        guard let limit = handler.streamedBodyLimit(for: request), let deferral else {
            return input.withReadableBytes { parser.frameBody(after: head, $0, progress: &connection.progress, fields: fields.buffer) }
        }
        if !head.isChunked && head.bodyLength > limit {
            refuse(.contentTooLarge, input, connection)
            return nil
        }
        if let clientAddresses { request.clientEntry = clientAddresses.client(for: connection, request: request) }
        var response = Response()
        handler.respond(to: request, with: &response)
        guard let work = response.deferred else {
            answerUnread(response, for: headOnly, input, connection)
            return nil
        }
        let token = connection.token
        let completions = deferral.completions
        let body = StreamedRequestBody(resumeReading: { completions.nudge(token) })
        var owned = OwnedRequest(request)
        owned.bodySource = body
        connection.awaitingHandler = deferral.start(work, request: owned, head: headOnly, token: token)
        input.consume(head.headLength)
        connection.progress.reset()
        connection.sentContinue = false
        connection.reception = BodyReception(decoder: BodyDecoder(for: head, limit: limit, limits: parser.limits), body: body)
        connection.phase = .receivingBody(paused: false)
        connection.madeProgress = true
        // RFC 9110 §10.1.1: the client waits for this before it sends the body.
        if head.expectsContinue {
            scratchOutput.append("HTTP/1.1 100 Continue\r\n\r\n")
            record.countResponse(status: 100)
        }
        // The body bytes that came with the head (or, for a body of length 0, its end at once).
        _ = takeBody(from: input, on: connection)
        return nil
    }

    /// One turn of receiving the body: a read, and what it brought handed to the handler.
    /// Returns the connection's status when this turn is over for it, nil to read again.
    func receiveBody<T: Transport & ~Copyable>(on connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus? {
        guard let reception = connection.reception else { return nil }
        // What the socket holds is a matter for the body's reads from here on (not the head's short read).
        connection.socketDrained = false
        if connection.phase == .receivingBody(paused: true) {
            // Paused, the connection asks epoll for nothing, yet a reset is still reported on every
            // wait (level-triggered): left unanswered it would spin the loop until the handler caught up.
            guard connection.connectionGone else { return .idle }
            abandonReception(connection)
            return .closed
        }
        if reception.body.pauseIfBehind() {
            connection.phase = .receivingBody(paused: true)
            reception.pausedAt = clock()
            return .idle
        }
        let input: ByteBuffer
        if let own = connection.input {
            input = own
        } else {
            input = ByteBuffer(capacity: Self.readSize)
            connection.input = input
        }
        let read: SocketRead
        do {
            read = try input.read(from: transport, minimum: 4096, atMost: Self.readSize)
        } catch {
            logger.debug("\(error)")
            abandonReception(connection)
            return .closed
        }
        guard case .bytes(let count) = read.outcome else {
            if read.outcome == .wouldBlock { return .idle }
            // The client went away before the body's end: the handler's next read throws.
            abandonReception(connection)
            return .closed
        }
        record.add(.bytesIn, UInt64(count))
        connection.madeProgress = true
        reception.bytesIn += count
        // Every byte restarts the body timeout: without a rate, a trickle would hold the
        // connection and its handler (a pool thread, for a blocking one) for ever.
        if bodyRate.isViolated(on: connection, bodyBytes: reception.bytesIn, now: clock()) {
            refuseBody(.requestTimeout, input, connection)
            return flush(connection, via: transport)
        }
        if takeBody(from: input, on: connection) != nil { return flush(connection, via: transport) }
        if connection.reception == nil { return .idle }  // complete: the requests behind it wait for the answer
        let emptied = count < read.offered && !connection.peerHungUp && !transport.hasBufferedInput
        return emptied ? .idle : nil
    }

    /// Decodes the body bytes at the front of `input` and hands them to the handler in one chunk.
    /// Returns `.closed` when the body was refused (its answer is queued), nil otherwise.
    private func takeBody<T: Transport & ~Copyable>(from input: ByteBuffer, on connection: Connection<T>) -> ConnectionStatus? {
        guard let reception = connection.reception else { return nil }
        var chunk: [UInt8] = []
        let step = input.withReadableBytes { bytes in
            chunk.reserveCapacity(bytes.count)
            return reception.decoder.decode(bytes) { chunk.append(contentsOf: $0) }
        }
        reception.body.append(chunk)
        switch step {
        case .needMore(let consumed):
            input.consume(consumed)
        case .finished(let consumed):
            input.consume(consumed)
            reception.body.end(nil)
            connection.reception = nil
            connection.phase = .handling
            if input.isEmpty && connection.input === input { connection.input = nil }
        case .invalid(let status):
            refuseBody(status, input, connection)
            return .closed
        }
        return nil
    }

    /// The body broke its framing or outgrew the route's limit: the handler is told (its
    /// read throws) and its answer dropped; the client gets `status`, and the connection closes.
    private func refuseBody<T: Transport & ~Copyable>(_ status: HTTPStatus, _ input: ByteBuffer, _ connection: Connection<T>) {
        abandonReception(connection, error: status == .contentTooLarge ? .tooLarge : .incomplete)
        refuse(status, input, connection)
        connection.endHandling()
    }

    /// A body that will not be received: the handler's read throws, and its answer will be dropped.
    func abandonReception<T: Transport & ~Copyable>(_ connection: Connection<T>, error: RequestBodyError = .incomplete) {
        connection.reception?.body.end(error)
        connection.reception = nil
        connection.awaitingHandler?.cancel()
        connection.awaitingHandler = nil
    }

    /// A timeout while the body arrives (408, the client is slow) or while the handler is
    /// behind (503): answered, and the handler's task cancelled.
    func receptionTimedOut<T: Transport & ~Copyable>(_ connection: Connection<T>, answering status: HTTPStatus,
                                                  via transport: borrowing T) -> ConnectionStatus {
        refuseBody(status, connection.input ?? scratchInput, connection)
        connection.input = nil
        return flush(connection, via: transport)
    }

    /// A handler that answered a streamed route inline: its body is never read, so the
    /// connection closes after the answer, lingering to discard what the client still sends.
    private func answerUnread<T: Transport & ~Copyable>(_ response: Response, for head: RequestHead, _ input: ByteBuffer,
                                                       _ connection: Connection<T>) {
        writer.write(response, for: head, keepAlive: false, into: scratchOutput)
        record.add(.requests)
        record.countResponse(status: response.status.code)
        refuseFurtherInput(input, connection, linger: true)
        holdBody(of: response, for: head, on: connection)
    }

    /// A body's consumer or producer nudged the loop: a connection that waits for it goes on.
    /// Returns nil when the connection was not waiting (the nudge is stale).
    package func resume<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus? {
        switch connection.phase {
        case .receivingBody(paused: true):
            connection.phase = .receivingBody(paused: false)
            if let reception = connection.reception, let pausedAt = reception.pausedAt {
                connection.bodyClockStart += clock() - pausedAt
                reception.pausedAt = nil
            }
            return readable(connection)
        case .awaitingProducer:
            connection.pendingBody?.waitingForProducer = false
            connection.phase = .writing
            return writable(connection)
        default:
            return nil
        }
    }
}

extension Connection where T: ~Copyable {
    /// The connection is closing: a body being received fails for its handler, and a streamed
    /// response's producer task is cancelled.
    func abandonStreams() {
        reception?.body.end(.incomplete)
        reception = nil
        pendingBody?.abandon()
    }
}
