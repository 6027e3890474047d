// LineDriver: the design notes' own protocol. A client sends newline-terminated
// lines; each line is answered with one line naming who served it ("pid N", and
// in the thread models "pid N thread T"). A line longer than the request-line
// limit is the protocol's malformed request: it gets "error 400 line too long"
// and the connection closes, lingering like HTTP's error close so the answer
// is read rather than lost to a reset.
import HTTP1
import Logging
import ServerSystem

package final class LineDriver: ConnectionService {
    private let answer: [UInt8]
    private let maxLineBytes: Int
    private let logger: Logger
    /// One read's worth of space; a connection keeps its own buffer only for a partial line.
    private let scratchInput = ByteBuffer(capacity: LineDriver.bufferSize)
    /// Internal, not private, so tests can see it shrink back after a spike.
    let scratchOutput = ByteBuffer(capacity: LineDriver.bufferSize)
    /// Set by a graceful drain.
    private var draining = false

    static let refusal: StaticString = "error 400 line too long\n"
    /// The shared buffers' normal size. One read of short lines makes several times as
    /// much output, which grows the output buffer until it is sent; then it shrinks back.
    static let bufferSize = 16 * 1024

    /// - Parameter answer: the line sent for every request line, newline included.
    package init(answer: String, maxLineBytes: Int, logger: Logger) {
        self.answer = Array(answer.utf8)
        self.maxLineBytes = maxLineBytes
        self.logger = logger
    }

    /// "pid N\n", or "pid N thread T\n" when the serving thread is one of several.
    package static func answer(pid: Int32, thread: Int32?) -> String {
        thread.map { "pid \(pid) thread \($0)\n" } ?? "pid \(pid)\n"
    }

    package func readable<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus {
        readable(connection, via: connection.transport)
    }

    /// `readable` over any transport: generic, so the socket's case is specialised (see Transport).
    func readable<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        if connection.output != nil { return .outputPending }
        let input = connection.input ?? scratchInput
        // Read while lingering is discarded: the answer is sent, EOF is awaited.
        let read = (try? input.read(from: transport, minimum: 4096, keeping: !connection.lingering))
            ?? SocketRead(outcome: .closed, offered: 0)
        guard case .bytes(let count) = read.outcome else { return read.outcome == .wouldBlock ? .idle : .closed }
        // A full read may have left bytes behind, which in edge-triggered mode raise no new edge;
        // so may a transport that holds input of its own.
        let more: ConnectionStatus = count == read.offered || transport.hasBufferedInput ? .yielded : .idle
        if connection.lingering { return more }
        connection.madeProgress = true
        answerCompleteLines(in: input, on: connection)
        keepLeftover(of: input, in: connection)
        let status = flush(connection, via: transport)
        return status == .idle ? more : status
    }

    package func writable<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus {
        writable(connection, via: connection.transport)
    }

    func writable<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        guard connection.output != nil else { return .idle }
        let status = flush(connection, via: transport)
        // As in the HTTP driver: in edge-triggered mode the lines that arrived while the
        // answers were blocked raised no new edge, so they must be read now.
        return status == .idle ? readable(connection, via: transport) : status
    }

    /// During a drain, each connection closes after the answers to what it has sent.
    package func beginDrain() {
        draining = true
    }

    /// Nothing is owed to a connection between lines: it just closes.
    package func closeIdle<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus {
        .closed
    }

    /// A line that never ends is dropped without an answer.
    package func timedOut<T: Transport & ~Copyable>(_ connection: Connection<T>, answering status: HTTPStatus) -> ConnectionStatus {
        .closed
    }

    private func answerCompleteLines<T: Transport & ~Copyable>(in input: ByteBuffer, on connection: Connection<T>) {
        while let end = input.withReadableBytes({ $0.firstIndex(of: UInt8(ascii: "\n")) }) {
            scratchOutput.append(answer)
            input.consume(end + 1)
            connection.requestsServed &+= 1
        }
        if draining && connection.requestsServed > 0 {
            input.clear()
            connection.closeAfterFlush = true
            return
        }
        guard input.readableCount > maxLineBytes else { return }
        scratchOutput.append(Self.refusal)
        input.clear()
        connection.closeAfterFlush = true
    }

    private func keepLeftover<T: Transport & ~Copyable>(of input: ByteBuffer, in connection: Connection<T>) {
        if input === scratchInput {
            guard !input.isEmpty else { return }
            connection.input = input.withReadableBytes { ByteBuffer(copying: $0, minimumCapacity: 1024) }
            input.clear()
        } else if input.isEmpty {
            connection.input = nil
        }
    }

    private func flush<T: Transport & ~Copyable>(_ connection: Connection<T>, via transport: borrowing T) -> ConnectionStatus {
        let output = connection.output ?? scratchOutput
        defer {
            scratchOutput.clear(shrinkingTo: Self.bufferSize)
            connection.settlePhase()
        }
        while !output.isEmpty {
            let outcome = (try? output.withReadableBytes { try transport.write($0, moreFollows: false) }) ?? .closed
            switch outcome {
            case .wrote(let count):
                output.consume(count)
                connection.madeProgress = true
            case .closed:
                return .closed
            case .wouldBlock:
                if output === scratchOutput { connection.output = output.withReadableBytes { ByteBuffer(copying: $0) } }
                return .outputPending
            }
        }
        connection.output = nil
        guard connection.closeAfterFlush, !connection.lingering else { return .idle }
        connection.phase = .lingering
        connection.input = nil
        transport.shutdownWrite()
        return .idle
    }
}
