// ConnectionService: what every model asks of a wire protocol. The reactor
// calls it when a socket is ready; the blocking models call it after their
// blocking wait. HTTP (ConnectionDriver) and the line protocol (LineDriver)
// are its two implementations; the event loop is generic over it, so the
// HTTP path is specialised and pays nothing for the choice.
import HTTP1

package protocol ConnectionService: AnyObject {
    /// The socket is readable (or a blocking wait says bytes arrived): serve what came.
    func readable(_ connection: Connection) -> ConnectionStatus
    /// The socket is writable: send pending output, then go back to reading.
    func writable(_ connection: Connection) -> ConnectionStatus
    /// The client took too long: answer `status` if a request had started, then close.
    func timedOut(_ connection: Connection, answering status: HTTPStatus) -> ConnectionStatus
    /// A graceful drain begins: from now on each connection ends after its current answer.
    func beginDrain()
    /// Ends a connection that waits between requests, during a drain, without a reset.
    func closeIdle(_ connection: Connection) -> ConnectionStatus
    /// Where deferred handler work posts its answers, if this protocol defers any.
    var deferredCompletions: CompletionQueue? { get }
    /// Delivers a deferred answer; nil when it is stale and was dropped.
    func complete(_ connection: Connection, with completion: Completion) -> ConnectionStatus?
}

extension ConnectionDriver {
    package var deferredCompletions: CompletionQueue? { deferral?.completions }
}

/// The line protocol answers every line inline: it never defers.
extension LineDriver {
    package var deferredCompletions: CompletionQueue? { nil }
    package func complete(_ connection: Connection, with completion: Completion) -> ConnectionStatus? { nil }
}

extension ConnectionDriver: ConnectionService {}

/// The protocols a server speaks; every model speaks both.
public enum WireProtocol: String, CaseIterable, Sendable {
    /// HTTP/1.1 through the shared parser, handler and response writer.
    case http
    /// The design notes' protocol: one answer line per newline-terminated request line.
    case line
}
