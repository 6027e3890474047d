// ConnectionService: what every model asks of a wire protocol. The reactor
// calls it when a socket is ready; the blocking models call it after their
// blocking wait. HTTP (ConnectionDriver) and the line protocol (LineDriver)
// are its two implementations; the event loop is generic over it, so the
// HTTP path is specialised and pays nothing for the choice. Its requirements
// are generic over the connection's transport rather than tied to one by an
// associated type: one driver (one set of scratch buffers per worker) can then
// serve plain and TLS connections alike, each call specialised for its transport.
import HTTP1
import ServerSystem

package protocol ConnectionService: AnyObject {
    /// The socket is readable (or a blocking wait says bytes arrived): serve what came.
    func readable<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus
    /// The socket is writable: send pending output, then go back to reading.
    func writable<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus
    /// The client took too long: answer `status` if a request had started, then close.
    func timedOut<T: Transport & ~Copyable>(_ connection: Connection<T>, answering status: HTTPStatus) -> ConnectionStatus
    /// A graceful drain begins: from now on each connection ends after its current answer.
    func beginDrain()
    /// Ends a connection that waits between requests, during a drain, without a reset.
    func closeIdle<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus
    /// Where deferred handler work posts its answers, if this protocol defers any.
    var deferredCompletions: CompletionQueue? { get }
    /// Delivers a deferred answer, moving its response out; nil when it is stale and was dropped.
    func complete<T: Transport & ~Copyable>(_ connection: Connection<T>, with completion: inout Completion) -> ConnectionStatus?
    /// A streamed body's consumer or producer nudged the connection; nil when it was not waiting.
    func resume<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus?
}

extension ConnectionDriver {
    package var deferredCompletions: CompletionQueue? { deferral?.completions }
}

/// The line protocol answers every line inline: it never defers.
extension LineDriver {
    package var deferredCompletions: CompletionQueue? { nil }
    package func complete<T: Transport & ~Copyable>(_ connection: Connection<T>, with completion: inout Completion) -> ConnectionStatus? { nil }
    package func resume<T: Transport & ~Copyable>(_ connection: Connection<T>) -> ConnectionStatus? { nil }
}

extension ConnectionDriver: ConnectionService {}

/// The protocols a server speaks; every model speaks both.
public enum WireProtocol: String, CaseIterable, Sendable {
    /// HTTP/1.1 through the shared parser, handler and response writer.
    case http
    /// The design notes' protocol: one answer line per newline-terminated request line.
    case line
}
