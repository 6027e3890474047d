// ConnectionDriver: the request cycle of one connection, run when its socket
// is ready: read into a buffer, parse every complete request, ask the handler,
// serialise the responses back to back, and send them with one write. The
// worker's shared scratch buffers carry the common case (whole requests in
// one read, responses sent at once) with no allocation and no copy; only
// leftovers move into the connection's own buffers. What one connection can
// make the worker hold is bounded: a read takes at most `readSize` bytes, and
// pipelined requests are answered only while less than `queuedOutputBound` of
// responses wait to be sent; the rest wait in the input until those are gone.
// Every read, write and shutdown goes through a `Transport` parameter, generic
// so the socket's case is specialised (no witness call per read): the
// ConnectionService entry points pass the connection's own transport.
// Sending is in ConnectionDriver+Flush, ending a connection in +Closing.
import HTTP1
import Logging
import ServerSystem

/// What the event loop must do with a connection after servicing it.
package enum ConnectionStatus: Equatable {
    /// Keep it; wait for readability.
    case idle
    /// Keep it; output is pending, so wait for writability (and read nothing meanwhile).
    case outputPending
    /// Keep it; it used up its share of this loop turn with input still unread: serve it again next turn.
    case yielded
    /// Close it.
    case closed
}

package final class ConnectionDriver {
    let parser: RequestParser
    /// The worker's header fields: those of the request being answered (see HeaderStorage).
    let fields: HeaderStorage
    let bodyRate: MinimumBodyRate
    let writer: ResponseWriter
    let handler: any HTTPHandler
    /// The handler may stream request bodies (HTTPHandler.streamsRequestBodies) and this worker
    /// can (an event loop, with deferred work): heads are then parsed before their bodies are framed.
    let streamsBodies: Bool
    /// Set once, when the worker starts draining; unchecked because only the
    /// single-threaded loop touches it, and a dynamic check per request would cost.
    @exclusivity(unchecked) private(set) var draining = false
    /// The shared buffers are internal, not private, so tests can see them shrink back after
    /// a spike and the connection fuzzer can check they hold nothing between connections.
    let scratchInput: ByteBuffer
    let scratchOutput: ByteBuffer
    let logger: Logger
    /// Where this worker's traffic is counted for /metrics.
    let record: WorkerRecord
    /// The access log, nil when it is off: then a request costs one untaken branch.
    let accessLog: AccessLog?
    /// The access log line of the file body just answered, until `holdBody` gives it to the body (ConnectionDriver+AccessLog).
    var heldLogLine: (log: AccessLog, line: AccessLogLine.Held)?
    /// Monotonic milliseconds, for the body rate: read only while a body arrives in pieces.
    /// A parameter so that a test or the fuzzer can run the connection on a clock of its own.
    let clock: () -> Int
    /// Where deferred handler work runs (the event loop's worker); nil in the blocking models, which run it inline.
    let deferral: DeferredDispatch?
    /// The clients proxies named (PROXY headers, forwarded headers); nil unless configured,
    /// and then a request costs one untaken branch.
    let clientAddresses: ClientAddresses?
    /// On-the-fly gzip, nil when it is off: then a request costs one untaken branch.
    let compression: ResponseCompression?
    /// sendfile's chunk and when a file body asks the page cache first (ConnectionDriver+Body, +Disk).
    let fileSending: FileSendSettings

    /// Bytes asked of the kernel per read, into the shared buffer or a connection's own
    /// (however large a body has made that grow); also the shared output buffer's normal size.
    static let readSize = 64 * 1024
    /// Responses queued for one connection past which no further pipelined request is
    /// parsed until they are sent (Apache flushes at 64 KiB; nginx answers one at a time).
    /// Half the shared output buffer, so the response that crosses the bound usually
    /// still fits it; 16 pipelined small responses (about 2.5 KiB) never come near it.
    static let queuedOutputBound = 32 * 1024
    /// Reads one connection may do per loop turn, so a client flooding pipelined
    /// requests cannot starve the others (edge-triggered mode would otherwise drain it forever).
    static let readsPerTurn = 16

    package init(limits: RequestLimits, writer: ResponseWriter, handler: any HTTPHandler, logger: Logger,
                 record: WorkerRecord = .detached, accessLog: AccessLog? = nil, bodyRate: MinimumBodyRate = MinimumBodyRate(),
                 clock: @escaping () -> Int = Clock.monotonicMilliseconds, deferral: DeferredDispatch? = nil,
                 clientAddresses: ClientAddresses? = nil, compression: CompressionSettings = CompressionSettings(),
                 fileSending: FileSendSettings = FileSendSettings()) {
        self.clientAddresses = clientAddresses
        self.fileSending = fileSending
        parser = RequestParser(limits: limits)
        fields = HeaderStorage(limits: limits)
        self.deferral = deferral
        self.compression = ResponseCompression(compression, record: record)
        self.bodyRate = bodyRate
        self.clock = clock
        self.record = record
        self.accessLog = accessLog
        self.writer = writer
        self.handler = handler
        streamsBodies = deferral != nil && handler.streamsRequestBodies
        self.logger = logger
        scratchInput = ByteBuffer(capacity: Self.readSize)
        scratchOutput = ByteBuffer(capacity: Self.readSize)
    }

    /// The socket is readable: serve what has arrived.
    ///
    /// Reads until the kernel has nothing more. A read that fills less than the
    /// space offered has emptied the socket's queue, so the loop stops there
    /// instead of paying for one more read to see EAGAIN; in edge-triggered mode
    /// that is still safe, because any byte arriving later raises a new edge (nginx
    /// relies on the same rule). The exception is a FIN that arrived with the data:
    /// it raises no further edge, so once the peer has hung up the loop reads on
    /// until it sees the end of file; and so does a transport that holds input of its own
    /// (TLS decrypts whole records), which no edge will ever announce.
    package func readable<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus {
        readable(connection, via: connection.transport)
    }

    /// `readable` over any transport: generic, so the socket's case is specialised (see Transport).
    package func readable<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        // Input may have arrived (in edge-triggered mode this call may be its only report): until a
        // read comes back short again, a deferred answer reads after it is written (`complete`).
        connection.socketDrained = false
        if connection.lingering { return drain(connection, via: transport) }
        // A streamed response waits for its producer's nudge; a client gone meanwhile ends it (and the task).
        if connection.phase == .awaitingProducer { return connection.peerHungUp ? .closed : .idle }
        // Backpressure: a client that is not reading its responses is not read from either.
        if connection.output != nil { return connection.pendingBody == nil ? .outputPending : writable(connection, via: transport) }
        for _ in 0..<Self.readsPerTurn {
            if connection.reception != nil {
                if let status = receiveBody(on: connection, via: transport) { return status }
                continue
            }
            if connection.awaitingHandler != nil { return waitForHandler(connection) }
            // Two calls rather than `connection.input ?? scratchInput`: the shared
            // buffer is then passed as it is, with no retain and release per read.
            let status = if connection.requestsDeferred {
                answerDeferredRequests(on: connection, via: transport)
            } else if let own = connection.input {
                readAndRespond(into: own, minimumSpace: 4096, on: connection, via: transport)
            } else {
                readAndRespond(into: scratchInput, minimumSpace: Self.readSize, on: connection, via: transport)
            }
            if let status { return status }
        }
        return .yielded
    }

    /// One read into `input` and the responses it completes. Returns the
    /// connection's status when this turn is over for it, nil to read again.
    private func readAndRespond<T: Transport & ~Copyable>(into input: ByteBuffer, minimumSpace: Int, on connection: Connection<T>,
                                                        via transport: borrowing T) -> ConnectionStatus? {
        let read: SocketRead
        do {
            read = try input.read(from: transport, minimum: minimumSpace, atMost: Self.readSize)
        } catch {
            logger.debug("\(error)")
            return .closed
        }
        guard case .bytes(let count) = read.outcome else {
            return read.outcome == .wouldBlock ? .idle : .closed
        }
        record.add(.bytesIn, UInt64(count))
        connection.madeProgress = true
        // A TLS read cut short because OpenSSL must write first (awaitedReadiness) left records behind.
        let socketEmptied = count < read.offered && !connection.peerHungUp && !transport.hasBufferedInput
            && transport.awaitedReadiness == nil
        connection.socketDrained = socketEmptied
        return respondAndFlush(input, on: connection, via: transport, socketEmptied: socketEmptied)
    }

    /// Answers the requests held back at the output bound, now that their predecessors'
    /// responses are sent. They were read already, so in edge-triggered mode no event
    /// would ever come for them: they are served here, before the socket is read again.
    private func answerDeferredRequests<T: Transport & ~Copyable>(on connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus? {
        connection.requestsDeferred = false
        guard let input = connection.input else { return nil }
        // Whatever arrived while the output was blocked raised no new edge: read it next.
        return respondAndFlush(input, on: connection, via: transport, socketEmptied: false)
    }

    /// Answers the requests in `input`, keeps the leftover and sends the responses.
    /// Returns the connection's status when this turn is over for it, nil to go on:
    /// to answer requests held back at the output bound, or to read again.
    private func respondAndFlush<T: Transport & ~Copyable>(_ input: ByteBuffer, on connection: Connection<T>, via transport: borrowing T,
                                                        socketEmptied: Bool) -> ConnectionStatus? {
        respond(to: input, on: connection)
        keepLeftover(of: input, in: connection)
        let status = flush(connection, via: transport)
        if status != .idle || connection.lingering { return status }
        if connection.requestsDeferred || !socketEmptied { return nil }
        return status
    }

    /// The socket is writable: send pending output, then go back to reading.
    package func writable<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus {
        writable(connection, via: connection.transport)
    }

    package func writable<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        guard connection.output != nil else { return .idle }
        // A helper is reading the body's next bytes from the disk: nothing to send until it is done.
        if connection.phase == .readingDisk { return waitForDisk(connection) }
        let status = flush(connection, via: transport)
        // While responses waited for the client, no body was read: that time is not the body's.
        connection.bodyClockRequest = -1
        // In edge-triggered mode the input that arrived while output was blocked raised
        // no new edge, so it must be read now; in level-triggered mode this read is cheap.
        return status == .idle ? readable(connection, via: transport) : status
    }

    /// From now on every response says `Connection: close` and ends its connection.
    package func beginDrain() {
        draining = true
    }

    /// Answers the complete requests at the front of `input`, appending the
    /// responses to the shared output buffer, in request order, until the queued
    /// output reaches its bound. It is called only while the connection has no output
    /// of its own pending (see `readable`), so the shared buffer holds all of it.
    private func respond<T: Transport & ~Copyable>(to input: ByteBuffer, on connection: Connection<T>) {
        while !connection.closeAfterFlush && !input.isEmpty {
            // A client pipelining requests for large responses and not reading them
            // would otherwise make the worker render (and hold) all of them at once.
            guard scratchOutput.readableCount < Self.queuedOutputBound else {
                connection.requestsDeferred = true
                return
            }
            // A redirect-https listener answers every request with its redirect: nothing streams there.
            let parsed: ParseResult? = if streamsBodies && connection.httpsRedirect == nil {
                parseStreaming(input, on: connection)
            } else {
                input.withReadableBytes { parser.parse($0, progress: &connection.progress, fields: fields.buffer) }
            }
            switch parsed {
            case nil, .head?:
                // The request's body is streamed to its handler (ConnectionDriver+Streaming), or refused.
                return
            case .incomplete?:
                sendContinueIfExpected(connection)
                let bodyBytes = input.readableCount - connection.progress.bodyStart
                if connection.progress.awaitingBody && bodyRate.isViolated(on: connection, bodyBytes: bodyBytes, now: clock()) {
                    refuse(.requestTimeout, input, connection)
                }
                return
            case .invalid(let status)?:
                refuse(status, input, connection)
            case .complete(var head)?:
                if head.isChunked { head.bodyLength = input.withMutableReadableBytes { ChunkedBody.decode($0, from: head.headLength) } }
                var response = Response()
                var request = input.withReadableBytes { Request(bytes: $0, head: head, fields: UnsafeBufferPointer(fields.buffer)) }
                if let clientAddresses { request.clientEntry = clientAddresses.client(for: connection, request: request) }
                if let redirect = connection.httpsRedirect {
                    redirect.respond(to: request, with: &response)
                } else {
                    handler.respond(to: request, with: &response)
                }
                if let work = response.deferred {
                    if let deferral { return handOff(work, request, head, to: deferral, input, connection) }
                    response = work.runInline(OwnedRequest(request))
                }
                if let compression { compression.apply(to: &response, for: request, head: head) }
                let keepAlive = head.keepAlive && !response.closeConnection && !draining
                    && response.body.allowsKeepAlive(for: head.version)
                writer.write(response, for: head, keepAlive: keepAlive, into: scratchOutput)
                let bodyWritten = readSmallFileBody(of: response, for: head, on: connection)
                record.add(.requests)
                record.countResponse(status: response.status.code)
                // Logged before `consume`: the request's bytes are still in the buffer.
                if let accessLog { log(request, head, response, bodyWritten: bodyWritten, on: connection, to: accessLog) }
                input.consume(head.totalLength)
                connection.progress.reset()
                connection.sentContinue = false
                connection.requestsServed &+= 1
                // Bytes after a closing response would be read by nobody: linger so they cause no reset.
                if !keepAlive { refuseFurtherInput(input, connection, linger: !input.isEmpty) }
                // A file or stream body is sent after its head; the requests behind it wait their turn.
                if !bodyWritten { holdBody(of: response, for: head, on: connection) }
                if heldLogLine != nil { handOverLogLine(to: connection) }
                if connection.pendingBody != nil {
                    connection.requestsDeferred = !input.isEmpty
                    return
                }
            }
        }
    }

    /// RFC 9110 §10.1.1: a client that sent `Expect: 100-continue` waits for this
    /// interim response before sending the body (a request refused on its head gets
    /// its final status instead, from the parser).
    private func sendContinueIfExpected<T: Transport & ~Copyable>(_ connection: Connection<T>) {
        guard connection.progress.awaitingBody && connection.progress.expectsContinue && !connection.sentContinue else { return }
        scratchOutput.append("HTTP/1.1 100 Continue\r\n\r\n")
        record.countResponse(status: 100)
        connection.sentContinue = true
    }

    /// Answers `status` (an error) instead of the request at the front of `input`, then closes.
    func refuse<T: Transport & ~Copyable>(_ status: HTTPStatus, _ input: ByteBuffer, _ connection: Connection<T>) {
        writer.writeError(status, into: scratchOutput)
        record.countResponse(status: status.code)
        accessLog?.recordRefused(on: connection.transport.fd, status: status.code, bodyBytes: status.errorBodyLength)
        refuseFurtherInput(input, connection, linger: true)
    }

    /// After a response that closes the connection nothing else is answered.
    func refuseFurtherInput<T: Transport & ~Copyable>(_ input: ByteBuffer, _ connection: Connection<T>, linger: Bool) {
        connection.closeAfterFlush = true
        connection.lingerAfterFlush = linger
        input.clear()
    }

    /// Moves a partial request (or requests held back at the output bound) out of the
    /// shared buffer into the connection's own, drops the connection's buffer once it is
    /// empty, and shrinks it once a large body that made it grow has been consumed.
    private func keepLeftover<T: Transport & ~Copyable>(of input: ByteBuffer, in connection: Connection<T>) {
        if input === scratchInput {
            guard !input.isEmpty else { return }
            connection.input = input.withReadableBytes { ByteBuffer(copying: $0, minimumCapacity: 2048) }
            input.clear()
        } else if input.isEmpty {
            connection.input = nil
        } else if input.capacity > Self.readSize && input.readableCount <= Self.readSize / 2 {
            // At most half full after shrinking, so the next reads do not grow it straight back.
            input.shrink(toCapacity: Self.readSize)
        }
    }
}
