// Transport: how a connection moves bytes. The plain socket is the first case;
// TLS is the next (a later issue). Code that moves bytes is generic over it
// (`<T: Transport>`), so each case is specialised at compile time: no
// existential box and no witness-table call per read or write on the hot path.
// Two things a TLS transport knows that epoll cannot: decrypted bytes it holds
// in user space (`hasBufferedInput`), and a call that is blocked on the other
// direction than its own (`awaitedReadiness`). The socket has neither.

/// A connected byte stream a connection reads from and writes to.
/// `@usableFromInline`, as Socket is, so the socket's witnesses can be inlined into the
/// specialised request cycle in the Server target instead of called through a thunk.
@usableFromInline
package protocol Transport: ~Copyable {
    /// The descriptor the event loop registers with epoll.
    var fd: Int32 { get }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome
    /// Sends bytes; `moreFollows` lets a transport hold them back for the next send (MSG_MORE).
    func write(_ bytes: UnsafeRawBufferPointer, moreFollows: Bool) throws(SystemError) -> WriteOutcome
    /// Sends up to `count` bytes of the open file `file` from `offset`, advancing `offset` by what was sent.
    /// A transport that must transform bytes (TLS) reads the file itself; the socket lets the kernel copy it.
    func sendFile(from file: Int32, offset: inout Int, count: Int) throws(SystemError) -> WriteOutcome
    func shutdownWrite()
    /// The connection ends once the output now pending is sent (its close or half-close
    /// follows in the same turn): a transport may hold the last partial packet for the FIN
    /// (MSG_MORE). Nothing waits on it: the close pushes what was held.
    func closeFollowsOutput()
    func resetOnClose()
    func close()
    /// Input already taken off the socket and held in user space (a TLS record decrypted
    /// past what the last read asked for). epoll reports only the socket's queue, so a
    /// reader that stops at a short read ("the queue is empty") must go on while this is true.
    var hasBufferedInput: Bool { get }
    /// The readiness the transport's last blocked call waits for when it is not that call's
    /// own: SSL_read can need the socket writable (SSL_ERROR_WANT_WRITE, a key update or
    /// renegotiation record to send) and SSL_write readable (SSL_ERROR_WANT_READ). nil: a
    /// read waits for readable and a write for writable, as the connection's phase says.
    var awaitedReadiness: Readiness? { get }
    /// Whether a file body's bytes pass through user space on their way out (TLS without
    /// kernel TLS reads and encrypts them): then a small one costs no more read into the
    /// output behind its head, where pipelined answers share one write, than sent by itself.
    var copiesFileBodies: Bool { get }
}

/// A direction of readiness a transport can wait for.
@usableFromInline
package enum Readiness: Equatable {
    case readable
    case writable
}

extension Transport where Self: ~Copyable {
    /// The kernel holds every byte not yet read: nothing is buffered above it.
    @inlinable package var hasBufferedInput: Bool { false }
    /// Reads wait for readable, writes for writable.
    @inlinable package var awaitedReadiness: Readiness? { nil }
    /// Each write leaves as it is made.
    @inlinable package func closeFollowsOutput() {}
    /// sendfile(2) carries file bodies from the page cache to the socket.
    @inlinable package var copiesFileBodies: Bool { false }
}

extension Socket: Transport {}
